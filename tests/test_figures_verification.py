"""Figure 15 drawn from small verification matrices (`verify matrix`, `spectra matrix`), read
back: each panel's histogram is that of the store's exact eigenvalues (their logs for the log
spectrum) and its red line the store's density on its grid."""

import numpy as np
import pytest
from crossclass.cli import main
from crossclass.figures.plotting import ESTIMATE_COLOR
from crossclass.stores import read_store, store_params
from figure_checks import Spectrum, assert_density, assert_values, drawn, panels
from test_analysis_network import cli

ESTIMATOR = ["--M", 10, "--n-vec", 1, "--K", 48, "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def fig15_stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fig15")
    out = []
    for name, sets, extra in (("fig15a", ["p=40"], ["--no-log"]),
                              ("fig15b", ["p=40", "n=80"], ["--log", "--eps", 1e-8])):
        matrix, spectrum = tmp / f"{name}_matrix.zarr", tmp / f"{name}.zarr"
        cli("verify", "matrix", name, *[x for s in sets for x in ("--set", s)], "--out", matrix)
        cli("spectra", "matrix", "--input", matrix, "--out", spectrum, *ESTIMATOR, *extra)
        out.append(spectrum)
    return out


def test_fig15(fig15_stores, tmp_path):
    bins = 12
    fig = drawn(tmp_path, "fig15", fig15_stores, f"bins={bins}")
    shown = panels(fig)
    assert len(shown) == 2
    for ax, path in zip(shown, fig15_stores, strict=True):
        ds = read_store(path)
        params = store_params(ds)
        exact = ds["exact_eigenvalues"].values
        if params["log"]:
            exact = np.log(np.abs(exact) + params["eps"])
        heights, edges = np.histogram(exact, bins=bins, density=True)
        bars = ax.patches
        assert len(bars) == bins
        assert_values([b.get_height() for b in bars], heights, f"{path.name} histogram")
        assert_values([b.get_x() for b in bars], edges[:-1], f"{path.name} bin edges")
        assert_density(ax, Spectrum(path), ESTIMATE_COLOR, path.name)
        assert f"{exact.size} x {exact.size}, M = {params['M']}" in ax.get_title()
    assert "log" in shown[1].get_xlabel() and "log" not in shown[0].get_xlabel()


def test_fig15_refuses_a_matrix_store(fig15_stores, tmp_path, capsys):
    """A `verify matrix` store (no density, no eigenvalues) in place of a spectrum store."""
    matrix = tmp_path / "matrix.zarr"
    cli("verify", "matrix", "fig15a", "--set", "p=20", "--out", matrix)
    out = tmp_path / "x.pdf"
    assert main(["figure", "fig15", "--inputs", str(fig15_stores[0]), str(matrix),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crossclass figure: error: ") and err.count("\n") == 1, err
    assert str(matrix) in err and not out.exists()
