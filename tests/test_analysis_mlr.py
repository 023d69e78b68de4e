"""`crossclass mlr-spectrum`: Theorem 8.1 vs the sampled MLR FIM (section 8).

Symmetric mode: the sampled G concentrates on E G at rate n^{-1/2}; by Weyl's inequality every
eigenvalue error is at most ||G_n - E G||_2 <= ||G_n - E G||_F, whose root-mean-square is
crossclass.mlr.monte_carlo_fim_mse. The test bounds the eigenvalue error by 5 times that rms
(a 5-sigma Markov-type bound) and checks the dense path against eigh of fim_dense directly.
"""

import math

import numpy as np
import torch
from crossclass.cli import main
from crossclass.mlr import fim_dense, monte_carlo_fim_mse, sample_ccm, symmetric_probabilities
from crossclass.stores import read_store, store_params


def test_symmetric_mode_matches_theorem_within_monte_carlo_error(tmp_path):
    D, C, t, n, alpha = 6, 4, 3.0, 400, 0.2
    out = tmp_path / "mlr.zarr"
    assert main(["mlr-spectrum", "--D", str(D), "--C", str(C), "--t", str(t), "--n-per-class",
                 str(n), "--seed", "3", "--alpha", str(alpha), "--out", str(out)]) == 0
    ds = read_store(out)
    params = store_params(ds)
    assert params["mode"] == "symmetric" and int(ds["D"]) == D and int(ds["seed"]) == 3
    emp, theory = ds["empirical_eigenvalues"].values, ds["theory_eigenvalues"].values
    assert emp.shape == theory.shape == (D * C,)
    # the dense path is eigh of the sampled FIM itself (exact)
    X, y = sample_ccm(D, C, n, t=t, seed=3)
    direct = torch.linalg.eigvalsh(fim_dense(X, symmetric_probabilities(C, alpha)[y])).flip(0)
    np.testing.assert_allclose(emp, direct.numpy(), rtol=0, atol=1e-12 * abs(direct).max())
    rms = math.sqrt(monte_carlo_fim_mse(D, C, n, alpha, t * t))
    assert np.abs(emp - theory).max() < 5 * rms
    assert list(ds["theory_multiplicities"].values) == [C, C * (C - 2), (D - C) * (C - 1), D]


def test_trained_mode_measures_alpha(tmp_path):
    out = tmp_path / "mlr.zarr"
    assert main(["mlr-spectrum", "--D", "5", "--C", "3", "--t", "1.0", "--n-per-class", "30",
                 "--seed", "0", "--weight-decay", "0.01", "--max-iter", "100",
                 "--out", str(out)]) == 0
    ds = read_store(out)
    params = store_params(ds)
    assert params["mode"] == "trained" and 0 < params["alpha"] < 2 / 3
    emp = ds["empirical_eigenvalues"].values
    # FIM of softmax regression: PSD with the D-dimensional null space U 1 = 0
    assert emp.min() > -1e-12 and np.sum(np.abs(emp) < 1e-12 * emp.max()) == 5


def test_too_large_is_a_user_error(tmp_path, capsys):
    assert main(["mlr-spectrum", "--D", "1000", "--C", "10", "--t", "1", "--n-per-class", "2",
                 "--seed", "0", "--alpha", "0.1", "--out", str(tmp_path / "x.zarr")]) == 2
    assert "exceeds" in capsys.readouterr().err
