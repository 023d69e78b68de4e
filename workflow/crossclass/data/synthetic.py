"""Synthetic data: a Gaussian mixture (Sagun et al. 2017) and the CCM of section 8.

gmm: C class means mu_c ~ N(0, (separation^2 / D) I_D), so ||mu_c|| is about `separation`
  whatever D; examples x = mu_c + noise * z, z ~ N(0, I_D). Means, then train, then test are
  drawn from one torch.Generator seeded with `seed`; n_train_per_class / n_test_per_class per
  class, class-major order. Inputs (N, D), not standardised (the model is the point).
ccm: CCM(D, C) of Definition 8.1, x_{i,c} = t e_c + z_{i,c}, sampled by crossclass.mlr.sample_ccm;
  train and test use two seeds spawned from `seed` (numpy SeedSequence).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from crossclass.data.base import ArraySplits
from crossclass.errors import UserError
from crossclass.mlr import sample_ccm


def _check_sizes(name: str, **sizes: int) -> None:
    for key, value in sizes.items():
        if value < 1:
            raise UserError(f"{name}: {key} must be a positive integer, got {value}")


def gmm(root: Path | None = None, download: bool = False, *, num_classes: int = 10,
        dim: int = 100, n_train_per_class: int = 500, n_test_per_class: int = 200,
        separation: float = 3.0, noise: float = 1.0, seed: int = 0) -> ArraySplits:
    """Balanced Gaussian-mixture data, (N, dim) inputs (root, download unused)."""
    _check_sizes("gmm", num_classes=num_classes, dim=dim, n_train_per_class=n_train_per_class,
                 n_test_per_class=n_test_per_class)
    if num_classes < 2:
        raise UserError(f"gmm: num_classes must be at least 2, got {num_classes}")
    gen = torch.Generator().manual_seed(seed)
    means = torch.randn(num_classes, dim, generator=gen, dtype=torch.float64)
    means *= separation / dim ** 0.5

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.arange(num_classes).repeat_interleave(n)
        x = means[y] + noise * torch.randn(y.numel(), dim, generator=gen, dtype=torch.float64)
        return x.to(torch.float32), y

    x_train, y_train = draw(n_train_per_class)
    x_test, y_test = draw(n_test_per_class)
    return ArraySplits("gmm", x_train, y_train, x_test, y_test, num_classes)


def ccm(root: Path | None = None, download: bool = False, *, num_classes: int = 10,
        dim: int = 100, t: float = 3.0, n_train_per_class: int = 500,
        n_test_per_class: int = 200, seed: int = 0) -> ArraySplits:
    """CCM(D = dim, C = num_classes) with signal-to-noise t, (N, dim) inputs, class-major."""
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(2)]
    splits = []
    for n, split_seed in zip((n_train_per_class, n_test_per_class), seeds, strict=True):
        splits += sample_ccm(dim, num_classes, n, t=t, seed=split_seed, dtype=torch.float32)
    return ArraySplits("ccm", *splits, num_classes)
