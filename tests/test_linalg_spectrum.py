"""estimate_spectrum: normalisation of densities, exact path, deflation, datasets, W1, errors."""

import math

import pytest
import torch
from crossclass.errors import UserError
from crossclass.linalg import (
    DenseOperator,
    LinearOperator,
    estimate_spectrum,
    gaussian_mixture,
    subspace_iteration,
    wasserstein1,
)

F64 = torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def spiked(p=300, spikes=(9.0, 7.0, 6.0), negative=(), seed=0):
    """Q diag(bulk uniform on [0.5, 2], spikes, negative spikes) Q^T."""
    g = torch.Generator().manual_seed(seed)
    k = len(spikes) + len(negative)
    bulk = 0.5 + 1.5 * torch.rand(p - k, generator=g, dtype=F64)
    lam = torch.cat([bulk, torch.tensor(spikes + negative, dtype=F64)])
    Q = torch.linalg.qr(torch.randn(p, p, generator=g, dtype=F64)).Q
    return (Q * lam) @ Q.T, torch.sort(lam).values


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("log", [False, True])
def test_densities_integrate_to_one(device, dtype, log):
    A, lam = spiked()
    op = DenseOperator(A.to(device=device, dtype=dtype))
    est = estimate_spectrum(op, M=48, n_vec=4, K=512, log=log, progress=False)
    # bound: integral of the density over its grid is 1 within 1e-3
    assert abs(float(torch.trapezoid(est.density, est.grid)) - 1) <= 1e-3
    assert abs(float(est.ritz_weights.sum(1).mean()) - 1) < 1e-6
    nodes = torch.log(lam + est.params["eps"]) if log else lam
    # bound: W1 to the exact measure below 0.1 (units of lambda / log-lambda), a smoke check
    # of accuracy at this small M on both devices and dtypes
    assert wasserstein1(est.grid, est.density, nodes) < 0.1
    ds = est.to_dataset()
    assert ("log_lambda" if log else "lambda") in ds.coords and ds.attrs["log"] is log


@pytest.mark.parametrize("device", DEVICES)
def test_exact_method_and_dataset(device):
    A, lam = spiked(p=120)
    est = estimate_spectrum(DenseOperator(A.to(device)), method="exact", M=64, K=256,
                            progress=False)
    assert torch.allclose(est.exact_eigenvalues, lam, atol=1e-12)
    assert abs(float(torch.trapezoid(est.density, est.grid)) - 1) <= 1e-3
    ds = est.to_dataset()
    assert ds["density"].dims == ("grid",) and "lambda" in ds.coords
    assert ds["ritz_values"].dims == ("start_vector", "ritz") and ds.sizes["ritz"] == 120
    assert ds.sizes["eigen"] == 120 and "top_eigenvalues" not in ds
    assert ds.attrs["method"] == "exact" and ds.attrs["M"] == 64 and ds.attrs["K"] == 256


def test_lanczos_density_agrees_with_exact_density():
    # same kernel, same grid width: W1 between the two densities' CDFs is the start-vector
    # noise only (bound 0.05 at n_vec = 10 on a spectrum of width ~9)
    A, lam = spiked()
    exact = estimate_spectrum(DenseOperator(A), method="exact", M=64, progress=False)
    lanczos = estimate_spectrum(DenseOperator(A), M=64, n_vec=10, progress=False)
    assert wasserstein1(lanczos.grid, lanczos.density, lam) < 0.05
    assert wasserstein1(exact.grid, exact.density, lam) < 0.05


@pytest.mark.parametrize("device", DEVICES)
def test_deflated_spectrum(device):
    A, lam = spiked()
    est = estimate_spectrum(DenseOperator(A.to(device)), M=64, n_vec=10, deflate=3,
                            deflate_iters=80, progress=False)
    # bound: the deflated eigenvalues are the three spikes to 1e-8
    assert torch.allclose(est.top_eigenvalues, lam[-3:].flip(0), atol=1e-8)
    deflated = torch.cat([lam[:-3], torch.zeros(3, dtype=F64)])
    # bound: the density of the deflated operator (spikes moved to 0) within W1 0.05
    assert wasserstein1(est.grid, est.density, deflated) < 0.05
    ds = est.to_dataset()
    assert ds["top_eigenvalues"].dims == ("top",) and ds.attrs["deflate"] == 3


def test_subspace_iteration_algebraic_versus_magnitude():
    A, lam = spiked(spikes=(5.0, 4.5, 4.0), negative=(-9.0, -8.0, -7.0))
    op = DenseOperator(A)
    g = torch.Generator().manual_seed(1)
    mag = subspace_iteration(op, 3, 100, generator=g, progress=False)
    alg = subspace_iteration(op, 3, 300, which="algebraic", generator=g, progress=False)
    # bound: 1e-8 absolute on both selections
    assert torch.allclose(mag.values, torch.tensor([-9.0, -8.0, -7.0], dtype=F64), atol=1e-8)
    assert torch.allclose(alg.values, torch.tensor([5.0, 4.5, 4.0], dtype=F64), atol=1e-8)
    assert torch.allclose(alg.vectors.T @ alg.vectors, torch.eye(3, dtype=F64), atol=1e-12)


def test_wasserstein1_on_known_distances():
    # a N(0, s^2) density vs a point mass at 0: W1 = E|X| = s sqrt(2/pi) (bound 1e-4)
    s = 0.3
    grid, density = gaussian_mixture(torch.zeros(1, 1), torch.ones(1, 1), -3.0, 3.0, K=4001,
                                     sigma=s / 3.0)
    assert abs(wasserstein1(grid, density, torch.zeros(5)) - s * math.sqrt(2 / math.pi)) < 1e-4
    # uniform on [0, 1] vs n midpoints: W1 = 1 / (4 n) (bound 1e-6)
    grid = torch.linspace(0, 1, 2001, dtype=F64)
    mids = (torch.arange(10, dtype=F64) + 0.5) / 10
    assert abs(wasserstein1(grid, torch.ones_like(grid), mids) - 1 / 40) < 1e-6


def test_deterministic_with_seed():
    A, _ = spiked(p=100)
    a = estimate_spectrum(DenseOperator(A), M=20, n_vec=3, seed=5, progress=False)
    b = estimate_spectrum(DenseOperator(A), M=20, n_vec=3, seed=5, progress=False)
    c = estimate_spectrum(DenseOperator(A), M=20, n_vec=3, seed=6, progress=False)
    assert torch.equal(a.density, b.density) and not torch.equal(a.density, c.density)


def test_estimate_spectrum_rejects_bad_input():
    op = DenseOperator(torch.eye(5, dtype=F64))
    bad = [dict(method="kpm"), dict(M=1), dict(n_vec=0), dict(K=1), dict(kappa=1.0),
           dict(tau=-0.1), dict(deflate=5), dict(log=True, eps=-1.0)]
    for kwargs in bad:
        with pytest.raises(UserError):
            estimate_spectrum(op, progress=False, **kwargs)
    rect = LinearOperator((3, 4), lambda X: X[:3], symmetric=False)
    with pytest.raises(UserError):
        estimate_spectrum(rect, progress=False)
