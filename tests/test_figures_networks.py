"""The network figures (fig5, fig6, layers, mlr) draw from real stores of a tiny MLP run."""

import pytest
from crossclass.cli import main
from test_analysis_network import cli, mlp_run, network_args, run_extract  # noqa: F401

LANCZOS = ["--M", 12, "--n-vec", 2, "--K", 64, "--M0", 8, "--log", "--eps", 1e-8]


def spectrum(run, epoch, tmp, operator, *extra, tag=""):
    out = tmp / f"{operator.replace(':', '_')}{tag}_{epoch}.zarr"
    if not out.exists():
        cli("operator-spectrum", *network_args(run, epoch), "--operator", operator, *LANCZOS,
            "--out", out, *extra)
    return out


def check(tmp, name, inputs, *options):
    pdf = tmp / f"{name}.pdf"
    sets = [x for o in options for x in ("--set", o)]
    assert main(["figure", name, "--inputs", *map(str, inputs), "--output", str(pdf),
                 *sets]) == 0
    for path in (pdf, pdf.with_suffix(".png")):
        assert path.stat().st_size > 10_000


@pytest.fixture(scope="module")
def stores(mlp_run, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("figstores")
    extracted = {e: run_extract(mlp_run, e, tmp) for e in (1, 2)}
    return tmp, extracted


def test_fig5(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    ops = ["G", "G_class", "G_within", "G-minus-cross"]
    inputs = [spectrum(mlp_run, 2, tmp, op, "--means", ex[2]["means"]) for op in ops]
    check(tmp_path, "fig5", inputs, "outliers=3")


def test_fig6(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    spectra = [spectrum(mlp_run, e, tmp, "G", "--deflate", "C", "--deflate-iters", 6,
                        tag="_deflated") for e in (1, 2)]
    check(tmp_path, "fig6", [*spectra, ex[1]["means"], ex[2]["means"]])


def test_layers(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    inputs = [ex[2]["layers"]] + [
        spectrum(mlp_run, 2, tmp, f"layer:7:{kind}", "--layers", ex[2]["layers"])
        for kind in ("G", "KFAC", "CFAC")]
    check(tmp_path, "layers", inputs, "top=10")


def test_mlr(tmp_path):
    study = tmp_path / "study.zarr"
    cli("mlr-study", "--D", 6, "--C", 3, "--t", 2.0, "--alpha", 0.2, "--n-values", 10, 100,
        "--repeats", 2, "--t-values", 1.0, 3.0, "--sweep-n", 30, "--seed", 0, "--out", study)
    stores = [study]
    for alpha in ("0.2", None):
        out = tmp_path / f"mlr_{alpha}.zarr"
        extra = ["--alpha", alpha] if alpha else ["--weight-decay", "0.01"]
        cli("mlr-spectrum", "--D", 12, "--C", 4, "--t", 2.0, "--n-per-class", 200, "--seed", 0,
            *extra, "--out", out)
        stores.append(out)
    check(tmp_path, "mlr", stores)
