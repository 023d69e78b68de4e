"""Operator algebra against dense float64 matrices (bound: 1e-10 relative Frobenius)."""

import pytest
import torch
from crossclass.errors import UserError
from crossclass.linalg import (
    DenseOperator,
    LinearOperator,
    LowRankOperator,
    deflate,
    projection_knockout,
)

F64 = torch.float64
GEN = torch.Generator


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=GEN().manual_seed(seed), dtype=F64)


def sym(p, seed=0):
    X = randn(p, p, seed=seed)
    return (X + X.T) / 2


def rel(a, b):
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def with_rank(m, n, singular_values, seed=0):
    """m x n matrix U diag(s) V^T with random orthonormal U, V."""
    k = len(singular_values)
    U = torch.linalg.qr(randn(m, k, seed=seed)).Q
    V = torch.linalg.qr(randn(n, k, seed=seed + 1)).Q
    return (U * torch.tensor(singular_values, dtype=F64)) @ V.T


def test_dense_and_low_rank_operators_match_their_matrices():
    A, X = sym(9), randn(9, 4, seed=1)
    dense = DenseOperator(A)
    assert dense.symmetric and dense.to_dense() is A
    R = randn(6, 9, seed=2)
    rect = DenseOperator(R)
    assert not rect.symmetric
    assert rel(rect @ X, R @ X) < 1e-14 and rel(rect.T @ randn(6, 3), R.T @ randn(6, 3)) < 1e-14
    U, s = randn(9, 3, seed=3), torch.tensor([2.0, -1.0, 0.5], dtype=F64)
    low = LowRankOperator(U, s)
    assert rel(low.to_dense(), (U * s) @ U.T) < 1e-14
    # algebra of operator.py on these: +, -, scalar *, shift, to_dense
    combo = (dense + low) * 2.0 - low.shift(0.5)
    expected = 2 * (A + (U * s) @ U.T) - ((U * s) @ U.T - 0.5 * torch.eye(9, dtype=F64))
    assert rel(combo @ X, expected @ X) < 1e-13


def test_projection_knockout_non_square_matches_pseudoinverse_form():
    m, n = 7, 5
    A, B = randn(m, n, seed=4), with_rank(m, n, [3.0, 0.2], seed=5)
    knocked = projection_knockout(DenseOperator(A), B)
    Bp = torch.linalg.pinv(B, rtol=1e-12)
    expected = (torch.eye(m, dtype=F64) - B @ Bp) @ A @ (torch.eye(n, dtype=F64) - Bp @ B)
    assert knocked.shape == (m, n) and not knocked.symmetric
    assert rel(knocked.to_dense(), expected) < 1e-10
    assert rel(knocked.T.to_dense(), expected.T) < 1e-10


def test_projection_knockout_is_rank_revealing():
    # a singular value at round-off level (1e-18) is zero: only two directions are removed
    m, n = 8, 6
    A, B = randn(m, n, seed=6), with_rank(m, n, [1.0, 0.5, 1e-18], seed=7)
    knocked = projection_knockout(DenseOperator(A), B).to_dense()
    Bp = torch.linalg.pinv(B, rtol=1e-12)
    expected = (torch.eye(m, dtype=F64) - B @ Bp) @ A @ (torch.eye(n, dtype=F64) - Bp @ B)
    assert torch.linalg.matrix_rank(torch.eye(n, dtype=F64) - Bp @ B) == n - 2
    assert rel(knocked, expected) < 1e-10


def test_projection_knockout_symmetric_low_rank_factor_and_dense_agree():
    p = 12
    A, F = sym(p, seed=8), randn(p, 3, seed=9)
    s = torch.tensor([1.0, 2.0, -3.0], dtype=F64)
    B = (F * s) @ F.T
    P = torch.eye(p, dtype=F64) - B @ torch.linalg.pinv(B, rtol=1e-12)
    expected = P @ A @ P
    for given in (B, DenseOperator(B), LowRankOperator(F, s)):
        knocked = projection_knockout(DenseOperator(A), given)
        assert knocked.symmetric
        assert rel(knocked.to_dense(), expected) < 1e-10
    # a factor whose product vanishes (s = (1, -1) on equal columns) knocks nothing out
    G = torch.cat([F[:, :1], F[:, :1]], dim=1)
    zero = LowRankOperator(G, torch.tensor([1.0, -1.0], dtype=F64))
    assert rel(projection_knockout(DenseOperator(A), zero).to_dense(), A) < 1e-14


def test_deflation_matches_dense():
    p = 15
    A = sym(p, seed=10)
    lam, V = torch.linalg.eigh(A)
    deflated = deflate(DenseOperator(A), lam[-2:], V[:, -2:]).to_dense()
    expected_spectrum = torch.sort(torch.cat([lam[:-2], torch.zeros(2, dtype=F64)])).values
    assert rel(deflated, A - (V[:, -2:] * lam[-2:]) @ V[:, -2:].T) < 1e-14
    assert torch.allclose(torch.linalg.eigvalsh(deflated), expected_spectrum, atol=1e-12)


def test_algebra_rejects_bad_input():
    A = DenseOperator(sym(4))
    with pytest.raises(UserError):
        projection_knockout(A, torch.ones(3, 4, dtype=F64))
    with pytest.raises(UserError):
        projection_knockout(A, "B")
    with pytest.raises(UserError):
        DenseOperator(torch.ones(3, dtype=F64))
    with pytest.raises(UserError):
        LowRankOperator(torch.ones(4, 2, dtype=F64), torch.ones(3, dtype=F64))
    rect = LinearOperator((3, 4), lambda X: X[:3], symmetric=False)
    with pytest.raises(UserError):
        deflate(rect, torch.ones(1), torch.ones(3, 1))


def test_low_rank_range_keeps_small_directions_of_a_long_float32_factor():
    """p * eps(float32) = 0.024 at p = 2e5: a float32 rank decision would drop the 1e-3
    direction. The decision runs in float64, so all three directions survive (bound: rank 3)."""
    g = torch.Generator().manual_seed(0)
    U = torch.randn(200_000, 3, generator=g, dtype=torch.float64)
    U = torch.linalg.qr(U).Q.float()
    basis = LowRankOperator(U, torch.tensor([1.0, 1e-3, 1e-1])).range_basis()
    assert basis.dtype == torch.float32 and basis.shape == (200_000, 3)


def test_projection_knockout_of_a_square_non_symmetric_matrix():
    """A square weight matrix W (not symmetric) knocked out by a rank-2 part: no Lanczos scale
    estimate (it needs symmetry), W (I - B^+ B) and (I - B B^+) W by the SVD of B."""
    g = torch.Generator().manual_seed(0)
    W = torch.randn(6, 6, generator=g, dtype=torch.float64)
    B = torch.randn(6, 2, generator=g, dtype=torch.float64) @ torch.randn(
        2, 6, generator=g, dtype=torch.float64)
    got = projection_knockout(DenseOperator(W), B).matmat(torch.eye(6, dtype=torch.float64))
    P_left = torch.eye(6, dtype=torch.float64) - B @ torch.linalg.pinv(B)
    P_right = torch.eye(6, dtype=torch.float64) - torch.linalg.pinv(B) @ B
    torch.testing.assert_close(got, P_left @ W @ P_right, rtol=1e-10, atol=1e-12)
