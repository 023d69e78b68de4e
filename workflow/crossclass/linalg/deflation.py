"""LowRankDeflation: A - V diag(l) V^T with the top-k eigenpairs (l, V) of a symmetric A.

Its spectrum is A's with those k eigenvalues moved to 0 (to within the eigenpairs' residual).
The eigenpairs come from thick-restarted block Lanczos (`top_eigenpairs`, method="krylov",
default: stops at ||A v - l v|| <= tol ||A||) or from the paper's SubspaceIteration (Alg. 5,
method="subspace", a fixed number of iterations).
"""

from __future__ import annotations

import torch

from crossclass import estimator
from crossclass.errors import UserError
from crossclass.linalg.algebra import deflate
from crossclass.linalg.operator import LinearOperator
from crossclass.linalg.subspace import Eigenpairs, subspace_iteration
from crossclass.linalg.topk import top_eigenpairs

METHODS = estimator.BY_NAME["deflate_method"].choices


def top_k(op: LinearOperator, k: int, *, method: str = "krylov", iters: int = 128,
          which: str = "magnitude", tol: float = 1e-5,
          generator: torch.Generator | None = None, progress: bool = True) -> Eigenpairs:
    """The top-k eigenpairs by `method`: "krylov" (to residual tol * ||A||) or "subspace"
    (`iters` subspace iterations)."""
    if method == "krylov":
        return top_eigenpairs(op, k, which=which, tol=tol, generator=generator,
                              progress=progress)
    if method == "subspace":
        return subspace_iteration(op, k, iters, which=which, generator=generator,
                                  progress=progress)
    raise UserError(f"unknown top-k method {method!r}; choose one of {METHODS}")


def low_rank_deflation(
    op: LinearOperator,
    k: int,
    iters: int = 128,
    *,
    which: str = "magnitude",
    method: str = "krylov",
    tol: float = 1e-5,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> tuple[LinearOperator, Eigenpairs]:
    """LowRankDeflation: the top-k eigenpairs (`top_k`) and A - V diag(l) V^T, whose
    spectrum is A's with those k eigenvalues moved to 0. `iters` is used by "subspace" only."""
    pairs = top_k(op, k, method=method, iters=iters, which=which, tol=tol,
                  generator=generator, progress=progress)
    return deflate(op, pairs.values, pairs.vectors), pairs
