"""The one entry point for spectra: `estimate_spectrum(op) -> SpectrumEstimate`.

method="lanczos": Normalization (Alg. 4) -> optional LowRankDeflation of the top `deflate`
eigenpairs -> FastLanczos on n_vec start vectors as one block -> LanczosApproxSpec (Alg. 3)
or the corrected log-spectrum. method="exact": the same kernel density built from every
eigenvalue (weights 1/p), for small operators. Also `wasserstein1`, the W1 distance between
a gridded density and an empirical spectral measure, for tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from crossclass.errors import UserError
from crossclass.linalg.density import (
    SpectralBounds,
    lanczos_approx_spec,
    lanczos_sigma,
    log_spectrum,
    normalization,
)
from crossclass.linalg.exact import exact_eigenvalues
from crossclass.linalg.lanczos import RitzPairs, fast_lanczos
from crossclass.linalg.operator import LinearOperator
from crossclass.linalg.subspace import low_rank_deflation

METHODS = ("lanczos", "exact")


@dataclass
class SpectrumEstimate:
    """A spectral density and the quadrature it was built from.

    grid (K,): lambda, or u = log(|lambda| + eps) when log. density (K,): integrates to 1 on
    grid. ritz_values, ritz_weights (n_vec, M): nodes (in lambda) and weights y[1]^2; for
    method="exact", (1, p) with weights 1/p. lambda_min, lambda_max: the normalisation's
    bounds (widened to every Ritz value). top_eigenvalues (deflate,): the deflated
    eigenvalues. exact_eigenvalues (p,): when method="exact". density_positive,
    density_negative (K,): when log, the parts of `density` from positive and from negative
    eigenvalues (log|lambda| folds +-lambda together; these keep the sign). params: every
    parameter.
    """

    grid: torch.Tensor
    density: torch.Tensor
    ritz_values: torch.Tensor
    ritz_weights: torch.Tensor
    lambda_min: float
    lambda_max: float
    log: bool
    top_eigenvalues: torch.Tensor | None = None
    exact_eigenvalues: torch.Tensor | None = None
    density_positive: torch.Tensor | None = None
    density_negative: torch.Tensor | None = None
    params: dict = field(default_factory=dict)

    def to_dataset(self) -> xr.Dataset:
        """density on dim "grid" (coordinate "lambda" or "log_lambda"), ritz_values and
        ritz_weights on ("start_vector", "ritz"), top_eigenvalues on "top", exact_eigenvalues
        on "eigen", density_positive and density_negative on "grid" (log only); params,
        lambda_min and lambda_max in attrs."""
        coord = "log_lambda" if self.log else "lambda"
        data = {
            "density": ("grid", _np(self.density)),
            "ritz_values": (("start_vector", "ritz"), _np(self.ritz_values)),
            "ritz_weights": (("start_vector", "ritz"), _np(self.ritz_weights)),
        }
        if self.top_eigenvalues is not None:
            data["top_eigenvalues"] = ("top", _np(self.top_eigenvalues))
        if self.exact_eigenvalues is not None:
            data["exact_eigenvalues"] = ("eigen", _np(self.exact_eigenvalues))
        for name in ("density_positive", "density_negative"):
            if getattr(self, name) is not None:
                data[name] = ("grid", _np(getattr(self, name)))
        attrs = dict(self.params, lambda_min=self.lambda_min, lambda_max=self.lambda_max)
        return xr.Dataset(data, coords={coord: ("grid", _np(self.grid))}, attrs=attrs)


def _np(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


def _validate(op: LinearOperator, method: str, M: int, n_vec: int, K: int, kappa: float,
              M0: int, tau: float, eps: float | None, deflate: int) -> None:
    if not isinstance(op, LinearOperator) or not op.symmetric:
        raise UserError("estimate_spectrum needs a symmetric LinearOperator")
    if method not in METHODS:
        raise UserError(f"unknown spectrum method {method!r}; choose one of {METHODS}")
    for name, value, least in (("M", M, 2), ("n_vec", n_vec, 1), ("K", K, 2), ("M0", M0, 1)):
        if int(value) != value or value < least:
            raise UserError(f"{name} must be an integer >= {least}, got {value}")
    if kappa <= 1:
        raise UserError(f"kappa must be > 1, got {kappa}")
    if tau < 0:
        raise UserError(f"tau must be >= 0, got {tau}")
    if eps is not None and eps <= 0:
        raise UserError(f"eps must be > 0, got {eps}")
    if not 0 <= deflate < op.shape[0]:
        raise UserError(f"deflate must be in [0, {op.shape[0]}), got {deflate}")


def estimate_spectrum(
    op: LinearOperator,
    *,
    method: str = "lanczos",
    M: int = 128,
    n_vec: int = 10,
    K: int = 1024,
    kappa: float = 3.0,
    M0: int = 32,
    tau: float = 0.05,
    log: bool = False,
    eps: float | None = None,
    deflate: int = 0,
    deflate_iters: int = 128,
    seed: int = 0,
    progress: bool = True,
) -> SpectrumEstimate:
    """Spectral density of a symmetric operator (p x p), matrix-free for method="lanczos".

    M Lanczos steps on n_vec Gaussian start vectors (one (p, n_vec) block per step; memory
    O(n_vec p)), bump width sigma = 2 / ((M - 1) sqrt(8 log kappa)) in normalised units, K
    grid points, margin tau, Normalization with M0 steps. log=True: density of
    log(|lambda| + eps); eps=None means 10 * machine-eps(op.dtype) * max|lambda|, the round-off
    floor of Ritz values. deflate=k: first remove the top-k-by-magnitude eigenpairs found by
    `deflate_iters` subspace iterations (their eigenvalues move to 0). seed: all randomness.
    """
    _validate(op, method, M, n_vec, K, kappa, M0, tau, eps, deflate)
    generator = torch.Generator().manual_seed(seed)
    top = None
    if deflate:
        op, pairs = low_rank_deflation(op, deflate, deflate_iters, generator=generator,
                                       progress=progress)
        top = pairs.values
    exact = None
    if method == "exact":
        exact = exact_eigenvalues(op)
        p = exact.numel()
        ritz = RitzPairs(theta=exact[None], weights=torch.full((1, p), 1.0 / p,
                                                               dtype=torch.float64),
                         residuals=torch.zeros(1, p, dtype=torch.float64))
        bounds = SpectralBounds(float(exact[0]), float(exact[-1]))
    else:
        bounds = normalization(op, M0, generator=generator, progress=progress)
        scale = max(abs(bounds.lambda_min), abs(bounds.lambda_max)) or 1.0
        start = torch.randn(op.shape[0], n_vec, generator=generator, dtype=torch.float64)
        unit = fast_lanczos(op * (1.0 / scale), M, start, generator=generator,
                            progress=progress).ritz()
        ritz = RitzPairs(theta=unit.theta * scale, weights=unit.weights,
                         residuals=unit.residuals * scale)
        bounds = bounds.cover(ritz.theta)
    sigma = lanczos_sigma(M, kappa)
    signed = [None, None]
    if log:
        if eps is None:
            big = max(abs(bounds.lambda_min), abs(bounds.lambda_max))
            eps = 10 * torch.finfo(op.dtype).eps * big or torch.finfo(torch.float64).tiny
        grid, density = log_spectrum(ritz, bounds, eps=eps, K=K, sigma=sigma, tau=tau)
        signed = [log_spectrum(ritz, bounds, eps=eps, K=K, sigma=sigma, tau=tau, sign=s)[1]
                  for s in (1, -1)]
    else:
        grid, density = lanczos_approx_spec(ritz, bounds, K=K, sigma=sigma, tau=tau)
    params = dict(method=method, M=M, n_vec=n_vec, K=K, kappa=kappa, M0=M0, tau=tau, log=log,
                  eps=float(eps) if log else 0.0, deflate=deflate, deflate_iters=deflate_iters,
                  seed=seed, sigma=sigma, dtype=str(op.dtype).removeprefix("torch."))
    return SpectrumEstimate(
        grid=grid, density=density, ritz_values=ritz.theta.cpu(),
        ritz_weights=ritz.weights.cpu(), lambda_min=bounds.lambda_min,
        lambda_max=bounds.lambda_max, log=log,
        top_eigenvalues=None if top is None else top.detach().to("cpu", torch.float64),
        exact_eigenvalues=None if exact is None else exact.cpu(), density_positive=signed[0],
        density_negative=signed[1], params=params)


def wasserstein1(density_grid, density, eigenvalues) -> float:
    """W1 = integral |F(x) - F_emp(x)| dx between the density (K,) on an increasing grid (K,)
    (CDF by the trapezoid rule) and the empirical measure of `eigenvalues` (uniform weights),
    over the union of both supports. Inputs: torch tensors or numpy arrays."""
    x, f, e = _np(density_grid), _np(density), np.sort(_np(eigenvalues).reshape(-1))
    cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(x))])
    pts = np.union1d(x, e)
    smooth = np.interp(pts, x, cdf, left=0.0, right=cdf[-1])
    step = np.searchsorted(e, pts, side="right") / e.size
    gap = np.abs(smooth[:-1] - step[:-1]) + np.abs(smooth[1:] - step[:-1])
    return float(np.sum(gap / 2 * np.diff(pts)))
