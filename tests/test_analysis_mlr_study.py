"""`crossclass mlr-study` (section 8 shown right): the sampled G at the theorem's probabilities
converges to E G at the exact n^{-1/2} rate; the SNR sweep's separations follow the theorem's
ordering and grow with t while the misclassification rate falls."""

import numpy as np
import pytest
from crossclass.analysis.mlr_study import group_ratios
from crossclass.cli import main
from crossclass.mlr import expected_fim_eigenvalues
from crossclass.stores import read_store, store_params


def test_group_ratios_of_the_closed_form():
    D, C, alpha, s = 7, 4, 0.3, 4.0
    K, a = 2 - alpha * C / (C - 1), alpha / (C - 1)
    r = group_ratios(expected_fim_eigenvalues(D, C, alpha, s).numpy(), D, C)
    assert r["outlier_bulk"] == pytest.approx((s * (1 - alpha) + K) / K, rel=1e-12)
    assert r["minibulk_bulk"] == pytest.approx((s / C + K) / K, rel=1e-12)
    assert r["outlier_minibulk"] == pytest.approx(a * (s * (1 - alpha) + K) / (a * (s / C + K)),
                                                  rel=1e-12)


def test_group_ratios_c2_has_no_mini_bulk():
    r = group_ratios(expected_fim_eigenvalues(3, 2, 0.2, 1.0).numpy(), 3, 2)
    assert np.isnan(r["outlier_minibulk"]) and np.isnan(r["minibulk_bulk"])
    assert r["outlier_bulk"] > 1


def test_study_store(tmp_path):
    D, C = 8, 3
    out = tmp_path / "study.zarr"
    assert main(["mlr-study", "--D", str(D), "--C", str(C), "--t", "2", "--alpha", "0.2",
                 "--n-values", "20", "200", "2000", "--repeats", "4", "--t-values", "0.5", "3",
                 "--sweep-n", "100", "--seed", "0", "--out", str(out)]) == 0
    ds = read_store(out)
    assert store_params(ds)["n_values"] == [20, 200, 2000]
    fro, rms = ds["rel_fro_error"].values, ds["expected_rel_rms"].values
    # exact rate: the rms over repeats within 40 % of the closed form, falling like n^{-1/2}
    np.testing.assert_allclose(np.sqrt((fro ** 2).mean(axis=1)), rms, rtol=0.4)
    np.testing.assert_allclose(rms[:-1] / rms[1:], np.sqrt(10), rtol=1e-12)
    # Weyl: eigenvalue error <= ||G_n - E G||_2 <= ||G_n - E G||_F
    theory = ds["theory_eigenvalues"].values
    norm = np.sqrt((theory ** 2).sum())  # ||E G||_F
    assert (ds["eig_error"].values * theory[0] <= fro * norm * (1 + 1e-12)).all()
    # SNR sweep: more signal, fewer errors, larger separations (theorem and data)
    assert ds["alpha"].values[1] < ds["alpha"].values[0]
    for var in ("outlier_bulk", "theory_outlier_bulk", "minibulk_bulk"):
        assert ds[var].values[1] > ds[var].values[0]
