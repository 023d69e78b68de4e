"""The verification matrices of Figure 15 against their dense float64 spectra."""

import pytest
import torch
from crossclass.linalg import (
    DenseOperator,
    estimate_spectrum,
    normalization,
    subspace_iteration,
    wasserstein1,
)
from crossclass.verification import fig15a_matrix, fig15b_matrix


@pytest.fixture(scope="module")
def fig15a():
    A = fig15a_matrix(seed=0)
    return DenseOperator(A), torch.linalg.eigvalsh(A)


@pytest.fixture(scope="module")
def fig15b():
    Y = fig15b_matrix(seed=0)
    return DenseOperator(Y), torch.linalg.eigvalsh(Y)


def test_fig15a_density(fig15a):
    op, eigenvalues = fig15a
    est = estimate_spectrum(op, M=128, n_vec=10, seed=0, progress=False)
    # bound: W1(estimate, exact spectral measure) <= 0.03 (smoothing sigma ~ 0.02 plus the
    # start-vector noise ~ n_vec^-1/2)
    assert wasserstein1(est.grid, est.density, eigenvalues) <= 0.03
    # bound: the density integrates to 1 within 1e-3
    assert abs(float(torch.trapezoid(est.density, est.grid)) - 1) <= 1e-3
    # the three outliers are converged Ritz values (bound 1e-8)
    for outlier in eigenvalues[-3:]:
        assert float((est.ritz_values - outlier).abs().min()) < 1e-8


def test_fig15a_normalization_interval_covers_the_spectrum(fig15a):
    op, eigenvalues = fig15a
    lo, hi = normalization(op, 32, generator=torch.Generator().manual_seed(0),
                           progress=False).interval(0.05)
    assert lo <= float(eigenvalues[0]) and float(eigenvalues[-1]) <= hi
    # and is not loose: within 10% of the range on each side
    span = float(eigenvalues[-1] - eigenvalues[0])
    assert float(eigenvalues[0]) - lo < 0.1 * span and hi - float(eigenvalues[-1]) < 0.1 * span


def test_fig15a_subspace_iteration_finds_the_outliers(fig15a):
    op, eigenvalues = fig15a
    pairs = subspace_iteration(op, 3, 128, generator=torch.Generator().manual_seed(0),
                               progress=False)
    # bound: 1e-8 absolute on eigenvalues of size ~5 (float64)
    assert torch.allclose(pairs.values, eigenvalues[-3:].flip(0), rtol=0, atol=1e-8)
    assert float(pairs.residuals.max()) < 1e-4


def test_fig15b_log_spectrum(fig15b):
    op, eigenvalues = fig15b
    est = estimate_spectrum(op, M=256, n_vec=10, log=True, eps=1e-6, seed=0, progress=False)
    log_eigs = torch.log(eigenvalues.abs() + 1e-6)
    # bound: W1 <= 0.3 log-units at M = 256, n_vec = 10
    assert wasserstein1(est.grid, est.density, log_eigs) <= 0.3
    # bound: the log-density integrates to 1 in u within 1e-3
    assert abs(float(torch.trapezoid(est.density, est.grid)) - 1) <= 1e-3
