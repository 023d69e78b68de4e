"""Operator algebra beyond +, -, * and shift: dense and low-rank operators, projection
knockouts (section 3, corrected: docs/linalg.md) and deflation by computed eigenpairs.

Projection knockout of B from A (both m x n):  (I - U U^T) A (I - V V^T), with U, V the left
and right singular vectors of B for its NON-ZERO singular values (rank-revealing tolerance),
i.e. (I - B B^+) A (I - B^+ B). For symmetric B both projectors are I - U U^T with U spanning
range(B), so a symmetric A stays symmetric. The rank of B is judged against the scale of the
operator A being decomposed (max(||B||, ||A||_est)), not of B alone: a B made of round-off
(G_cross for C = 2) has rank 0. A LowRankOperator part carries that scale (`scale`), so its
own `range_basis` decides alike.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from crossclass.errors import UserError
from crossclass.linalg.density import normalization
from crossclass.linalg.operator import LinearOperator


class DenseOperator(LinearOperator):
    """A wrapped (m, n) tensor; symmetric=None tests symmetry (square, to round-off)."""

    def __init__(self, matrix: torch.Tensor, *, symmetric: bool | None = None):
        if matrix.ndim != 2:
            raise UserError(f"a dense operator needs a 2-d tensor, got shape "
                            f"{tuple(matrix.shape)}")
        if symmetric is None:
            symmetric = _is_symmetric(matrix)
        self.matrix = matrix
        super().__init__(tuple(matrix.shape), matrix.__matmul__,
                         rmatmat=lambda Y: matrix.T @ Y, symmetric=symmetric,
                         dtype=matrix.dtype, device=matrix.device)

    def to_dense(self, chunk: int = 256) -> torch.Tensor:
        return self.matrix


class LowRankOperator(LinearOperator):
    """U diag(s) U^T for U (p, r), s (r,): applied as U (s * (U^T X)), O(p r) memory.
    scale: ||A||_2 of the operator A this is a part of (e.g. G for G_cross), or a function
    returning it (called at each rank decision; cache it), against which `range_basis` judges
    the rank; 0 for an operator that is not a part of another."""

    def __init__(self, U: torch.Tensor, s: torch.Tensor | None = None, *,
                 scale: float | Callable[[], float] = 0.0):
        if U.ndim != 2:
            raise UserError(f"a low-rank factor must be (p, r), got shape {tuple(U.shape)}")
        s = torch.ones(U.shape[1], dtype=U.dtype, device=U.device) if s is None else s
        if s.shape != (U.shape[1],):
            raise UserError(f"low-rank factor {tuple(U.shape)} needs s of shape "
                            f"({U.shape[1]},), got {tuple(s.shape)}")
        self.U, self.s, self.scale = U, s.to(U), scale
        super().__init__((U.shape[0], U.shape[0]), lambda X: U @ (self.s[:, None] * (U.T @ X)),
                         dtype=U.dtype, device=U.device)

    def range_basis(self, rtol: float | None = None, scale: float = 0.0) -> torch.Tensor:
        """Orthonormal basis (p, rank) of range(U diag(s) U^T), rank revealed by the
        eigenvalues of the r x r core R diag(s) R^T (U = Q R), relative to
        max(scale, self.scale, max|s| ||U||_2^2): for a part of a larger operator its norm,
        not the part's own, so that a part made of round-off has rank 0 (its own scale alone
        lets cancelling terms count only against themselves). The rank decision runs in
        float64 whatever the factor's dtype: float32's p * eps would exceed 1 at millions of
        parameters and drop every direction."""
        U, s = self.U.double(), self.s.double()
        Q, R = torch.linalg.qr(U)
        lam, Z = torch.linalg.eigh(R @ (s[:, None] * R.T))
        own = float(s.abs().max()) * float(torch.linalg.matrix_norm(R, ord=2)) ** 2
        whole = self.scale() if callable(self.scale) else self.scale
        scale = max(own, float(whole), float(scale))
        return (Q @ Z[:, _nonzero(lam.abs(), rtol, U.shape, scale)]).to(self.U.dtype)


def _is_symmetric(matrix: torch.Tensor) -> bool:
    if matrix.shape[0] != matrix.shape[1]:
        return False
    tol = 100 * torch.finfo(matrix.dtype).eps * float(matrix.abs().max().clamp_min(1e-300))
    return bool(((matrix - matrix.T).abs() <= tol).all())


def _nonzero(values: torch.Tensor, rtol: float | None, shape: tuple[int, ...],
             scale: float = 0.0) -> torch.Tensor:
    """Mask of values above the rank-revealing threshold rtol * max(scale, max(values))
    (default rtol: max(shape) * machine epsilon, as numpy.linalg.matrix_rank)."""
    if rtol is None:
        rtol = max(shape) * torch.finfo(values.dtype).eps
    if values.numel() == 0:
        return torch.zeros(0, dtype=torch.bool, device=values.device)
    return values > rtol * max(float(scale), float(values.max()))


def operator_scale(A: LinearOperator) -> float:
    """||A||_2 estimated from Normalization's bounds (20 Lanczos steps; square A)."""
    bounds = normalization(A, 20, generator=torch.Generator().manual_seed(0), progress=False)
    return max(abs(bounds.lambda_min), abs(bounds.lambda_max))


