"""Top-k eigenpairs by thick-restarted block Lanczos with full reorthogonalisation.

A symmetric A (p x p). The basis V (p, j), orthonormal, grows by one block (p, b) per
product: the image A V_last of the newest block, orthogonalised twice against V (classical
Gram-Schmidt, then QR), is the next block-Lanczos block. AV = A V is kept beside V, so the
Rayleigh-Ritz matrix T = V^T A V (j, j) and the residuals ||A x - theta x|| of the Ritz
vectors x = V z are exact, at no extra product. After every block the k wanted Ritz pairs
(largest |theta|, or largest theta for which="algebraic") are tested:
    ||A x_i - theta_i x_i|| <= tol * ||A||_est,   ||A||_est = max |theta| (all Ritz values),
which bounds each eigenvalue error by the residual (and by residual^2 / gap once separated).
When V reaches `basis` columns it is compressed to the best `keep` Ritz vectors (V <- V Z,
AV <- AV Z, no products) plus the pending next block (thick restart: every residual of the
kept Ritz vectors lies in the span of that block, so the Krylov structure is kept).
If the largest wanted residual stalls above tol, below 1e-3 ||A|| (falls less than 0.7-fold
over 3 restarts: the round-off floor of a float32 operator, say), the best pairs are returned
with a warning.
Blocks handle eigenvalues of multiplicity up to b; a rank-deficient block (an invariant
subspace, e.g. k close to the rank of A) is completed with random orthogonal columns.
Memory O(2 p basis); torch-native (CPU or CUDA, the operator's dtype for the basis, float64
for the small matrices).
"""

from __future__ import annotations

import warnings

import torch
from tqdm.auto import tqdm

from crossclass.errors import UserError
from crossclass.linalg.lanczos import default_breakdown_tol
from crossclass.linalg.operator import LinearOperator
from crossclass.linalg.subspace import Eigenpairs

WHICH = ("magnitude", "algebraic")
STALL = 3  # restarts without a 0.7-fold drop of the largest residual end the iteration,
STALL_BELOW = 1e-3  # once it is below this (relative to ||A||): a round-off floor


def _orthonormal_block(W: torch.Tensor, V: torch.Tensor, scale: float, tol: float,
                       generator: torch.Generator | None) -> torch.Tensor:
    """Orthonormal (p, b) block spanning W (p, b) minus its part in range(V) (V orthonormal,
    possibly empty): two rounds of (two Gram-Schmidt passes, QR); a column that vanishes
    below tol * scale is replaced by a random one (then orthogonalised in the next round)."""
    for round_ in range(3):
        for _ in range(2):
            W = W - V @ (V.T @ W)
        Q, R = torch.linalg.qr(W)
        bad = R.diagonal().abs() <= tol * scale
        if round_ >= 1 and not bool(bad.any()):
            return Q
        W, scale = Q, 1.0
        if bool(bad.any()):
            W[:, bad] = torch.randn(W.shape[0], int(bad.sum()), generator=generator,
                                    dtype=torch.float64).to(W)
    return Q


def _select(theta: torch.Tensor, which: str) -> torch.Tensor:
    """Indices of theta sorted by the selection order (largest |theta| or largest theta)."""
    return torch.argsort(theta.abs() if which == "magnitude" else theta, descending=True)


