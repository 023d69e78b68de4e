"""Spectral densities from Ritz pairs: Normalization (Alg. 4), LanczosApproxSpec (Alg. 3) and
the corrected log-spectrum estimator (C.7, corrected: docs/linalg.md).

A density is a mixture of Gaussian bumps g_sigma centred at nodes x_m with weights w_m
(y_m[1]^2, averaged over start vectors), evaluated on K points of an interval [lo, hi].
sigma = 2 / ((M - 1) sqrt(8 log kappa)) is fixed in the coordinate t = (x - c) / d that maps
[lo, hi] onto [-1, 1]; the density returned is on the original axis x = c + d t, i.e.
divided by d, so it integrates to 1 in x.
  linear:  nodes theta_m, interval [lambda_min, lambda_max] widened by tau (lambda_max -
           lambda_min) on each side.
  log:     nodes u_m = log(|theta_m| + eps) with the plain weights y_m[1]^2 (the paper's
           1/theta factor is an erratum), interval u_lo = log(eps + max(lambda_min, 0)),
           u_hi = log(eps + max|lambda|), widened by tau (u_hi - u_lo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from crossclass.errors import UserError
from crossclass.linalg.lanczos import RitzPairs, fast_lanczos
from crossclass.linalg.operator import LinearOperator


@dataclass(frozen=True)
class SpectralBounds:
    """Estimated extreme eigenvalues lambda_min <= lambda_max (no margin)."""

    lambda_min: float
    lambda_max: float

    def cover(self, values: torch.Tensor) -> SpectralBounds:
        """The bounds widened to contain `values` (e.g. every Ritz value of a later run)."""
        return SpectralBounds(min(self.lambda_min, float(values.min())),
                              max(self.lambda_max, float(values.max())))

    def interval(self, tau: float) -> tuple[float, float]:
        """[lambda_min - Delta, lambda_max + Delta], Delta = tau (lambda_max - lambda_min);
        a degenerate interval (one eigenvalue) gets half-width max(tau |lambda|, 1e-12)."""
        lo, hi = self.lambda_min, self.lambda_max
        delta = tau * (hi - lo)
        if delta <= 0:
            delta = max(tau * abs(hi), 1e-12)
        return lo - delta, hi + delta

    def log_interval(self, tau: float, eps: float) -> tuple[float, float]:
        """Margin-widened [u_lo, u_hi], u_lo = log(eps + max(lambda_min, 0)),
        u_hi = log(eps + max(|lambda_min|, |lambda_max|))."""
        u_lo = math.log(eps + max(self.lambda_min, 0.0))
        u_hi = math.log(eps + max(abs(self.lambda_min), abs(self.lambda_max)))
        return SpectralBounds(u_lo, u_hi).interval(tau)


def normalization(
    op: LinearOperator,
    M0: int = 32,
    *,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> SpectralBounds:
    """Normalization (Alg. 4, corrected): FastLanczos for M0 steps from one random vector;
    lambda_min = theta_1 - beta_M0 |y_1[M0]|, lambda_max = theta_M0 + beta_M0 |y_M0[M0]|
    (the Ritz residual bound). The margin tau is applied by `SpectralBounds.interval`."""
    M0 = min(M0, op.shape[0])
    start = torch.randn(op.shape[0], 1, generator=generator, dtype=torch.float64)
    return block_bounds(fast_lanczos(op, M0, start, generator=generator,
                                     progress=progress).ritz())


def block_bounds(ritz: RitzPairs) -> SpectralBounds:
    """Alg. 4's bounds from the Ritz pairs of any run, over all its rows (start vectors):
    lambda_min = min theta_1 - beta_M |y_1[M]|, lambda_max = max theta_M + beta_M |y_M[M]|."""
    lower = ritz.theta[:, 0] - ritz.residuals[:, 0]
    upper = ritz.theta[:, -1] + ritz.residuals[:, -1]
    return SpectralBounds(float(lower.min()), float(upper.max()))


def lanczos_sigma(M: int, kappa: float) -> float:
    """Bump width in normalised units, sigma = 2 / ((M - 1) sqrt(8 log kappa))."""
    if kappa <= 1:
        raise UserError(f"kappa must be > 1, got {kappa}")
    if M < 2:
        raise UserError(f"the bump width needs M >= 2, got {M}")
    return 2.0 / ((M - 1) * math.sqrt(8.0 * math.log(kappa)))


def gaussian_mixture(
    nodes: torch.Tensor, weights: torch.Tensor, lo: float, hi: float, *, K: int, sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid (K,) on [lo, hi] and density (K,) = mean over rows of sum_m w_m g_sigma(t - t_m)
    / d in normalised t = (x - c) / d, for nodes, weights (n, M) in the x coordinate."""
    if K < 2:
        raise UserError(f"the density needs K >= 2 grid points, got {K}")
    c, d = (hi + lo) / 2, (hi - lo) / 2
    nodes = nodes.detach().to("cpu", torch.float64).reshape(-1)
    weights = weights.detach().to("cpu", torch.float64).reshape(-1) / (
        weights.numel() // weights.shape[-1])
    t = torch.linspace(-1.0, 1.0, K, dtype=torch.float64)
    density = torch.zeros(K, dtype=torch.float64)
    for start in range(0, nodes.numel(), 4096):
        z = (t[:, None] - (nodes[None, start:start + 4096] - c) / d) / sigma
        density += torch.exp(-0.5 * z**2) @ weights[start:start + 4096]
    density /= sigma * math.sqrt(2 * math.pi) * d
    return c + d * t, density


def lanczos_approx_spec(
    ritz: RitzPairs, bounds: SpectralBounds, *, K: int = 1024, sigma: float, tau: float = 0.05
) -> tuple[torch.Tensor, torch.Tensor]:
    """LanczosApproxSpec (Alg. 3): density of the spectrum on K points of the margin-widened
    [lambda_min, lambda_max], averaged over the start vectors; integrates to 1 in lambda."""
    lo, hi = bounds.interval(tau)
    return gaussian_mixture(ritz.theta, ritz.weights, lo, hi, K=K, sigma=sigma)


def log_spectrum(
    ritz: RitzPairs, bounds: SpectralBounds, *, eps: float, K: int = 1024, sigma: float,
    tau: float = 0.05, sign: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Density of u = log(|lambda| + eps) (corrected C.7): bumps at log(|theta_m| + eps)
    with the plain weights y_m[1]^2; integrates to 1 in u. sign=+1 (-1) keeps only the
    bumps of positive (negative) Ritz values: the two signed parts, each integrating to its
    share of the spectral mass, sum to the sign=0 density."""
    if eps <= 0:
        raise UserError(f"the log-spectrum needs eps > 0, got {eps}")
    if sign not in (-1, 0, 1):
        raise UserError(f"sign must be -1, 0 or 1, got {sign}")
    lo, hi = bounds.log_interval(tau, eps)
    weights = ritz.weights if not sign else ritz.weights * (ritz.theta * sign > 0)
    return gaussian_mixture(torch.log(ritz.theta.abs() + eps), weights, lo, hi, K=K,
                            sigma=sigma)
