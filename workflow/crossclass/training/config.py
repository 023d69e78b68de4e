"""Training configuration (Appendix D.1 defaults) and the epochs whose checkpoints are kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crossclass.errors import UserError


@dataclass(frozen=True)
class TrainConfig:
    """One SGD run. Defaults are the paper's (Appendix D.1) except `epochs`, which the paper
    sets per dataset (200 MNIST/FashionMNIST, 350 CIFAR and every MLP).

    lr: initial learning rate; divided by 1/gamma at each fraction in `milestones` of `epochs`.
    keep: epochs (0 = initialisation) whose checkpoints are kept; the final epoch always is,
        unless metrics_only: then no checkpoint outlives the run (a sweep run: training is
        deterministic, so the selected rate is retrained to get its checkpoints).
    eval_every: train and test metrics (eval mode) every this many epochs (and always at the
        last epoch).
    resume_interval: seconds between rolling resume checkpoints (last.pt); 0 writes one every
        epoch. A resumed run is bitwise identical whichever epoch it resumes from, so this only
        trades the work lost at a kill against checkpoint I/O (which dominates tiny epochs).
    device: "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
    """

    lr: float
    epochs: int = 200
    batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: tuple[float, ...] = (1 / 3, 2 / 3)
    gamma: float = 0.1
    seed: int = 0
    keep: tuple[int, ...] = ()
    eval_every: int = 1
    resume_interval: float = 60.0
    device: str = "auto"
    progress: bool = True
    metrics_only: bool = False

    def __post_init__(self):
        checks = [
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be at least 1, got {self.batch_size}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, got {self.weight_decay}"),
            (all(0 < f < 1 for f in self.milestones),
             f"milestones are fractions of the epochs in (0, 1), got {self.milestones}"),
            (0 < self.gamma <= 1, f"gamma must be in (0, 1], got {self.gamma}"),
            (all(0 <= e <= self.epochs for e in self.keep),
             f"checkpoint epochs must lie in [0, {self.epochs}], got {self.keep}"),
            (self.eval_every >= 1, f"eval_every must be at least 1, got {self.eval_every}"),
            (self.resume_interval >= 0,
             f"resume interval must be >= 0 seconds, got {self.resume_interval}"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        object.__setattr__(self, "milestones", tuple(float(f) for f in self.milestones))
        kept = set() if self.metrics_only else {int(e) for e in self.keep} | {self.epochs}
        object.__setattr__(self, "keep", tuple(sorted(kept)))

    def as_dict(self) -> dict:
        """Plain JSON-able dict of every field."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def run_identity(self) -> dict:
        """The fields that determine the trained weights (a resumed run must match them)."""
        d = self.as_dict()
        for k in ("device", "progress", "keep", "eval_every", "resume_interval", "metrics_only"):
            d.pop(k)
        return d


def log_spaced_epochs(count: int, epochs: int) -> tuple[int, ...]:
    """`min(count, epochs)` distinct epochs in [1, epochs], log-spaced, always containing 1 and
    `epochs` (the checkpoint grid for the training-dynamics figure)."""
    if count < 1:
        raise UserError(f"number of checkpoints must be at least 1, got {count}")
    count = min(count, epochs)
    if count == 1:
        return (epochs,)
    k = count
    while True:
        grid = np.unique(np.round(np.geomspace(1, epochs, k)).astype(int))
        if len(grid) >= count:
            break
        k += 1
    # keep both ends, thin the interior evenly to exactly `count`
    pick = np.round(np.linspace(0, len(grid) - 1, count)).astype(int)
    return tuple(int(e) for e in grid[pick])


def checkpoint_epochs(spec: Sequence[int] | int, epochs: int) -> tuple[int, ...]:
    """Epochs to keep: an explicit list, or an int count for `log_spaced_epochs`."""
    if isinstance(spec, int):
        return log_spaced_epochs(spec, epochs)
    return tuple(sorted({int(e) for e in spec}))
