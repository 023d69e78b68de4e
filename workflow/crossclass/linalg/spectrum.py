"""The one entry point for spectra: `estimate_spectrum(op) -> SpectrumEstimate`.

method="lanczos": optional LowRankDeflation of the top `deflate` eigenpairs (block Lanczos,
or the paper's SubspaceIteration) -> FastLanczos on n_vec start vectors as one block ->
spectral bounds from that same run (bounds="block": min / max over the start vectors of
theta_1 - beta_M |y_1[M]| and theta_M + beta_M |y_M[M]|, the Ritz residual bounds of Alg. 4
at no extra product) or from the paper's separate Normalization run of M0 steps
(bounds="normalization") -> LanczosApproxSpec (Alg. 3) or the corrected log-spectrum.
method="exact": the same kernel density built from every eigenvalue (weights 1/p), for small
operators. Also `wasserstein1`, the W1 distance between
a gridded density and an empirical spectral measure, for tests and benchmarks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from crossclass import estimator
from crossclass.errors import UserError
from crossclass.linalg.deflation import low_rank_deflation
from crossclass.linalg.density import (
    SpectralBounds,
    block_bounds,
    lanczos_approx_spec,
    lanczos_sigma,
    log_spectrum,
    normalization,
)
from crossclass.linalg.exact import exact_eigenvalues
from crossclass.linalg.lanczos import RitzPairs, fast_lanczos
from crossclass.linalg.operator import LinearOperator
from crossclass.stores import StoreSchema, read_store

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('density',), '(grid,)', 'spectral density, integrates to 1 over the abscissa'),
        (('lambda', 'log_lambda'), '(grid,)',
         'the abscissa: eigenvalue, or u = log(|lambda| + eps) when `log` (a data variable, '
         'not a coordinate: grids differ between stores and `open_stores` stacks them)'),
        (('density_positive', 'density_negative'), '(grid,)',
         'log spectra only: the parts of `density` from positive and from negative '
         'eigenvalues (they sum to it; Figure 16)'),
        (('ritz_values',), '(start_vector, ritz)',
         'Ritz values theta (in lambda units) per start vector'),
        (('ritz_weights',), '(start_vector, ritz)', 'quadrature weights y_m[1]^2'),
        (('top_eigenvalues',), '(top,)',
         'when deflated: the true top eigenvalues of the deflation (C for `deflate: C`, C^2 '
         '+ 1 for `C2`), the ones figures mark and claims read'),
        (('exact_eigenvalues',), '(eigen,)',
         '`method: exact` and the Figure-15 matrices: the exact eigenvalues'),
        (('num_params',), '()', "p, the operator's size"),
    ),
    intro=('`SpectrumEstimate.to_dataset()` (docs/linalg.md):'),
    notes=('attrs and params: every estimator setting (crossclass.estimator: `method, M, n_vec, '
           'K, kappa, M0, tau, log, eps, deflate, deflate_iters, seed`) with `sigma`, `dtype`, '
           "`lambda_min`, `lambda_max`. The Figure-15 spectra add the matrix builder's options "
           'and key `matrix`; the network spectra add keys `operator` and those of the extract '
           'stores, and params `operator`, `p`, `num_classes`, `means` and `layers` (the extract'
           ' stores reused).'),
)
STORE_REQUIRED = ("density", "ritz_values", "ritz_weights")
STORE_OPTIONAL = tuple(name for name in SCHEMA.names if name not in STORE_REQUIRED)


def read_spectrum(path: str | os.PathLike) -> xr.Dataset:
    """A spectrum store, every variable of SCHEMA it holds checked complete and finite
    (crossclass.stores.read_store: one-line errors)."""
    return read_store(path, STORE_REQUIRED, optional=STORE_OPTIONAL)

if TYPE_CHECKING:
    import xarray as xr



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
        import xarray as xr  # only here: linalg itself needs torch and numpy alone
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


def estimate_spectrum(op: LinearOperator, *, progress: bool = True,
                      **settings) -> SpectrumEstimate:
    """Spectral density of a symmetric operator (p x p), matrix-free for method="lanczos".

    settings: the keywords of crossclass.estimator.SETTINGS (their defaults where left out).
    M Lanczos steps on n_vec Gaussian start vectors (one (p, n_vec) block per step; memory
    O(n_vec p)), bump width sigma = 2 / ((M - 1) sqrt(8 log kappa)) in normalised units, K
    grid points, margin tau; bounds="block" takes the spectral bounds from the same run,
    "normalization" from a separate M0-step run (Alg. 4). log=True: density of
    log(|lambda| + eps). deflate=k (an integer here): first remove the top-k-by-magnitude
    eigenpairs (their eigenvalues move to 0), found by block Lanczos to residual 1e-5 ||A||
    (deflate_method="krylov") or by `deflate_iters` subspace iterations ("subspace").
    seed: all randomness.
    """
    s = estimator.check(settings, "estimate_spectrum")
    if not isinstance(op, LinearOperator) or not op.symmetric:
        raise UserError("estimate_spectrum needs a symmetric LinearOperator")
    if not isinstance(s["deflate"], int) or not 0 <= s["deflate"] < op.shape[0]:
        raise UserError(f"deflate must be an integer in [0, {op.shape[0]}), got {s['deflate']}")
    method, M, n_vec, K, kappa, M0, tau, log, eps, deflate, deflate_iters, deflate_method, \
        bounds, seed = (s[k] for k in ("method", "M", "n_vec", "K", "kappa", "M0", "tau", "log",
                                       "eps", "deflate", "deflate_iters", "deflate_method",
                                       "bounds", "seed"))
    generator = torch.Generator().manual_seed(seed)
    top = None
    if deflate:
        op, pairs = low_rank_deflation(op, deflate, deflate_iters, method=deflate_method,
                                       generator=generator, progress=progress)
        top = pairs.values
    exact = None
    if method == "exact":
        exact = exact_eigenvalues(op)
        p = exact.numel()
        ritz = RitzPairs(theta=exact[None], weights=torch.full((1, p), 1.0 / p,
                                                               dtype=torch.float64),
                         residuals=torch.zeros(1, p, dtype=torch.float64))
        spectral_bounds = SpectralBounds(float(exact[0]), float(exact[-1]))
    else:
        ritz, spectral_bounds = _lanczos(op, M, n_vec, M0, bounds, generator, progress)
    sigma = lanczos_sigma(M, kappa)
    signed = [None, None]
    if log:
        grid, density = log_spectrum(ritz, spectral_bounds, eps=eps, K=K, sigma=sigma, tau=tau)
        signed = [log_spectrum(ritz, spectral_bounds, eps=eps, K=K, sigma=sigma, tau=tau,
                               sign=s)[1] for s in (1, -1)]
    else:
        grid, density = lanczos_approx_spec(ritz, spectral_bounds, K=K, sigma=sigma, tau=tau)
    params = dict(method=method, M=M, n_vec=n_vec, K=K, kappa=kappa, M0=M0, tau=tau, log=log,
                  eps=float(eps) if log else 0.0, deflate=deflate, deflate_iters=deflate_iters,
                  deflate_method=deflate_method, bounds=bounds, seed=seed, sigma=sigma,
                  dtype=str(op.dtype).removeprefix("torch."))
    return SpectrumEstimate(
        grid=grid, density=density, ritz_values=ritz.theta.cpu(),
        ritz_weights=ritz.weights.cpu(), lambda_min=spectral_bounds.lambda_min,
        lambda_max=spectral_bounds.lambda_max, log=log,
        top_eigenvalues=None if top is None else top.detach().to("cpu", torch.float64),
        exact_eigenvalues=None if exact is None else exact.cpu(), density_positive=signed[0],
        density_negative=signed[1], params=params)


def _lanczos(op: LinearOperator, M: int, n_vec: int, M0: int, bounds: str,
             generator: torch.Generator, progress: bool) -> tuple[RitzPairs, SpectralBounds]:
    """FastLanczos on n_vec Gaussian start vectors (one block) and the spectral bounds (from
    that run, or from Normalization), widened to contain every Ritz value."""
    spectral_bounds = None
    if bounds == "normalization":
        spectral_bounds = normalization(op, M0, generator=generator, progress=progress)
    start = torch.randn(op.shape[0], n_vec, generator=generator, dtype=torch.float64)
    ritz = fast_lanczos(op, M, start, generator=generator, progress=progress).ritz()
    if spectral_bounds is None:
        spectral_bounds = block_bounds(ritz)
    return ritz, spectral_bounds.cover(ritz.theta)


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
