"""Matrix-free linear algebra for spectra of large symmetric operators (Appendix C)."""

from crossclass.linalg.algebra import (
    DenseOperator,
    LowRankOperator,
    deflate,
    projection_knockout,
)
from crossclass.linalg.deflation import low_rank_deflation, top_k
from crossclass.linalg.density import (
    SpectralBounds,
    block_bounds,
    gaussian_mixture,
    lanczos_approx_spec,
    lanczos_sigma,
    log_spectrum,
    normalization,
)
from crossclass.linalg.exact import exact_eigenvalues
from crossclass.linalg.lanczos import RitzPairs, Tridiagonal, fast_lanczos, slow_lanczos
from crossclass.linalg.operator import LinearOperator
from crossclass.linalg.spectrum import SpectrumEstimate, estimate_spectrum, wasserstein1
from crossclass.linalg.subspace import Eigenpairs, subspace_iteration
from crossclass.linalg.topk import top_eigenpairs

__all__ = [
    "DenseOperator",
    "Eigenpairs",
    "LinearOperator",
    "LowRankOperator",
    "RitzPairs",
    "SpectralBounds",
    "SpectrumEstimate",
    "Tridiagonal",
    "block_bounds",
    "deflate",
    "estimate_spectrum",
    "exact_eigenvalues",
    "fast_lanczos",
    "gaussian_mixture",
    "lanczos_approx_spec",
    "lanczos_sigma",
    "log_spectrum",
    "low_rank_deflation",
    "normalization",
    "projection_knockout",
    "slow_lanczos",
    "subspace_iteration",
    "top_eigenpairs",
    "top_k",
    "wasserstein1",
]
