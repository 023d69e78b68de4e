"""Training as in Appendix D: SGD (momentum 0.9, weight decay 5e-4, batch 128), learning rate
divided by 10 at 1/3 and 2/3 of the epochs, atomic resumable checkpoints, per-epoch metrics
in a Zarr store, and the learning-rate sweep and selection."""

from crossclass.training.checkpoint import load_checkpoint, load_trained, save_checkpoint
from crossclass.training.config import TrainConfig, checkpoint_epochs, log_spaced_epochs
from crossclass.training.loop import TrainResult, evaluate, fit, train_epoch
from crossclass.training.schedule import lr_at, make_optimizer, milestone_epochs
from crossclass.training.selection import final_metrics, select_lr, write_choice

__all__ = [
    "TrainConfig", "TrainResult", "checkpoint_epochs", "evaluate", "final_metrics", "fit",
    "load_checkpoint", "load_trained", "log_spaced_epochs", "lr_at",
    "make_optimizer", "milestone_epochs", "save_checkpoint", "select_lr", "train_epoch",
    "write_choice",
]
