"""Exact spectra of small operators: materialise A (p x p) with `to_dense` and call `eigvalsh`.

O(p^2) memory and O(p^3) time, so limited to p <= max_dim; the reference for every estimator.
"""

from __future__ import annotations

import torch

from crossclass.errors import UserError
from crossclass.linalg.operator import LinearOperator

MAX_DIM = 16384


def exact_eigenvalues(op: LinearOperator, *, max_dim: int = MAX_DIM) -> torch.Tensor:
    """All eigenvalues (p,) of a symmetric operator, ascending, in float64."""
    if not op.symmetric:
        raise UserError("the exact spectrum needs a symmetric operator")
    p = op.shape[0]
    if p > max_dim:
        raise UserError(f"operator of size {p} is too large for the exact path "
                        f"(max_dim={max_dim}); use method='lanczos'")
    A = op.to_dense().to(torch.float64)
    return torch.linalg.eigvalsh((A + A.T) / 2)
