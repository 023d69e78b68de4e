"""Closed forms for the expected FIM on CCM(D, C): Theorem 8.1 (multiplicities: docs/mlr.md)
and the Monte-Carlo error of the sampled G.

Setting: multinomial logistic regression f(x) = W x on CCM(D, C) data x = t e_c + z,
z ~ N(0, I_D); s = t^2 is the squared signal-to-noise ratio; the predicted probabilities are
symmetric (Definition 8.2): 1 - alpha for the true class and alpha / (C - 1) for each other
class, alpha in [0, (C-1)/C] being the misclassification rate.
"""

from __future__ import annotations

import torch

from crossclass.errors import UserError
from crossclass.mlr.ccm import check_alpha, check_ccm_shape, symmetric_probabilities
from crossclass.mlr.fim import class_block


def _check(D: int, C: int, alpha: float, s: float) -> None:
    check_ccm_shape(D, C)
    check_alpha(C, alpha)
    if not s >= 0:
        raise UserError(f"s = t^2 must be >= 0, got s={s}")


def expected_fim_spectrum(
    D: int, C: int, alpha: float, s: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Theorem 8.1: the distinct eigenvalue groups of E G (DC x DC) and their multiplicities.

    With K = 2 - alpha C / (C - 1) (the common "bulk" factor):
      alpha/(C-1) (s (1 - alpha) + K)   x C             (outliers: class means)
      alpha/(C-1) (s / C + K)           x C (C - 2)     (mini-bulk: cross-class)
      alpha/(C-1) K                     x (D - C)(C - 1) (main bulk)
      0                                 x D
    Returns values (4,) float64 in that order and multiplicities (4,) int64 summing to D C
    (a group may have multiplicity 0: C = 2 or D = C). With 1 - alpha >= 1/C the values are
    non-increasing.
    """
    _check(D, C, alpha, s)
    K = 2.0 - alpha * C / (C - 1)
    a = alpha / (C - 1)
    values = torch.tensor([a * (s * (1 - alpha) + K), a * (s / C + K), a * K, 0.0],
                          dtype=torch.float64)
    mults = torch.tensor([C, C * (C - 2), (D - C) * (C - 1), D], dtype=torch.int64)
    return values, mults


def expected_fim_eigenvalues(D: int, C: int, alpha: float, s: float) -> torch.Tensor:
    """All D C eigenvalues of E G (Theorem 8.1), sorted descending (lambda_1 first), float64."""
    values, mults = expected_fim_spectrum(D, C, alpha, s)
    return torch.repeat_interleave(values, mults).sort(descending=True).values


def monte_carlo_fim_mse(D: int, C: int, n_per_class: int, alpha: float, s: float) -> float:
    """E ||G_n - E G||_F^2 for G_n = fim.monte_carlo_fim on n_per_class Gaussian CCM samples.

    G_n - E G = (1/C) sum_c (M_c - E M_c) (x) U_c with M_c the class-c second moment; classes are
    independent, ||A (x) U||_F = ||A||_F ||U||_F and E ||x x^T - E x x^T||_F^2 =
    E||x||^4 - ||s e_c e_c^T + I||_F^2 = (D + 1)(D + 2 s), hence
        E ||G_n - E G||_F^2 = ||U_1||_F^2 (D + 1)(D + 2 s) / (C n)    (all ||U_c||_F equal),
    i.e. the root-mean-square error falls exactly like n^{-1/2}.
    """
    _check(D, C, alpha, s)
    if n_per_class < 1:
        raise UserError(f"n_per_class must be >= 1, got {n_per_class}")
    U1 = class_block(symmetric_probabilities(C, alpha)[0])
    return float(U1.square().sum()) * (D + 1) * (D + 2 * s) / (C * n_per_class)
