"""Multinomial logistic regression on CCM(D, C): Lemma 8.1, Theorem 8.1, Monte-Carlo G, training."""

import math

import pytest
import torch
from crossclass.errors import UserError
from crossclass.mlr import (
    class_block,
    expected_fim,
    expected_fim_eigenvalues,
    expected_fim_spectrum,
    fim_dense,
    fim_operator,
    mlr_probabilities,
    monte_carlo_fim,
    monte_carlo_fim_mse,
    sample_ccm,
    symmetric_probabilities,
    train_mlr,
)
from torch.func import hessian, jacrev

EXACT = 1e-10  # relative Frobenius residual for identities the docs call exact


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def colvec(W: torch.Tensor) -> torch.Tensor:
    """The paper's column-stacking vec(W): index d * C + c holds W[c, d]."""
    return W.T.reshape(-1)


def unvec(theta: torch.Tensor, C: int, D: int) -> torch.Tensor:
    return theta.reshape(D, C).T


# ---- sampler ---------------------------------------------------------------------------------
def test_sample_ccm_shapes_labels_determinism_and_means():
    D, C, n, t = 6, 4, 2000, 3.0
    X, y = sample_ccm(D, C, n, t=t, seed=7)
    assert X.shape == (C * n, D) and X.dtype == torch.float64
    assert y.shape == (C * n,) and y.dtype == torch.int64
    assert torch.equal(y, torch.arange(C).repeat_interleave(n))
    X2, y2 = sample_ccm(D, C, n, t=t, seed=7)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = sample_ccm(D, C, n, t=t, seed=8)
    assert not torch.equal(X, X3)
    assert sample_ccm(D, C, 3, t=t, seed=7, dtype=torch.float32)[0].dtype == torch.float32
    # class means t e_c and identity covariance: each mean coordinate is N(0, 1/n) around
    # its target, so 6 / sqrt(n) bounds all 24 coordinates with overwhelming probability.
    means = torch.stack([X[y == c].mean(0) for c in range(C)])
    target = t * torch.eye(C, D, dtype=torch.float64)
    assert float((means - target).abs().max()) < 6 / math.sqrt(n)
    Z = X - target[y]
    assert float((Z.T @ Z / len(Z) - torch.eye(D, dtype=torch.float64)).abs().max()) < 0.1


@pytest.mark.parametrize("kwargs", [dict(D=2, C=3, n_per_class=5), dict(D=3, C=1, n_per_class=5),
                                    dict(D=3, C=3, n_per_class=0)])
def test_sample_ccm_bad_input(kwargs):
    with pytest.raises(UserError):
        sample_ccm(**kwargs)


def test_bad_alpha_and_s():
    with pytest.raises(UserError):
        symmetric_probabilities(3, 0.7)  # 1 - alpha < 1/C
    with pytest.raises(UserError):
        expected_fim_spectrum(4, 3, -0.1, 1.0)
    with pytest.raises(UserError):
        expected_fim(4, 3, 0.2, -1.0)


# ---- U_c -------------------------------------------------------------------------------------
@pytest.mark.parametrize("C,alpha", [(2, 0.3), (3, 0.1), (5, 0.8), (4, 0.75)])
def test_class_blocks_have_rank_C_minus_1(C, alpha):
    P = symmetric_probabilities(C, alpha)
    assert torch.allclose(P.sum(1), torch.ones(C, dtype=torch.float64), atol=1e-15)
    U = class_block(P)
    ones = torch.ones(C, dtype=torch.float64)
    for c in range(C):
        assert int(torch.linalg.matrix_rank(U[c])) == C - 1
        assert float((U[c] @ ones).abs().max()) < 1e-15
    assert int(torch.linalg.matrix_rank(torch.block_diag(*U))) == C * (C - 1)
    # also for generic softmax probabilities
    p = torch.softmax(torch.randn(10, C, generator=torch.Generator().manual_seed(0),
                                  dtype=torch.float64), dim=1)
    assert all(int(torch.linalg.matrix_rank(u)) == C - 1 for u in class_block(p))


