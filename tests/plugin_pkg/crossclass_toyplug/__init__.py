"""An out-of-tree crossclass plugin package used by the tests: one dataset and one network,
registered through its own entry points (crossclass_toyplug-0.1.dist-info/entry_points.txt),
found when tests/plugin_pkg is on sys.path."""

from __future__ import annotations

import math

import torch
from crossclass.data import ArraySplits
from torch import nn


def blobs(root, download: bool = False, classes: int = 4, per_class: int = 32,
          shape: tuple = (3, 8, 8), test_per_class: int = 16, seed: int = 0) -> ArraySplits:
    """Gaussian blobs: class c is mean_c + noise, inputs of `shape`, float32; no files used."""
    gen = torch.Generator().manual_seed(seed)
    means = 2 * torch.randn(classes, *shape, generator=gen)

    def split(n: int):
        y = torch.arange(classes).repeat_interleave(n)
        return means[y] + torch.randn(len(y), *shape, generator=gen), y

    x_train, y_train = split(per_class)
    x_test, y_test = split(test_per_class)
    return ArraySplits("blobs", x_train, y_train, x_test, y_test, classes)


def tiny(in_shape: tuple, num_classes: int, hidden: int = 16) -> nn.Sequential:
    """Flatten -> Linear -> BatchNorm1d -> ReLU -> Linear."""
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), hidden),
                         nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