def top_eigenpairs(
    op: LinearOperator,
    k: int,
    *,
    which: str = "magnitude",
    tol: float = 1e-5,
    block: int | None = None,
    basis: int | None = None,
    max_blocks: int = 1000,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> Eigenpairs:
    """The k eigenpairs of a symmetric operator largest in magnitude ("magnitude") or value
    ("algebraic"), each with ||A v - lambda v|| <= tol * ||A||_est.
    If the largest residual, once below 1e-3 ||A||, falls less than 0.7-fold over 3 restarts
    (a round-off floor above tol, e.g. a float32 operator), the iteration stops with a warning.

    block: b, columns per product (default min(k, 16); block=4 was 1.5x faster for the top 10
    of the CPU MLP Hessian in benchmarks/results/peers.md, but a narrow start block can miss
    eigenvalues of large multiplicity, e.g. zeros when k exceeds the rank); basis: columns
    kept before a restart (default max(3b, 2k + b), at most p); max_blocks: the most block
    products (a warning is given, and the best pairs returned, if tol is not met by then).
    """
    if not op.symmetric:
        raise UserError("top_eigenpairs needs a symmetric operator")
    if which not in WHICH:
        raise UserError(f"which must be one of {WHICH}, got {which!r}")
    p = op.shape[0]
    if not 1 <= k <= p:
        raise UserError(f"top_eigenpairs needs 1 <= k <= p = {p}, got k = {k}")
    if tol <= 0:
        raise UserError(f"tol must be > 0, got {tol}")
    b = min(block or min(k, 16), p)
    m = min(basis or max(3 * b, 2 * k + b), p)
    if m < min(k + b, p):
        raise UserError(f"basis = {m} must be >= k + block = {k + b}")
    if max_blocks * b < k:
        raise UserError(f"max_blocks = {max_blocks} blocks of {b} cannot hold k = {k} vectors")
    keep = min(k + max(b // 2, 1), m - b)
    breakdown = default_breakdown_tol(op)
    like = dict(dtype=op.dtype, device=op.device)
    V = torch.empty(p, m, **like)
    AV = torch.empty(p, m, **like)
    T = torch.zeros(m, m, dtype=torch.float64, device=op.device)
    start = torch.randn(p, b, generator=generator, dtype=torch.float64).to(**like)
    Q = _orthonormal_block(start, V[:, :0], 1.0, breakdown, generator)
    j, anorm, history = 0, 0.0, []
    bar = tqdm(total=max_blocks, desc="top eigenpairs", disable=not progress, leave=False)
    for products in range(1, max_blocks + 1):
        j0, j = j, j + Q.shape[1]
        V[:, j0:j] = Q
        AV[:, j0:j] = op.matmat(Q)
        bar.update()
        T[:j, j0:j] = (V[:, :j].T @ AV[:, j0:j]).double()
        T[j0:j, :j0] = T[:j0, j0:j].T
        theta, Z = torch.linalg.eigh((T[:j, :j] + T[:j, :j].T) / 2)
        order = _select(theta, which)
        theta, Z = theta[order], Z[:, order]
        anorm = max(anorm, float(theta.abs().max()))
        if j >= k:
            Zk = Z[:, :k].to(op.dtype)
            vectors = V[:, :j] @ Zk
            residuals = torch.linalg.vector_norm(
                AV[:, :j] @ Zk - vectors * theta[:k].to(op.dtype), dim=0).double()
            if bool((residuals <= tol * anorm).all()) or j == p:
                break
        if products == max_blocks:
            warnings.warn(f"top_eigenpairs: {max_blocks} block products did not reach "
                          f"tol = {tol:g} (largest relative residual "
                          f"{float(residuals.max()) / anorm:.2e})", stacklevel=2)
            break
        Q = _orthonormal_block(AV[:, j0:j], V[:, :j], anorm, breakdown, generator)
        Q = Q[:, :min(Q.shape[1], p - j)]
        if j + Q.shape[1] > m:  # thick restart onto the best `keep` Ritz vectors
            history.append(float(residuals.max()) / anorm)
            if (len(history) > STALL and history[-1] < STALL_BELOW
                    and history[-1] > 0.7 * history[-1 - STALL]):
                warnings.warn(f"top_eigenpairs: stalled at a relative residual of "
                              f"{history[-1]:.2e} above tol = {tol:g} (the operator's "
                              f"round-off?); returning the best pairs", stacklevel=2)
                break
            Zr = Z[:, :keep].to(op.dtype)
            V[:, :keep], AV[:, :keep] = V[:, :j] @ Zr, AV[:, :j] @ Zr
            T.zero_()
            T[:keep, :keep] = torch.diag(theta[:keep])
            j = keep
    bar.close()
    return Eigenpairs(values=theta[:k].to(op.dtype), vectors=vectors, residuals=residuals)