# ---- G of multinomial logistic regression ----------------------------------------------------
def test_fim_dense_is_ggn_and_hessian_and_operator_matches():
    """G = Ave J^T (diag p - p p^T) J = Hessian of mean CE (f linear in theta), exact."""
    gen = torch.Generator().manual_seed(3)
    N, D, C = 9, 4, 3
    X = torch.randn(N, D, generator=gen, dtype=torch.float64)
    y = torch.randint(C, (N,), generator=gen)
    W = torch.randn(C, D, generator=gen, dtype=torch.float64)
    theta = colvec(W)
    p = mlr_probabilities(W, X)
    G = fim_dense(X, p)

    J = jacrev(lambda th: X @ unvec(th, C, D).T)(theta)  # (N, C, DC)
    ggn = torch.einsum("nap,nab,nbq->pq", J, class_block(p), J) / N
    assert rel(G, ggn) < EXACT
    H = hessian(lambda th: torch.nn.functional.cross_entropy(X @ unvec(th, C, D).T, y))(theta)
    assert rel(G, H) < EXACT

    op = fim_operator(X, p)
    assert op.shape == (D * C, D * C)
    assert rel(op.to_dense(chunk=5), G) < EXACT
    v = torch.randn(D * C, generator=gen, dtype=torch.float64)
    assert rel(op @ v, G @ v) < EXACT


def test_lemma_8_1_exact_on_a_moment_matching_design():
    """Lemma 8.1 through the generic G code: per class use the 2D points t e_c +- sqrt(D) e_j,
    whose second moment is exactly s e_c e_c^T + I = E x x^T under CCM; then
    fim_dense(points, p_{.,y}) = Ave_c E[x x^T] (x) U_c must equal the lemma's closed form."""
    D, C, alpha, t = 5, 3, 0.35, 1.7
    pts, labels = [], []
    for c in range(C):
        for j in range(D):
            for sign in (1.0, -1.0):
                x = torch.zeros(D, dtype=torch.float64)
                x[c] += t
                x[j] += sign * math.sqrt(D)
                pts.append(x)
                labels.append(c)
    X, y = torch.stack(pts), torch.tensor(labels)
    assert rel(monte_carlo_fim(X, y, C, alpha), expected_fim(D, C, alpha, t * t)) < EXACT


# ---- Theorem 8.1 -----------------------------------------------------------------------------
@pytest.mark.parametrize("D,C,alpha,s", [
    (3, 3, 0.3, 2.0),      # D = C: no main bulk
    (7, 4, 0.5, 5.0),      # D > C
    (6, 2, 0.2, 1.0),      # C = 2: no mini-bulk
    (8, 5, 0.05, 30.0),    # high SNR, small error
    (4, 4, 0.75, 3.0),     # 1 - alpha = 1/C: outliers meet the mini-bulk
    (5, 3, 0.4, 0.0),      # s = 0: pure noise
])
def test_theorem_8_1_matches_eigh_of_lemma_8_1(D, C, alpha, s):
    EG = expected_fim(D, C, alpha, s)
    assert torch.equal(EG, EG.T)
    dense = torch.linalg.eigvalsh(EG).flip(0)
    closed = expected_fim_eigenvalues(D, C, alpha, s)
    assert closed.shape == (D * C,)
    scale = float(dense.abs().max())
    assert float((closed - dense).abs().max()) <= 1e-12 * scale
    values, mults = expected_fim_spectrum(D, C, alpha, s)
    assert int(mults.sum()) == D * C
    assert tuple(mults.tolist()) == (C, C * (C - 2), (D - C) * (C - 1), D)
    tol = 1e-9 * scale
    for v in values:  # true multiplicities, merging groups whose values coincide
        expected = int(mults[(values - v).abs() <= tol].sum())
        assert int(((dense - v).abs() <= tol).sum()) == expected
    assert bool((values[:-1] >= values[1:] - tol).all())  # outliers >= mini-bulk >= bulk >= 0


