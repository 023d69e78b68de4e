"""The canonical classification model CCM(D, C) (Definition 8.1) and symmetric probabilities
(Definition 8.2).

Data: x_{i,c} = t e_c + z_{i,c}, z_{i,c} ~ N(0, I_D), c = 1..C, i = 1..n, with e_c the c-th
canonical vector of R^D (so D >= C) and t the signal-to-noise ratio; s = t^2 appears in
Lemma 8.1 and Theorem 8.1.
Symmetric probabilities: the classifier's probability vector for every example of class c is
p_{.,c} with entry 1 - alpha at c and alpha / (C - 1) elsewhere; alpha is the misclassification
rate, 0 <= alpha <= (C - 1) / C (i.e. 1/C <= 1 - alpha <= 1).
"""

from __future__ import annotations

import math

import torch

from crossclass.errors import UserError


def check_ccm_shape(D: int, C: int) -> None:
    """One-line UserError unless C >= 2 classes fit as canonical means in R^D (D >= C)."""
    if int(C) != C or C < 2:
        raise UserError(f"CCM needs an integer number of classes C >= 2, got C={C}")
    if int(D) != D or D < C:
        raise UserError(f"CCM needs an integer dimension D >= C (class means are e_1..e_C), "
                        f"got D={D}, C={C}")


def check_alpha(C: int, alpha: float) -> None:
    """One-line UserError unless 0 <= alpha <= (C-1)/C (Definition 8.2's 1/C <= 1-alpha <= 1)."""
    if not (math.isfinite(alpha) and 0.0 <= alpha <= (C - 1) / C):
        raise UserError(f"alpha must satisfy 0 <= alpha <= (C-1)/C = {(C - 1) / C:.6g} "
                        f"(1/C <= 1-alpha <= 1), got alpha={alpha}")


def sample_ccm(
    D: int,
    C: int,
    n_per_class: int,
    *,
    t: float = 1.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample CCM(D, C): x_{i,c} = t e_c + z_{i,c}, z_{i,c} ~ N(0, I_D).

    D: dimension (>= C); C: classes; n_per_class: examples per class (the paper's N);
    t: signal-to-noise ratio (s = t^2); seed: the draw is a pure function of the seed (a CPU
    torch.Generator, so CPU and CUDA get the same numbers), then moved to `device`.
    Returns X of shape (C * n_per_class, D) and y of shape (C * n_per_class,) int64, grouped by
    class: rows c * n_per_class ... (c + 1) * n_per_class - 1 have label c.
    """
    check_ccm_shape(D, C)
    if int(n_per_class) != n_per_class or n_per_class < 1:
        raise UserError(f"n_per_class must be a positive integer, got {n_per_class}")
    if not math.isfinite(t):
        raise UserError(f"the signal-to-noise ratio t must be finite, got t={t}")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    N = C * n_per_class
    y = torch.arange(C, dtype=torch.int64).repeat_interleave(n_per_class)
    X = torch.randn(N, D, generator=gen, dtype=torch.float64)
    X[torch.arange(N), y] += float(t)
    return X.to(dtype=dtype, device=device), y.to(device)


def symmetric_probabilities(
    C: int, alpha: float, *, dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """The (C, C) matrix whose row c is p_{.,c} of Definition 8.2 (1-alpha on the diagonal,
    alpha/(C-1) off it). Index it with labels, `P[y]`, to get per-example probabilities (N, C).
    """
    if int(C) != C or C < 2:
        raise UserError(f"symmetric probabilities need C >= 2 classes, got C={C}")
    check_alpha(C, alpha)
    P = torch.full((C, C), alpha / (C - 1), dtype=dtype, device=device)
    P.fill_diagonal_(1.0 - alpha)
    return P
