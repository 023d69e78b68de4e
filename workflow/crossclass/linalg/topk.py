"""Top-k eigenpairs by thick-restarted block Lanczos with full reorthogonalisation.

A symmetric A (p x p). The basis V (j vectors of length p, orthonormal; held as rows, where
the projections are fast products) grows by one block of b vectors per product: the image
A V_last of the newest block, orthogonalised twice against V (classical Gram-Schmidt, then
QR), is the next block-Lanczos block. AV = A V is kept beside V, so the
Rayleigh-Ritz matrix T = V^T A V (j, j) and the residuals ||A x - theta x|| of the Ritz
vectors x = V z are exact, at no extra product. After every block the k wanted Ritz pairs
(largest |theta|, or largest theta for which="algebraic") are tested:
    ||A x_i - theta_i x_i|| <= tol * ||A||_est,   ||A||_est = max |theta| (all Ritz values),
which bounds each eigenvalue error by the residual (and by residual^2 / gap once separated).
Once they hold, the next block also gets b random vectors, and the pairs are accepted when the
test holds again with the k wanted values moved by at most tol ||A||_est (catches the zeros of
a rank-deficient A after the Krylov space became invariant, at the cost of one wider block).
Multiplicities: a block of b vectors sees at most b copies of an eigenvalue (more only through
round-off). So when c >= (vectors in the last block) converged wanted Ritz values lie within
tol ||A||_est of each other and rank above the k-th by more than that, the eigenvalue may have
more copies, which would displace a wanted value: the next block gets c + b - (its width)
random vectors (the basis grows to keep as many blocks per restart), the widening repeats
while c keeps up with the block, and the pairs are accepted only after as many further
products as the first widening came after (the copies the random vectors bring converge at
about the rate the first ones did).
When V reaches `basis` vectors it is compressed to the best `keep` Ritz vectors (V <- V Z,
AV <- AV Z, no products) plus the pending next block (thick restart: every residual of the
kept Ritz vectors lies in the span of that block, so the Krylov structure is kept).
The round-off floor of the operator (a float32 network Hessian: about 1e-4 ||A||) is measured
for free: A is symmetric, so the largest |v_i^T A v_j - v_j^T A v_i| over the basis is its
products' round-off, and residuals within 4 times it count as converged (with a warning when
that is above tol), instead of restarting in vain. If the largest wanted residual still stalls
above tol, below 1e-3 ||A|| and within 10 times that round-off (falls less than 0.7-fold over
3 restarts), the best pairs are returned with a warning; a stall the round-off does not
explain iterates on (up to max_blocks).
A rank-deficient block (an invariant subspace, e.g. k close to the rank of A) is completed
with random orthogonal vectors.
Memory O(2 p basis); torch-native (CPU or CUDA, the operator's dtype for the basis, float64
for the small matrices).
"""

from __future__ import annotations

import warnings

import torch

from crossclass.errors import UserError
from crossclass.linalg.lanczos import default_breakdown_tol
from crossclass.linalg.operator import LinearOperator
from crossclass.linalg.subspace import Eigenpairs
from crossclass.progress import Progress

WHICH = ("magnitude", "algebraic")
STALL = 3  # restarts without a 0.7-fold drop of the largest residual end the iteration,
STALL_BELOW = 1e-3  # once it is below this (relative to ||A||): a round-off floor
FLOOR_FACTOR = 4  # residuals within this many times the asymmetry of V^T A V are accepted
ROUNDOFF_EXPLAINS = 10  # a stall within this many times that asymmetry is put down to it


def _orthonormal_rows(W: torch.Tensor, V: torch.Tensor, scale: float, tol: float,
                      generator: torch.Generator | None) -> torch.Tensor:
    """Orthonormal rows (b, p) spanning the rows of W (b, p) minus their part in the row space
    of V (j, p, orthonormal rows, possibly empty): two rounds of (two Gram-Schmidt passes,
    QR); a row that vanishes below tol * scale is replaced by a random one (orthogonalised
    in the next round). Rows, not columns: V^T W on a (p, j) column basis is a slow
    tall-skinny product, W V^T on rows a fast one."""
    for round_ in range(3):
        for _ in range(2):
            W = W - (W @ V.T) @ V
        Q, R = torch.linalg.qr(W.T)
        bad = R.diagonal().abs() <= tol * scale
        if round_ >= 1 and not bool(bad.any()):
            return Q.T
        W, scale = Q.T.contiguous(), 1.0
        if bool(bad.any()):
            W[bad] = torch.randn(int(bad.sum()), W.shape[1], generator=generator,
                                 dtype=torch.float64).to(W)
    return Q.T