# ---- Monte-Carlo G -> E G --------------------------------------------------------------------
def test_monte_carlo_fim_converges_like_inverse_sqrt_n():
    """G_n (sampled CCM at the theorem's probabilities) -> E G.

    Bounds: monte_carlo_fim_mse gives E||G_n - E G||_F^2 exactly; one replicate's squared error
    has relative spread <= 0.5 here, so the mean of R = 32 is within 30% (> 3 standard errors).
    RMS error ratios between sizes 8x apart are sqrt(8) = 2.83, asserted in [2, 4]. Weyl's
    inequality bounds every replicate's eigenvalue error by its spectral-norm error."""
    D, C, alpha, t, R = 5, 3, 0.3, 2.0, 32
    EG = expected_fim(D, C, alpha, t * t)
    ev = torch.linalg.eigvalsh(EG)
    rms_frob, rms_eig = [], []
    for n in (50, 400, 3200):
        frob2, eig2 = [], []
        for r in range(R):
            X, y = sample_ccm(D, C, n, t=t, seed=10_000 * n + r)
            diff = monte_carlo_fim(X, y, C, alpha) - EG
            eig_err = float((torch.linalg.eigvalsh(diff + EG) - ev).abs().max())
            assert eig_err <= float(torch.linalg.matrix_norm(diff, ord=2)) + 1e-12  # Weyl
            frob2.append(float(diff.square().sum()))
            eig2.append(eig_err**2)
        mse = sum(frob2) / R
        assert 0.7 < mse / monte_carlo_fim_mse(D, C, n, alpha, t * t) < 1.3
        rms_frob.append(math.sqrt(mse))
        rms_eig.append(math.sqrt(sum(eig2) / R))
    for k in range(2):
        assert 2.0 < rms_frob[k] / rms_frob[k + 1] < 4.0
        assert rms_eig[k] / rms_eig[k + 1] > 1.8


def test_monte_carlo_operator_matches_dense():
    X, y = sample_ccm(4, 3, 20, t=1.5, seed=0)
    op = fim_operator(X, symmetric_probabilities(3, 0.25)[y])
    assert rel(op.to_dense(), monte_carlo_fim(X, y, 3, 0.25)) < EXACT


# ---- training --------------------------------------------------------------------------------
def test_train_mlr_separable_reaches_low_loss_and_is_deterministic():
    X, y = sample_ccm(5, 3, 40, t=8.0, seed=0)
    assert bool((X @ torch.eye(5, 3, dtype=X.dtype)).argmax(1).eq(y).all())  # separable
    fit = train_mlr(X, y, 3, max_iter=200, progress=False)
    assert fit.W.shape == (3, 5)
    assert fit.loss < 1e-6
    assert bool(mlr_probabilities(fit.W, X).argmax(1).eq(y).all())
    again = train_mlr(X, y, 3, max_iter=200, progress=False)
    assert torch.equal(fit.W, again.W)


def test_train_mlr_weight_decay_stationary_and_trained_fim():
    """With weight decay the optimum is unique; at it grad = Ave (p - e_y) x^T + eta W = 0."""
    X, y = sample_ccm(6, 3, 30, t=1.0, seed=1)
    eta = 1e-2
    fit = train_mlr(X, y, 3, weight_decay=eta, max_iter=500, tol=1e-8, progress=False)
    assert fit.grad_norm <= 1e-8 and fit.iterations < 500
    p = mlr_probabilities(fit.W, X)
    onehot = torch.nn.functional.one_hot(y, 3).to(X.dtype)
    grad = (p - onehot).T @ X / len(y) + eta * fit.W
    assert float(grad.norm()) <= 1e-8
    G = fim_dense(X, p)
    assert rel(fim_operator(X, p).to_dense(), G) < EXACT
    assert float(torch.linalg.eigvalsh(G).min()) > -1e-12  # G is PSD


def test_train_mlr_bad_labels():
    X, y = sample_ccm(3, 3, 4, seed=0)
    with pytest.raises(UserError):
        train_mlr(X, y, 2, progress=False)
