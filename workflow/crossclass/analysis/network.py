"""The analysed network: one trained checkpoint on one split of its subset store.

`load_network(checkpoint, subset, root, split, ...)` rebuilds the model in eval mode (BatchNorm
on running statistics, Appendix D.3) from `<run>/checkpoints/epoch_EEEE.pt`, loads the split
(X (N, ...), y (N,)) of the subset store, adapted to the net's input size for convolutional
nets, and records the store keys (dataset, net, n_per_class, epoch, split) and the weight decay
eta of the training run (the weights section needs it), and the eval-mode train / test loss and
error that the training history recorded at the checkpoint's epoch (NaN at epoch 0).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from crossclass import plugins
from crossclass.curvature import LabeledData, ModelFunction
from crossclass.data import load_subset
from crossclass.errors import UserError
from crossclass.run_layout import checkpoint_advice
from crossclass.training.checkpoint import load_checkpoint, trained_model
from crossclass.training.inputs import splits_for

SPLITS = ("train", "test")
TRAINING_METRICS = ("train_loss", "train_error", "test_loss", "test_error")


@dataclass
class Network:
    """model (eval mode) and data (LabeledData of the split) on one device and dtype.

    keys: dataset, net, n_per_class, epoch, split. eta: the run's weight decay.
    metrics: train_loss, train_error, test_loss, test_error of the checkpoint's epoch (eval mode).
    params: everything that chose the model and data (recorded in every store).
    """

    model: torch.nn.Module
    data: LabeledData
    num_classes: int
    eta: float
    keys: dict
    params: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def function(self, params=None) -> ModelFunction:
        """The logits as a function of the selected parameters (all by default)."""
        return ModelFunction(self.model, params)


def load_network(checkpoint: str | os.PathLike, subset: str | os.PathLike,
                 root: str | os.PathLike, split: str, *, batch_size: int,
                 device: str | torch.device = "cpu", float64: bool = False) -> Network:
    """The model of `checkpoint` (float64 if asked) on `device` and the `split` of `subset`."""
    if split not in SPLITS:
        raise UserError(f"--split must be one of {SPLITS}, got {split!r}")
    if batch_size < 1:
        raise UserError(f"batch size must be positive, got {batch_size}")
    state = load_checkpoint(checkpoint, advice=checkpoint_advice(checkpoint))
    model, meta = trained_model(state, device)
    if float64:
        model = model.double()
    splits = splits_for(plugins.load(plugins.NETWORKS, meta["net"]),
                        load_subset(subset, root))
    if splits.num_classes != meta["num_classes"]:
        raise UserError(f"{subset} has {splits.num_classes} classes but the network of "
                        f"{checkpoint} has {meta['num_classes']} outputs")
    X, y = (splits.x_train, splits.y_train) if split == "train" else (splits.x_test,
                                                                        splits.y_test)
    keys = {"dataset": meta["dataset"], "net": meta["net"],
            "n_per_class": int(meta["n_per_class"]), "epoch": int(state["epoch"]),
            "split": split}
    params = {"checkpoint": str(Path(checkpoint)), "subset": str(Path(subset)), "split": split,
              "batch_size": int(batch_size), "float64": bool(float64)}
    return Network(model=model, data=LabeledData(X, y, batch_size=int(batch_size)),
                   num_classes=int(meta["num_classes"]),
                   eta=float(state["config"]["weight_decay"]), keys=keys, params=params,
                   metrics=epoch_metrics(state))


def epoch_metrics(state: dict) -> dict:
    """The eval-mode train/test loss and error of a checkpoint's epoch from its history."""
    epoch, history = int(state["epoch"]), state["history"]
    return {k: float(history[k][epoch - 1]) if epoch >= 1 and len(history.get(k, [])) >= epoch
            else math.nan for k in TRAINING_METRICS}
