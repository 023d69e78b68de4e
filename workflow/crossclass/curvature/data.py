"""A labelled data split (X, y) looped over in large batches on the model's device.

X has shape (N, ...) and y shape (N,) with int64 class labels in [0, C). The data stays where
it is (usually CPU memory); each batch is moved to the model's device and, when floating point,
cast to the model's dtype. A split may be one process's shard of a larger one
(`crossclass.curvature.distributed.ShardedData`): averages then divide by the N and the class
counts of `whole`, and `all_sum` adds a per-shard sum over the processes (the identity here).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from crossclass.errors import UserError
from crossclass.progress import track


@dataclass(frozen=True)
class LabeledData:
    """A train or test split: X (N, ...), y (N,) int64, looped over in batches of batch_size."""

    X: torch.Tensor
    y: torch.Tensor
    batch_size: int = 1024

    def __post_init__(self) -> None:
        if self.y.ndim != 1 or self.y.dtype != torch.int64:
            raise UserError(f"labels y must be a 1-d int64 tensor, got shape {tuple(self.y.shape)} "
                            f"and dtype {self.y.dtype}")
        if self.X.ndim < 1 or self.X.shape[0] != self.y.shape[0]:
            raise UserError(f"X has {self.X.shape[0] if self.X.ndim else 0} examples but y has "
                            f"{self.y.shape[0]}")
        if self.y.numel() == 0:
            raise UserError("the data split is empty")
        if int(self.batch_size) < 1:
            raise UserError(f"batch_size must be a positive integer, got {self.batch_size}")
        if int(self.y.min()) < 0:
            raise UserError(f"class labels must be non-negative, got {int(self.y.min())}")

    @property
    def N(self) -> int:
        """Examples held here (looped over by `batches`)."""
        return int(self.y.shape[0])

    @property
    def whole(self) -> LabeledData:
        """The split that averages run over: this one (a shard returns the sharded split)."""
        return self

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        """A sum over this split's examples, summed over all shards in place: the identity."""
        return t

    def check_labels(self, num_classes: int) -> None:
        """UserError unless every label of the whole split lies in [0, num_classes)."""
        top = int(self.whole.y.max())
        if top >= num_classes:
            raise UserError(f"label {top} is out of range for a model with "
                            f"{num_classes} outputs")

    def samples_per_class(self, num_classes: int) -> int:
        """n of a balanced whole split (every class has n examples); UserError otherwise."""
        self.check_labels(num_classes)
        counts = torch.bincount(self.whole.y, minlength=num_classes)
        if bool((counts != counts[0]).any()) or int(counts[0]) == 0:
            raise UserError(f"the extended-gradient decomposition needs balanced classes; "
                            f"examples per class are {counts.tolist()}")
        return int(counts[0])

    def batches(
        self,
        device: torch.device,
        dtype: torch.dtype,
        *,
        by_class: bool = False,
        progress: bool = False,
        desc: str = "batches",
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (X_b (B, ...), y_b (B,)) on `device`; by_class visits examples sorted by label."""
        order = torch.argsort(self.y, stable=True) if by_class else None
        starts = range(0, self.N, int(self.batch_size))
        for start in track(starts, desc, progress=progress, unit="batch"):
            stop = min(start + int(self.batch_size), self.N)
            idx = slice(start, stop) if order is None else order[start:stop]
            Xb, yb = self.X[idx], self.y[idx]
            Xb = Xb.to(device=device, dtype=dtype) if Xb.is_floating_point() else Xb.to(device)
            yield Xb, yb.to(device)
