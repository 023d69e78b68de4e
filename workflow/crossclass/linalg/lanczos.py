"""Lanczos tridiagonalisation (Appendix C.1-C.5) and its Ritz / Gauss-quadrature eigensolve.

M Lanczos steps on a symmetric A (p x p) from a unit start vector v build an orthonormal
basis V_M (p x M) with V_M^T A V_M = T_M = tridiag(beta, alpha, beta). The eigenpairs
(theta_m, y_m) of T_M are the Ritz pairs; the weights y_m[1]^2 make the M-node Gauss
quadrature  v^T f(A) v ~ sum_m y_m[1]^2 f(theta_m), exact for polynomials of degree < 2M.

`fast_lanczos` keeps three (p, n) blocks and no basis (Alg. 2, run on n start vectors as one
block); `slow_lanczos` keeps the basis and reorthogonalises twice (Alg. 1). Both keep the
recurrence coefficients in float64 whatever the operator's dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from crossclass.errors import UserError
from crossclass.linalg.operator import LinearOperator
from crossclass.progress import Progress


@dataclass(frozen=True)
class RitzPairs:
    """Ritz values and quadrature weights, one row per start vector.

    theta: (n, M) ascending Ritz values. weights: (n, M) = y_m[1]^2, each row sums to 1.
    residuals: (n, M) = beta_M |y_m[M]|, the norm ||A x_m - theta_m x_m|| of the Ritz vector
    x_m = V_M y_m (exact in exact arithmetic; the Normalization bound of Alg. 4).
    """

    theta: torch.Tensor
    weights: torch.Tensor
    residuals: torch.Tensor


@dataclass(frozen=True)
class Tridiagonal:
    """Lanczos coefficients in float64, one row per start vector.

    alpha: (n, M), the diagonal of T_M. beta: (n, M); beta[:, :M-1] is the off-diagonal of
    T_M and beta[:, M-1] = beta_M is the norm of the last residual. A zero beta marks a
    breakdown (an invariant Krylov subspace), after which a fresh orthogonal vector was used.
    """

    alpha: torch.Tensor
    beta: torch.Tensor

    def matrix(self) -> torch.Tensor:
        """The tridiagonal matrices T_M, shape (n, M, M)."""
        off = self.beta[:, :-1]
        return (torch.diag_embed(self.alpha) + torch.diag_embed(off, offset=1)
                + torch.diag_embed(off, offset=-1))

    def ritz(self) -> RitzPairs:
        """Eigendecomposition of each T_M: Ritz values, weights y[1]^2, residual bounds."""
        theta, Y = torch.linalg.eigh(self.matrix())
        return RitzPairs(theta=theta, weights=Y[:, 0, :] ** 2,
                         residuals=self.beta[:, -1:].abs() * Y[:, -1, :].abs())


def _check(op: LinearOperator, M: int) -> None:
    if not op.symmetric:
        raise UserError("Lanczos needs a symmetric operator")
    if M < 1:
        raise UserError(f"the number of Lanczos iterations M must be >= 1, got {M}")


def _unit_columns(block: torch.Tensor, op: LinearOperator) -> torch.Tensor:
    block = block.reshape(op.shape[0], -1).to(dtype=op.dtype, device=op.device)
    norms = torch.linalg.vector_norm(block, dim=0, keepdim=True)
    if not bool((norms > 0).all()):
        raise UserError("Lanczos start vectors must be non-zero")
    return block / norms


def _fresh(p: int, k: int, against: list[torch.Tensor], generator: torch.Generator | None,
           like: torch.Tensor) -> torch.Tensor:
    """k random unit columns orthogonalised (two passes) against the columns of each (p, k)
    block in `against`, column by column."""
    W = torch.randn(p, k, generator=generator, dtype=torch.float64).to(like)
    for _ in range(2):
        for B in against:
            W = W - B * (B * W).sum(0, keepdim=True)
    return W / torch.linalg.vector_norm(W, dim=0, keepdim=True)


def default_breakdown_tol(op: LinearOperator) -> float:
    """Relative size of beta (against the running estimate of ||A||) treated as zero."""
    return math.sqrt(op.shape[0]) * torch.finfo(op.dtype).eps


def fast_lanczos(
    op: LinearOperator,
    M: int,
    start: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    breakdown_tol: float | None = None,
    progress: bool = True,
) -> Tridiagonal:
    """FastLanczos (Alg. 2) on the n columns of `start` (p, n) (or one vector (p,)) at once.

    Three (p, n) blocks, no reorthogonalisation; op.matmat gets one (p, n) block per step, so
    memory is O(n p) for any M. alpha_m = v_m^T w and beta_m = ||w|| are computed and kept
    in float64 whatever op.dtype. When a column's beta falls below breakdown_tol * ||A||_est
    it is set to 0 and the column continues from a fresh random vector orthogonal to its last
    two Lanczos vectors (the continuation's weights are exactly zero: densities unaffected).
    Returns the float64 coefficients, shape (n, M) each.
    """
    _check(op, M)
    tol = default_breakdown_tol(op) if breakdown_tol is None else float(breakdown_tol)
    V = _unit_columns(start, op)
    p, n = V.shape
    V_prev = torch.zeros_like(V)
    f64 = dict(dtype=torch.float64, device=op.device)
    alpha = torch.empty(M, n, **f64)
    beta = torch.empty(M, n, **f64)
    beta_prev = torch.zeros(n, **f64)
    anorm = torch.zeros(n, **f64)
    bar = Progress(M, "Lanczos" if n == 1 else f"Lanczos ({n} start vectors)",
                   progress=progress)
    for m in range(M):
        W = op.matmat(V) - beta_prev.to(op.dtype) * V_prev
        a = (W.to(torch.float64) * V.to(torch.float64)).sum(0)
        W = W - a.to(op.dtype) * V
        b = torch.linalg.vector_norm(W, dim=0, dtype=torch.float64)
        anorm = torch.maximum(anorm, a.abs() + b + beta_prev)
        broken = b <= tol * anorm
        alpha[m] = a
        beta[m] = torch.where(broken, torch.zeros_like(b), b)
        bar.update()
        if m == M - 1:
            break
        if bool(broken.any()):
            W[:, broken] = _fresh(p, int(broken.sum()), [V[:, broken], V_prev[:, broken]],
                                  generator, V)
        V_prev, V = V, W / torch.where(broken, torch.ones_like(b), b).to(op.dtype)
        beta_prev = beta[m]
    bar.close()
    return Tridiagonal(alpha=alpha.T.contiguous(), beta=beta.T.contiguous())


def slow_lanczos(
    op: LinearOperator,
    M: int,
    start: torch.Tensor,
    *,
    breakdown: str = "restart",
    generator: torch.Generator | None = None,
    breakdown_tol: float | None = None,
    progress: bool = True,
) -> Tridiagonal:
    """SlowLanczos (Alg. 1) from one start vector (p,): full reorthogonalisation of every new
    vector against the basis V_m, in two classical Gram-Schmidt passes. Memory O(p M), M <= p.

    On breakdown (beta <= breakdown_tol * ||A||_est: the Krylov space is invariant),
    breakdown="stop" returns the shorter T_m (its Ritz values are exact eigenvalues) and
    breakdown="restart" sets beta = 0 and continues from a random vector orthogonal to V_m, so
    that M = p yields every eigenvalue of A. Returns coefficients of shape (1, M).
    """
    _check(op, M)
    if breakdown not in ("stop", "restart"):
        raise UserError(f"breakdown must be 'stop' or 'restart', got {breakdown!r}")
    p = op.shape[0]
    if M > p:
        raise UserError(f"SlowLanczos needs M <= p = {p}, got M = {M}")
    tol = default_breakdown_tol(op) if breakdown_tol is None else float(breakdown_tol)
    basis = torch.empty(p, M, dtype=op.dtype, device=op.device)
    basis[:, :1] = _unit_columns(start, op)[:, :1]
    alpha, beta = [], []
    b_prev, anorm = 0.0, 0.0
    bar = Progress(M, "SlowLanczos", progress=progress)
    for m in range(M):
        v = basis[:, m:m + 1]
        w = op.matmat(v)
        a = float((w.to(torch.float64) * v.to(torch.float64)).sum())
        w = w - a * v
        if m > 0:
            w = w - b_prev * basis[:, m - 1:m]
        Q = basis[:, :m + 1]
        for _ in range(2):
            w = w - Q @ (Q.T @ w)
        b = float(torch.linalg.vector_norm(w, dtype=torch.float64))
        anorm = max(anorm, abs(a) + b + b_prev)
        broken = b <= tol * anorm
        alpha.append(a)
        beta.append(0.0 if broken else b)
        bar.update()
        if m == M - 1 or (broken and breakdown == "stop"):
            break
        if broken:
            basis[:, m + 1:m + 2] = _fresh(p, 1, [], generator, w)
            for _ in range(2):
                basis[:, m + 1:m + 2] -= Q @ (Q.T @ basis[:, m + 1:m + 2])
            basis[:, m + 1:m + 2] /= torch.linalg.vector_norm(basis[:, m + 1])
        else:
            basis[:, m + 1:m + 2] = w / b
        b_prev = beta[-1]
    bar.close()
    f64 = dict(dtype=torch.float64, device=op.device)
    return Tridiagonal(alpha=torch.tensor([alpha], **f64), beta=torch.tensor([beta], **f64))