def _cluster(theta: torch.Tensor, residuals: torch.Tensor, which: str, limit: float) -> int:
    """Size of the largest group of converged wanted Ritz values (residual <= limit, each
    within limit of the next by value) ranking above the k-th by more than limit: copies of
    its eigenvalue that the Krylov space missed would displace a wanted value.
    theta (>= k,) in selection order; residuals (k,) of its first k."""
    k = residuals.numel()
    key = theta[:k].abs() if which == "magnitude" else theta[:k]
    values = torch.sort(theta[:k][(residuals <= limit) & (key > key[-1] + limit)]).values
    if values.numel() == 0:
        return 0
    ends = torch.nonzero(values.diff() > limit).flatten()
    bounds = torch.cat([ends.new_tensor([-1]), ends, ends.new_tensor([values.numel() - 1])])
    return int(bounds.diff().max())


def _padded(M: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """M zero-padded at the end of each axis to shape."""
    out = M.new_zeros(shape)
    out[tuple(slice(n) for n in M.shape)] = M
    return out


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
    If the largest residual, once below 1e-3 ||A|| and within 10 times the measured round-off
    of the products, falls less than 0.7-fold over 3 restarts (a round-off floor above tol,
    e.g. a float32 operator), the iteration stops with a warning.

    block: b, vectors per product (default min(k, clamp(k // 8, 4, 16)): 4 for k <= 39,
    which was fastest for the top 10 of the CPU MLP Hessian, benchmarks/results/peers.md;
    more for large k, where a wider block costs little more per product, especially on a
    GPU); a converged cluster of c >= block wanted Ritz values above the k-th (maybe a
    multiplicity above the block) widens the block to c + b and the basis with it.
    basis: vectors kept before a restart (default max(4b, 2k + 2b), at most p); max_blocks:
    the most block products (a warning is given, and the best pairs returned, if tol is not
    met by then).
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
    b = min(block or min(k, max(4, min(16, k // 8))), p)
    m = min(basis or max(4 * b, 2 * k + 2 * b), p)
    if m < min(k + b, p):
        raise UserError(f"basis = {m} must be >= k + block = {k + b}")
    if max_blocks * b < k:
        raise UserError(f"max_blocks = {max_blocks} blocks of {b} cannot hold k = {k} vectors")
    keep = min(k + max(b // 2, 1), m - b)
    cycle = (m - keep) // b  # blocks between restarts
    breakdown = default_breakdown_tol(op)
    like = dict(dtype=op.dtype, device=op.device)
    V = torch.empty(m, p, **like)           # basis vectors as rows, and their images A v
    AV = torch.empty(m, p, **like)
    T = torch.zeros(m, m, dtype=torch.float64, device=op.device)
    start = torch.randn(b, p, generator=generator, dtype=torch.float64).to(**like)
    Q = _orthonormal_rows(start, V[:0], 1.0, breakdown, generator)
    j, anorm, history, checked, asym, floor = 0, 0.0, [], None, 0.0, 0.0
    widened, wait = 0, 0  # the product of the last widening; products to wait after one
    # no total: the products needed are unknown (at most max_blocks); the status shows how
    # far the largest relative residual of the top k is from tol
    bar = Progress(None, f"top {k} eigenpairs", progress=progress, unit="block product")
    status = {}
    for products in range(1, max_blocks + 1):
        j0, j = j, j + Q.shape[0]
        V[j0:j] = Q
        AV[j0:j] = op.matmat(Q.T.contiguous()).T
        bar.update(**status)
        T[j0:j, :j] = (AV[j0:j] @ V[:j].T).double()
        T[:j0, j0:j] = T[j0:j, :j0].T
        asym = max(asym, float((T[j0:j, :j] - (V[j0:j] @ AV[:j].T).double()).abs().max()))
        theta, Z = torch.linalg.eigh((T[:j, :j] + T[:j, :j].T) / 2)
        order = _select(theta, which)
        theta, Z = theta[order], Z[:, order]
        anorm = max(anorm, float(theta.abs().max()))
        extra = 0  # random vectors joining the next block
        if j >= k:
            Zk = Z[:, :k].T.to(op.dtype)
            vectors = Zk @ V[:j]                                   # Ritz vectors (k, p)
            residuals = torch.linalg.vector_norm(
                Zk @ AV[:j] - vectors * theta[:k, None].to(op.dtype), dim=1).double()
            status = {"largest relative residual": float(residuals.max()) / anorm, "tol": tol}
            floor = FLOOR_FACTOR * asym / anorm
            limit = max(tol, floor) * anorm
            converged = bool((residuals <= limit).all())
            if j == p or (converged and checked is not None
                          and float((theta[:k] - checked).abs().max()) <= tol * anorm):
                break
            cluster = _cluster(theta, residuals, which, limit)
            if cluster >= j - j0:  # maybe a multiplicity above the block: widen it
                extra = cluster + b - (j - j0)
                widened, wait, history = products, wait or products, []
            # after a widening, the copies the new vectors bring need about as many
            # products to converge as the first ones did
            checked = (theta[:k].clone() if converged and products >= widened + wait
                       else None)
        if products == max_blocks:
            warnings.warn(f"top_eigenpairs: {max_blocks} block products did not reach "
                          f"tol = {tol:g} (largest relative residual "
                          f"{float(residuals.max()) / anorm:.2e})", stacklevel=2)
            break
        W = AV[j0:j]
        if extra:
            width = min(W.shape[0] + extra, p - j)
            m_new = min(p, max(m, keep + cycle * width))
            if m_new > m:
                V, AV = _padded(V, (m_new, p)), _padded(AV, (m_new, p))
                T, m = _padded(T, (m_new, m_new)), m_new
            extra = min(extra, m - keep - W.shape[0])
        elif checked is not None:  # converged once: test it with random vectors added
            extra = min(b, m - keep - W.shape[0])
            if extra < 1:
                break
        if extra > 0:
            W = torch.cat([W, torch.randn(extra, p, generator=generator,
                                          dtype=torch.float64).to(W)])
        Q = _orthonormal_rows(W, V[:j], anorm, breakdown, generator)
        Q = Q[:min(Q.shape[0], p - j)]
        if j + Q.shape[0] > m:  # thick restart onto the best `keep` Ritz vectors
            history = [] if converged else history + [float(residuals.max()) / anorm]
            if (len(history) > STALL and history[-1] < STALL_BELOW
                    and history[-1] > 0.7 * history[-1 - STALL]
                    and history[-1] <= ROUNDOFF_EXPLAINS * asym / anorm):
                warnings.warn(f"top_eigenpairs: stalled at a relative residual of "
                              f"{history[-1]:.2e} above tol = {tol:g}, within "
                              f"{ROUNDOFF_EXPLAINS} times the operator's round-off (u^T A v - "
                              f"v^T A u up to {asym / anorm:.1e} ||A||); returning the best "
                              f"pairs", stacklevel=2)
                break
            Zr = Z[:, :keep].T.to(op.dtype)
            V[:keep], AV[:keep] = Zr @ V[:j], Zr @ AV[:j]
            T.zero_()
            T[:keep, :keep] = torch.diag(theta[:keep])
            j = keep
    bar.status = status
    bar.close()
    if converged and float(residuals.max()) > tol * anorm:
        warnings.warn(f"top_eigenpairs: the operator's round-off (u^T A v - v^T A u up to "
                      f"{asym / anorm:.1e} ||A||) is above tol = {tol:g}; pairs accepted at "
                      f"residuals <= {floor:.1e} ||A||", stacklevel=2)
    return Eigenpairs(values=theta[:k].to(op.dtype), vectors=vectors.T.contiguous(),
                      residuals=residuals)
