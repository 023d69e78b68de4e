"""top_eigenpairs (thick-restarted block Lanczos) against dense float64 eigh, and deflation.

Error bounds tested: every returned pair has ||A v - lambda v|| <= tol ||A||_2 (recomputed
densely), and each eigenvalue is within tol ||A||_2 of the exact k-th largest (by magnitude or
by value), because a Ritz value is within its residual of an eigenvalue and the k found are the
top k; vectors are orthonormal to 1e-10 (float64).
"""

import warnings

import pytest
import torch
from crossclass.errors import UserError
from crossclass.linalg import (
    DenseOperator,
    LinearOperator,
    LowRankOperator,
    low_rank_deflation,
    top_eigenpairs,
    topk,
)

F64 = torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
TOL = 1e-8


def with_spectrum(lam: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Q diag(lam) Q^T with a random orthogonal Q."""
    g = torch.Generator().manual_seed(seed)
    Q = torch.linalg.qr(torch.randn(lam.numel(), lam.numel(), generator=g, dtype=F64)).Q
    return (Q * lam) @ Q.T


def bulk(p: int, seed: int = 1) -> torch.Tensor:
    return 0.5 + 1.5 * torch.rand(p, generator=torch.Generator().manual_seed(seed), dtype=F64)


def check(A: torch.Tensor, pairs, k: int, which: str, tol: float) -> None:
    lam = torch.linalg.eigvalsh(A.double().cpu())
    key = lam.abs() if which == "magnitude" else lam
    exact = lam[torch.argsort(key, descending=True)[:k]]
    norm = float(lam.abs().max())
    values, vectors = pairs.values.double().cpu(), pairs.vectors.double().cpu()
    assert values.shape == (k,) and vectors.shape == (A.shape[0], k)
    residual = torch.linalg.vector_norm(A.double().cpu() @ vectors - vectors * values, dim=0)
    assert float(residual.max()) <= tol * norm
    assert float((values - exact).abs().max()) <= tol * norm
    assert float((pairs.residuals.cpu() - residual).abs().max()) <= 10 * tol * norm
    eye = torch.eye(k, dtype=F64)
    ortho = 1e-10 if pairs.vectors.dtype == F64 else 1e-5
    assert float((vectors.T @ vectors - eye).abs().max()) < ortho


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("which", ["magnitude", "algebraic"])
def test_spiked_with_dominant_negative_eigenvalues(device, which):
    lam = torch.cat([bulk(394), torch.tensor([9.0, 7.0, 6.0, -12.0, -11.0, -10.0], dtype=F64)])
    A = with_spectrum(lam).to(device)
    pairs = top_eigenpairs(DenseOperator(A), 3, which=which, tol=TOL,
                           generator=torch.Generator().manual_seed(0), progress=False)
    check(A, pairs, 3, which, TOL)
    expected = [-12.0, -11.0, -10.0] if which == "magnitude" else [9.0, 7.0, 6.0]
    assert torch.allclose(pairs.values.cpu(), torch.tensor(expected, dtype=F64), atol=1e-7)


@pytest.mark.parametrize("which", ["magnitude", "algebraic"])
def test_degenerate_and_clustered_eigenvalues(which):
    """A quadruple 5, a triple 4 and a cluster 3 + 1e-7 j: multiplicities up to the block."""
    top = [5.0] * 4 + [4.0] * 3 + [3.0 + 1e-7 * j for j in range(4)]
    lam = torch.cat([bulk(289), torch.tensor(top, dtype=F64)])
    A = with_spectrum(lam, seed=2)
    for k in (4, 7, 11):
        pairs = top_eigenpairs(DenseOperator(A), k, which=which, tol=TOL,
                               generator=torch.Generator().manual_seed(k), progress=False)
        check(A, pairs, k, which, TOL)


@pytest.mark.parametrize(("mult", "block"), [(6, 2), (8, 4), (5, 1)])
def test_multiplicity_above_the_block(mult, block):
    """A top eigenvalue of multiplicity above the block: every copy is found (the random
    vectors of the acceptance check bring the copies the Krylov space missed)."""
    lam = torch.cat([bulk(294), torch.tensor([5.0] * mult, dtype=F64)])
    A = with_spectrum(lam, seed=4)
    for k in (mult, mult + 2):
        pairs = top_eigenpairs(DenseOperator(A), k, block=block, tol=TOL,
                               generator=torch.Generator().manual_seed(0), progress=False)
        check(A, pairs, k, "magnitude", TOL)


def with_multiple_eigenvalue(mult: int, seed: int) -> torch.Tensor:
    """p = 100: a bulk in [0.5, 2], then 3, 4, 5 (multiplicity mult) and 10."""
    top = torch.tensor([10.0] + [5.0] * mult + [4.0, 3.0], dtype=F64)
    return with_spectrum(torch.cat([bulk(100 - top.numel(), seed=seed + 1), top]), seed=seed)


def check_without_warnings(mult: int, k: int) -> None:
    """The top k of with_multiple_eigenvalue(mult, seed) with block 2, over three seeds: every
    pair within tol (check), and no warning."""
    for seed in range(3):
        A = with_multiple_eigenvalue(mult, seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pairs = top_eigenpairs(DenseOperator(A), k, block=2, tol=TOL, progress=False,
                                   generator=torch.Generator().manual_seed(seed))
        assert not caught, [str(w.message) for w in caught]
        check(A, pairs, k, "magnitude", TOL)


@pytest.mark.parametrize("mult", [3, 6, 8])
def test_multiplicity_inside_the_wanted_set(mult):
    """10, 5 (multiplicity 3, 6 or 8 with block 2), then 4: the top mult + 2. The cluster of
    converged copies as large as the block widens it until it exceeds the multiplicity."""
    check_without_warnings(mult, mult + 2)


@pytest.mark.parametrize("mult", [6, 8])
def test_multiplicity_straddling_the_kth(mult):
    """10, then half of the copies of 5 (multiplicity 6 or 8, block 2): all wanted, not 4."""
    check_without_warnings(mult, 1 + mult // 2)


@pytest.mark.parametrize("k", [7, 8, 10])
def test_k_close_to_the_rank(k):
    """A rank-8 operator (p = 200): the Krylov space becomes invariant; k >= rank returns the
    eight non-zero eigenvalues and zeros."""
    g = torch.Generator().manual_seed(3)
    U = torch.randn(200, 8, generator=g, dtype=F64)
    s = torch.tensor([4.0, -3.5, 3.0, 2.0, -2.0, 1.0, 0.5, -0.25], dtype=F64)
    op = LowRankOperator(U, s)
    A = op.to_dense()
    for which in ("magnitude", "algebraic"):
        pairs = top_eigenpairs(op, k, which=which, tol=TOL, generator=g, progress=False)
        check(A, pairs, k, which, TOL)


def test_float32_operator_and_small_p():
    lam = torch.cat([bulk(46), torch.tensor([30.0, 20.0, 10.0, 8.0], dtype=F64)])
    A = with_spectrum(lam, seed=4)
    pairs = top_eigenpairs(DenseOperator(A.float()), 4, tol=1e-5, progress=False)
    assert pairs.values.dtype == torch.float32
    check(A, pairs, 4, "magnitude", 1e-5)
    # k + block > p: the basis fills the whole space (exact Rayleigh-Ritz)
    pairs = top_eigenpairs(DenseOperator(A), 45, tol=TOL, progress=False)
    check(A, pairs, 45, "magnitude", TOL)


def test_restarts_and_budget():
    """A small basis forces thick restarts; a tiny budget warns and returns the best pairs."""
    lam = torch.cat([bulk(300), torch.linspace(3.0, 2.1, 10, dtype=F64)])
    A = with_spectrum(lam, seed=5)
    pairs = top_eigenpairs(DenseOperator(A), 10, block=4, basis=22, tol=TOL, progress=False)
    check(A, pairs, 10, "algebraic", TOL)
    with pytest.warns(UserWarning, match="did not reach"):
        top_eigenpairs(DenseOperator(A), 10, block=2, basis=14, max_blocks=6, progress=False)


def noisy_operator():
    """A with products carrying 1e-4 relative noise, and its top three eigenvalues."""
    lam = torch.cat([bulk(300), torch.tensor([9.0, 7.0, 6.0], dtype=F64)])
    A = with_spectrum(lam, seed=7)
    g = torch.Generator().manual_seed(0)
    noisy = LinearOperator((303, 303), lambda X: A @ X + 1e-4 * torch.randn(
        X.shape, generator=g, dtype=F64) * X.norm(dim=0))
    return noisy, torch.tensor([9.0, 7.0, 6.0], dtype=F64)


def test_a_noisy_operator_stops_at_its_measured_round_off():
    """Products with 1e-4 relative noise cannot reach tol = 1e-10: the asymmetry of V^T A V
    measures that floor, and the pairs are accepted there, with a warning, accurate to it."""
    noisy, top = noisy_operator()
    with pytest.warns(UserWarning, match="round-off"):
        pairs = top_eigenpairs(noisy, 3, tol=1e-10, block=3, basis=12, progress=False)
    assert torch.allclose(pairs.values, top, atol=1e-2)
    assert float(pairs.residuals.max()) <= 4e-3 * 9.0


def test_the_stall_rule_is_the_fallback(monkeypatch):
    """With the measured floor ignored, the stall rule ends the iteration after a few
    restarts, with pairs accurate to the noise."""
    monkeypatch.setattr(topk, "FLOOR_FACTOR", 0)
    noisy, top = noisy_operator()
    with pytest.warns(UserWarning, match="stalled"):
        pairs = top_eigenpairs(noisy, 3, tol=1e-10, block=3, basis=12, progress=False)
    assert torch.allclose(pairs.values, top, atol=1e-2)


def test_deflation_by_either_method():
    lam = torch.cat([bulk(297), torch.tensor([9.0, 7.0, 6.0], dtype=F64)])
    A = with_spectrum(lam, seed=6)
    moved = torch.sort(torch.cat([lam[:-3], torch.zeros(3, dtype=F64)])).values
    for method in ("krylov", "subspace"):
        op, pairs = low_rank_deflation(DenseOperator(A), 3, 128, method=method,
                                       generator=torch.Generator().manual_seed(0),
                                       progress=False)
        assert torch.allclose(pairs.values, torch.tensor([9.0, 7.0, 6.0], dtype=F64), atol=1e-7)
        assert torch.allclose(torch.linalg.eigvalsh(op.to_dense()), moved, atol=1e-4)
    with pytest.raises(UserError, match="unknown top-k method"):
        low_rank_deflation(DenseOperator(A), 3, method="power")


def test_errors():
    rect = LinearOperator((3, 2), lambda X: torch.ones(3, X.shape[1]), symmetric=False,
                          rmatmat=lambda Y: torch.ones(2, Y.shape[1]))
    op = DenseOperator(torch.eye(5, dtype=F64))
    with pytest.raises(UserError, match="symmetric"):
        top_eigenpairs(rect, 1)
    with pytest.raises(UserError, match="which"):
        top_eigenpairs(op, 1, which="smallest")
    with pytest.raises(UserError, match="1 <= k"):
        top_eigenpairs(op, 6)
    with pytest.raises(UserError, match="tol"):
        top_eigenpairs(op, 1, tol=0.0)
    with pytest.raises(UserError, match="cannot hold"):
        top_eigenpairs(op, 4, block=1, max_blocks=3)
