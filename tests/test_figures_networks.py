"""The network figures (fig3-6, 14, 16, 17, layers, mlr) draw from real stores of a tiny MLP
run."""

import pytest
from crossclass.cli import main
from test_analysis_network import cli, mlp_run, network_args, run_extract  # noqa: F401

LANCZOS = ["--M", 12, "--n-vec", 2, "--K", 64, "--M0", 8, "--log", "--eps", 1e-8]
LINEAR = ["--M", 12, "--n-vec", 2, "--K", 64, "--M0", 8, "--no-log"]


def spectrum(run, epoch, tmp, operator, *extra, tag="", split="train", settings=LANCZOS):
    out = tmp / f"{operator.replace(':', '_')}{tag}_{epoch}_{split}.zarr"
    if not out.exists():
        cli("operator-spectrum", *network_args(run, epoch, split), "--operator", operator,
            *settings, "--out", out, *extra)
    return out


def hess(run, tmp, *extra, tag="", split="train", operator="hess"):
    return spectrum(run, 2, tmp, operator, *extra, "--deflate-iters", 8, tag=tag, split=split,
                    settings=LINEAR)


def check(tmp, name, inputs, *options):
    pdf = tmp / f"{name}.pdf"
    sets = [x for o in options for x in ("--set", o)]
    assert main(["figure", name, "--inputs", *map(str, inputs), "--out", str(pdf),
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
    check(tmp_path, "fig5", [*inputs, ex[2]["summary"]], "columns=2")


def test_fig3_fig14_fig17(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    test = run_extract(mlp_run, 2, tmp, "test")
    deflated = {split: hess(mlp_run, tmp, "--deflate", "C", tag="_C", split=split)
                for split in ("train", "test")}
    plain = hess(mlp_run, tmp)
    check(tmp_path, "fig3", [deflated["train"], deflated["test"], ex[2]["summary"],
                             test["summary"]])
    check(tmp_path, "fig14", [plain, ex[2]["summary"]])
    check(tmp_path, "fig17", [deflated["train"], plain, ex[2]["summary"]])


def test_fig4(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    inputs = [hess(mlp_run, tmp, "--deflate", "C2", tag="_C2", operator=op)
              for op in ("hess", "hess-minus-E", "hess-minus-G")]
    check(tmp_path, "fig4", [*inputs, ex[2]["summary"]], "zoom=0.9")


def test_fig16(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    E = spectrum(mlp_run, 2, tmp, "E", settings=[*LANCZOS[:-1], 1e-12])
    check(tmp_path, "fig16", [E, ex[2]["summary"]], "fit_lo=0.01", "fit_hi=0.5")


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
