"""The dataset contract: `ArraySplits`, what every dataset plugin returns.

A dataset plugin is a callable `(root: Path, download: bool = False, **options) -> ArraySplits`
registered in the entry-point group `crossclass.datasets` (see crossclass.plugins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from crossclass.errors import UserError


@dataclass(frozen=True)
class ArraySplits:
    """A train and a test split held in memory.

    x_train: (N, *input_shape) float32, normalised; y_train: (N,) int64 in [0, num_classes).
    x_test: (M, *input_shape) float32; y_test: (M,) int64. class_names: C names, or empty.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...] = field(default=())

    def __post_init__(self):
        splits = (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test))
        for split, x, y in splits:
            if x.dtype != torch.float32 or y.dtype != torch.int64:
                raise UserError(f"dataset {self.name!r}: {split} split must be float32 inputs and "
                                f"int64 labels, got {x.dtype} and {y.dtype}")
            if y.ndim != 1 or x.shape[0] != y.shape[0]:
                raise UserError(f"dataset {self.name!r}: {split} split has {x.shape[0]} inputs but "
                                f"labels of shape {tuple(y.shape)}")
            if y.numel() and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
                raise UserError(f"dataset {self.name!r}: {split} labels outside "
                                f"[0, {self.num_classes})")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise UserError(f"dataset {self.name!r}: train inputs {tuple(self.x_train.shape[1:])} "
                            f"and test inputs {tuple(self.x_test.shape[1:])} differ in shape")
        if self.class_names and len(self.class_names) != self.num_classes:
            raise UserError(f"dataset {self.name!r}: {len(self.class_names)} class names for "
                            f"{self.num_classes} classes")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. (1, 28, 28) or (D,)."""
        return tuple(self.x_train.shape[1:])

    def select(self, train_index: torch.Tensor, test_index: torch.Tensor) -> ArraySplits:
        """The splits restricted to the given example indices (in that order)."""
        return ArraySplits(self.name, self.x_train[train_index], self.y_train[train_index],
                           self.x_test[test_index], self.y_test[test_index], self.num_classes,
                           self.class_names)
