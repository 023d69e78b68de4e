"""scikit-learn's bundled 8x8 digits (1797 images, C = 10): the embedded default, no download.

The split is stratified and seeded: in each class a `test_fraction` of the examples (rounded
down) drawn with numpy's default_rng(split_seed) goes to the test split, the rest to train.
Inputs are (N, 1, 8, 8), standardised with the mean and std of the train split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from crossclass.data.base import ArraySplits
from crossclass.data.normalize import channel_stats, standardize
from crossclass.errors import UserError


def digits(root: Path | None = None, download: bool = False, *, test_fraction: float = 0.25,
           split_seed: int = 0) -> ArraySplits:
    """The digits data set with a seeded stratified train/test split (root, download unused)."""
    if not 0 < test_fraction < 1:
        raise UserError(f"digits: test_fraction must lie in (0, 1), got {test_fraction}")
    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float64).unsqueeze(1)
    labels = np.asarray(bunch.target, dtype=np.int64)
    rng = np.random.default_rng(split_seed)
    test = np.zeros(labels.shape[0], dtype=bool)
    for c in range(10):
        members = np.flatnonzero(labels == c)
        test[rng.permutation(members)[: int(test_fraction * members.size)]] = True
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    mean, std = channel_stats(images[train_idx])
    y = torch.as_tensor(labels)
    return ArraySplits(
        name="digits",
        x_train=standardize(images[train_idx], mean, std),
        y_train=y[train_idx],
        x_test=standardize(images[test_idx], mean, std),
        y_test=y[test_idx],
        num_classes=10,
        class_names=tuple(str(c) for c in bunch.target_names),
    )