def projection_knockout(
    A: LinearOperator,
    B: torch.Tensor | LowRankOperator | DenseOperator,
    *,
    rtol: float | None = None,
    scale: float | None = None,
) -> LinearOperator:
    """(I - U U^T) A (I - V V^T) = (I - B B^+) A (I - B^+ B), for A and B of one shape (m, n).

    B: a dense tensor or DenseOperator (SVD; U, V for singular values > rtol * max(s_max,
    scale)) or a LowRankOperator U_B diag(s) U_B^T (range from its r x r core; cost O(p r^2)).
    scale: ||A||, estimated by `operator_scale` (20 Lanczos products) for a symmetric A when
    None; else 0 (ranks judged against B's own scale).
    """
    if isinstance(B, DenseOperator):
        B = B.matrix
    if scale is None:
        scale = operator_scale(A) if A.symmetric else 0.0
    if isinstance(B, LowRankOperator):
        if A.shape != B.shape:
            raise UserError(f"projection knockout: A has shape {A.shape}, B has {B.shape}")
        U = B.range_basis(rtol, scale).to(dtype=A.dtype, device=A.device)
        V, symmetric_B = U, True
    elif isinstance(B, torch.Tensor):
        if tuple(B.shape) != A.shape:
            raise UserError(f"projection knockout: A has shape {A.shape}, B has "
                            f"{tuple(B.shape)}")
        B = B.to(dtype=A.dtype, device=A.device)
        symmetric_B = _is_symmetric(B)
        if symmetric_B:
            lam, Z = torch.linalg.eigh((B + B.T) / 2)
            U = V = Z[:, _nonzero(lam.abs(), rtol, B.shape, scale)]
        else:
            Uf, S, Vh = torch.linalg.svd(B, full_matrices=False)
            keep = _nonzero(S, rtol, B.shape, scale)
            U, V = Uf[:, keep], Vh[keep].T
    else:
        raise UserError(f"projection knockout: B must be a tensor, DenseOperator or "
                        f"LowRankOperator, got {type(B).__name__}")

    def left(Y: torch.Tensor) -> torch.Tensor:
        return Y - U @ (U.T @ Y)

    def right(X: torch.Tensor) -> torch.Tensor:
        return X - V @ (V.T @ X)

    symmetric = A.symmetric and symmetric_B
    rmatmat = None if symmetric else (lambda Y: right(A.rmatmat(left(Y))))
    return LinearOperator(A.shape, lambda X: left(A.matmat(right(X))), rmatmat=rmatmat,
                          symmetric=symmetric, dtype=A.dtype, device=A.device)


def deflate(A: LinearOperator, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor
            ) -> LinearOperator:
    """A - V diag(l) V^T for computed eigenpairs l (k,), V (p, k) of a symmetric A."""
    if not A.symmetric:
        raise UserError("deflation needs a symmetric operator")
    return A - LowRankOperator(eigenvectors.to(dtype=A.dtype, device=A.device),
                               eigenvalues.to(dtype=A.dtype, device=A.device))
