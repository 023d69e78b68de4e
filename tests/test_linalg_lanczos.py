"""Lanczos: exactness of SlowLanczos, Gauss quadrature, block = sequential, float32, breakdown."""

import pytest
import torch
from crossclass.errors import UserError
from crossclass.linalg import DenseOperator, LowRankOperator, fast_lanczos, slow_lanczos

F64 = torch.float64


def sym_with_spectrum(eigenvalues, seed=0):
    """Q diag(eigenvalues) Q^T with a random orthogonal Q (float64)."""
    g = torch.Generator().manual_seed(seed)
    lam = torch.as_tensor(eigenvalues, dtype=F64)
    Q = torch.linalg.qr(torch.randn(lam.numel(), lam.numel(), generator=g, dtype=F64)).Q
    return (Q * lam) @ Q.T


def unit(p, n=1, seed=1):
    v = torch.randn(p, n, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return v / torch.linalg.vector_norm(v, dim=0)


def test_slow_lanczos_with_M_equal_p_reproduces_every_eigenvalue():
    # Repeated eigenvalues make the Krylov space (dimension 6 = number of distinct values)
    # invariant long before M = p = 30: breakdown="restart" must carry on to all 30.
    lam = torch.tensor([-2.0] * 5 + [-0.5] * 4 + [0.0] * 6 + [1.0] * 5 + [3.0] * 5 + [7.0] * 5)
    A = sym_with_spectrum(lam)
    tri = slow_lanczos(DenseOperator(A), 30, unit(30)[:, 0],
                       generator=torch.Generator().manual_seed(2), progress=False)
    theta = tri.ritz().theta[0]
    # bound: every eigenvalue to 1e-10 relative to max|lambda|
    assert torch.allclose(theta, lam.to(F64), rtol=0, atol=1e-10 * 7.0)
    assert int((tri.beta[0, :-1] == 0).sum()) >= 1  # a restart did happen


def test_slow_lanczos_stop_returns_the_invariant_krylov_space():
    lam = torch.tensor([1.0] * 10 + [2.0] * 10 + [5.0] * 10)
    tri = slow_lanczos(DenseOperator(sym_with_spectrum(lam)), 30, unit(30)[:, 0],
                       breakdown="stop", progress=False)
    ritz = tri.ritz()
    # Krylov dimension = 3 distinct eigenvalues; Ritz values exact to 1e-12
    assert ritz.theta.shape == (1, 3)
    assert torch.allclose(ritz.theta[0], torch.tensor([1.0, 2.0, 5.0], dtype=F64), atol=1e-12)


@pytest.mark.parametrize("lanczos", [fast_lanczos, slow_lanczos])
def test_gauss_quadrature_moments(lanczos):
    # sum_m w_m theta_m^k = v^T A^k v for k < 2M (spectrum in [-1, 1]: bound 1e-10 absolute,
    # i.e. relative to ||A||^k = 1); degree 2M is not integrated exactly.
    p, M = 40, 6
    A = sym_with_spectrum(torch.linspace(-1, 1, p) ** 3)
    v = unit(p)
    ritz = lanczos(DenseOperator(A), M, v[:, 0], progress=False).ritz()
    Akv = v.clone()
    for k in range(2 * M + 1):
        exact = float(v[:, 0] @ Akv[:, 0])
        quad = float((ritz.weights[0] * ritz.theta[0] ** k).sum())
        if k < 2 * M:
            assert abs(quad - exact) <= 1e-10, k
        else:
            assert abs(quad - exact) > 1e-8
        Akv = A @ Akv


def test_block_fast_lanczos_equals_sequential_runs():
    p, n, M = 80, 5, 40
    A = sym_with_spectrum(torch.linspace(0, 3, p) ** 2)
    starts = unit(p, n)
    calls = []
    op = DenseOperator(A)
    counting = type(op)(A)
    counting._matmat = lambda X: calls.append(X.shape) or A @ X
    block = fast_lanczos(counting, M, starts, progress=False)
    assert calls == [(p, n)] * M  # one (p, n_vec) block per iteration
    for j in range(n):
        one = fast_lanczos(op, M, starts[:, j], progress=False)
        # bound: round-off (different BLAS paths), 1e-10 relative to ||A|| = 9
        assert torch.allclose(block.alpha[j], one.alpha[0], rtol=0, atol=1e-10 * 9)
        assert torch.allclose(block.beta[j], one.beta[0], rtol=0, atol=1e-10 * 9)


def test_float32_operator_keeps_float64_coefficients():
    p = 200
    A = sym_with_spectrum(torch.linspace(-1, 2, p))
    v = unit(p)
    op32 = DenseOperator(A.float())
    tri = fast_lanczos(op32, 30, v, progress=False)
    assert tri.alpha.dtype == F64 and tri.beta.dtype == F64
    v32 = v[:, 0].float()
    exact_alpha1 = float(v32.double() @ (A.float() @ v32).double())
    # alpha_1 is the float64 inner product of the float32 vectors (bound 1e-14 relative)
    assert abs(float(tri.alpha[0, 0]) - exact_alpha1) <= 1e-14 * abs(exact_alpha1)
    # extreme Ritz values agree with float64 Lanczos to float32 accuracy (bound 1e-5 * ||A||)
    tri64 = fast_lanczos(DenseOperator(A), 30, v, progress=False)
    t32, t64 = tri.ritz().theta[0], tri64.ritz().theta[0]
    assert abs(t32[0] - t64[0]) < 2e-5 and abs(t32[-1] - t64[-1]) < 2e-5


def test_fast_lanczos_breakdown_on_low_rank_operator():
    # rank 3: Krylov space has dimension 4 (3 eigenvectors + null component); M = 12 must not
    # produce NaN and the quadrature measure must equal the spectral measure of v exactly.
    p = 50
    g = torch.Generator().manual_seed(3)
    U = torch.linalg.qr(torch.randn(p, 3, generator=g, dtype=F64)).Q
    s = torch.tensor([2.0, -1.0, 0.5], dtype=F64)
    v = unit(p)[:, 0]
    tri = fast_lanczos(LowRankOperator(U, s), 12, v, generator=g, progress=False)
    ritz = tri.ritz()
    assert torch.isfinite(ritz.theta).all() and (tri.beta[0, :-1] == 0).any()
    expected = dict(zip(s.tolist(), ((U.T @ v) ** 2).tolist(), strict=True))
    expected[0.0] = 1.0 - sum(expected.values())
    for lam, mass in expected.items():
        near = (ritz.theta[0] - lam).abs() < 1e-8
        # bound: masses to 1e-10
        assert abs(float(ritz.weights[0][near].sum()) - mass) < 1e-10, lam
    assert abs(float(ritz.weights.sum()) - 1.0) < 1e-12


def test_lanczos_rejects_bad_input():
    A = DenseOperator(torch.randn(5, 4, dtype=F64))
    with pytest.raises(UserError):
        fast_lanczos(A, 3, torch.ones(5))
    sym = DenseOperator(torch.eye(4, dtype=F64))
    with pytest.raises(UserError):
        fast_lanczos(sym, 3, torch.zeros(4))
    with pytest.raises(UserError):
        slow_lanczos(sym, 5, torch.ones(4))
    with pytest.raises(UserError):
        slow_lanczos(sym, 2, torch.ones(4), breakdown="ignore")
