"""The network figures (fig3-6, 14, 16, 17, layers, mlr) drawn from real stores of a tiny MLP
run, read back: every panel's plotted series and markers are the values of the stores they came
from, and figures refuse stores of the wrong kind or without data."""

import numpy as np
import pytest
import xarray as xr
from crossclass.analysis import layer_names, read_layer
from crossclass.cli import main
from crossclass.commands.figure import available
from crossclass.figures import fig4 as fig4_module
from crossclass.figures import fig6 as fig6_module
from crossclass.figures import fig16 as fig16_module
from crossclass.figures import layers as layers_module
from crossclass.figures import mlr as mlr_module
from crossclass.figures.fig5 import DENSITY_COLOR, LABELS, MINIBULK_COLOR, OUTLIER_COLOR
from crossclass.figures.plotting import ESTIMATE_COLOR, EXACT_COLOR
from crossclass.stores import read_store, store_params, write_store
from figure_checks import (
    Spectrum,
    assert_density,
    assert_differ,
    assert_dots,
    assert_titled_with,
    assert_values,
    curves,
    dots,
    drawn,
    one,
    panels,
    xy,
)
from matplotlib import cm
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


@pytest.fixture(scope="module")
def stores(mlp_run, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("figstores")
    extracted = {e: run_extract(mlp_run, e, tmp) for e in (1, 2)}
    return tmp, extracted


def num_classes(spectrum: Spectrum) -> int:
    return int(spectrum.params["num_classes"])


def test_fig5(mlp_run, stores, tmp_path):  # noqa: F811
    """One panel per store, titled by its operator: the density, the top C (orange) and next
    C(C-2) (green) true eigenvalues; the knockouts' panels are not G's."""
    tmp, ex = stores
    ops = ["G", "G-minus-class", "G-minus-cross", "G-project-class"]
    inputs = [spectrum(mlp_run, 2, tmp, op, "--means", ex[2]["means"], "--deflate", "C2",
                       "--deflate-iters", 8, tag="_C2") for op in ops]
    fig = drawn(tmp_path, "fig5", [*inputs, ex[2]["summary"]], "columns=2")
    shown = panels(fig)
    assert len(shown) == len(ops)
    spectra = [Spectrum(p) for p in inputs]
    for ax, s in zip(shown, spectra, strict=True):
        C = num_classes(s)
        assert s.top.size > C * (C - 1), "deflate C2: both marker groups are full"
        assert ax.get_title() == LABELS[s.operator]
        assert_density(ax, s, DENSITY_COLOR, s.operator)
        assert_dots(ax, OUTLIER_COLOR, s.on_axis(s.top[:C]), s.operator)
        assert_dots(ax, MINIBULK_COLOR, s.on_axis(s.top[C:C * (C - 1)]), s.operator)
    g_density = xy(curves(shown[0], DENSITY_COLOR)[0])[1]
    g_top = xy(dots(shown[0], OUTLIER_COLOR)[0])[0]
    for ax, s in zip(shown[1:], spectra[1:], strict=True):
        assert_differ(xy(curves(ax, DENSITY_COLOR)[0])[1], g_density, f"{s.operator} vs G")
        assert_differ(xy(dots(ax, OUTLIER_COLOR)[0])[0], g_top, f"{s.operator} top vs G")
    assert_titled_with(fig._suptitle.get_text(), ex[2]["summary"])


def test_fig3_fig14_fig17(mlp_run, stores, tmp_path):  # noqa: F811
    tmp, ex = stores
    test = run_extract(mlp_run, 2, tmp, "test")
    deflated = {split: hess(mlp_run, tmp, "--deflate", "C", tag="_C", split=split)
                for split in ("train", "test")}
    plain = hess(mlp_run, tmp)
    summaries = {"train": ex[2]["summary"], "test": test["summary"]}

    # fig3: train | test panels, each its deflated density and its C true top eigenvalues
    fig = drawn(tmp_path, "fig3", [deflated["train"], deflated["test"], *summaries.values()])
    shown = panels(fig)
    assert len(shown) == 2
    for ax, split in zip(shown, ("train", "test"), strict=True):
        s = Spectrum(deflated[split])
        assert s.top.size == num_classes(s) and not s.log
        assert_density(ax, s, DENSITY_COLOR, f"fig3 {split}")
        assert_dots(ax, OUTLIER_COLOR, s.top, f"fig3 {split}")
        assert f"{split} Hessian" in ax.get_title()
        assert_titled_with(ax.get_title(), summaries[split])
    assert_differ(xy(curves(shown[0])[0])[1], xy(curves(shown[1])[0])[1], "train vs test")

    # fig14: the plain density alone, no eigenvalue markers
    fig = drawn(tmp_path, "fig14", [plain, ex[2]["summary"]])
    ax = one(panels(fig), "fig14 panels")
    assert_density(ax, Spectrum(plain), DENSITY_COLOR, "fig14")
    assert not dots(ax) and len(curves(ax)) == 1
    assert_titled_with(ax.get_title(), ex[2]["summary"])

    # fig17: deflated (top) and plain (bottom), both marked with the deflated eigenvalues
    fig = drawn(tmp_path, "fig17", [deflated["train"], plain, ex[2]["summary"]])
    top, bottom = panels(fig)
    d, p = Spectrum(deflated["train"]), Spectrum(plain)
    assert_density(top, d, DENSITY_COLOR, "fig17 deflated")
    assert_density(bottom, p, DENSITY_COLOR, "fig17 plain")
    assert_dots(top, OUTLIER_COLOR, d.top, "fig17 deflated")
    assert_dots(bottom, OUTLIER_COLOR, p.on_axis(d.top), "fig17 plain")
    assert_differ(p.density, d.density, "plain vs deflated density")
    assert_titled_with(top.get_title(), ex[2]["summary"])


def test_fig4(mlp_run, stores, tmp_path):  # noqa: F811
    """(a) Hess, G, E each with its true top eigenvalues; (b) their densities restricted to the
    central `zoom` of the Hessian's mass."""
    tmp, ex = stores
    inputs = [hess(mlp_run, tmp, "--deflate", "C2", tag="_C2", operator=op)
              for op in fig4_module.OPERATORS]
    zoom = 0.9
    fig = drawn(tmp_path, "fig4", [*inputs, ex[2]["summary"]], f"zoom={zoom}")
    shown = panels(fig)
    assert len(shown) == 4
    spectra = [Spectrum(p) for p in inputs]
    for ax, s in zip(shown[:3], spectra, strict=True):
        assert LABELS[s.operator] in ax.get_title()
        assert_density(ax, s, DENSITY_COLOR, s.operator)
        assert_dots(ax, OUTLIER_COLOR, s.top, s.operator)
    hess_top = xy(dots(shown[0], OUTLIER_COLOR)[0])[0]
    assert_differ(xy(dots(shown[2], OUTLIER_COLOR)[0])[0], hess_top, "E's top vs Hess's")
    zoom_ax = shown[3]
    lo, hi = zoom_ax.get_xlim()
    x, f = spectra[0].x, spectra[0].density
    cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(x))])
    mass = (np.interp(hi, x, cdf) - np.interp(lo, x, cdf)) / cdf[-1]
    assert abs(mass - zoom) < 1e-6, mass  # the central `zoom` of the trapezoid mass
    for s in spectra:
        line = one(curves(zoom_ax, fig4_module.COLORS[s.operator]), f"zoom {s.operator}")
        keep = (s.x >= lo) & (s.x <= hi)
        assert keep.sum() >= 3
        assert_values(xy(line)[0], s.x[keep], f"zoom {s.operator} grid")
        assert_values(xy(line)[1], s.density[keep], f"zoom {s.operator} density")
    assert_titled_with(fig._suptitle.get_text(), ex[2]["summary"])


def test_fig16(mlp_run, stores, tmp_path):  # noqa: F811
    """Left: the signed densities of E in eigenvalue units phi = f(u) / |lambda| and the
    power-law fit of the positive part; right: the log density and its fit."""
    tmp, ex = stores
    E = spectrum(mlp_run, 2, tmp, "E", settings=[*LANCZOS[:-1], 1e-12])
    fit_lo, fit_hi = 0.01, 0.5
    fig = drawn(tmp_path, "fig16", [E, ex[2]["summary"]], f"fit_lo={fit_lo}",
                f"fit_hi={fit_hi}")
    left, right = panels(fig)
    ds = read_store(E)
    eps = float(store_params(ds)["eps"])
    lam = np.exp(ds["log_lambda"].values) - eps
    top = float(np.abs(ds["ritz_values"].values).max())
    lo, hi = fit_lo * top, fit_hi * top
    shown = lam > max(eps, 1e-6 * top)
    phi = {}
    for var, color in (("density_positive", fig16_module.POSITIVE),
                       ("density_negative", fig16_module.NEGATIVE)):
        phi[var] = np.where(lam > 0, ds[var].values / np.where(lam > 0, lam, 1.0), 0.0)
        keep = shown & (phi[var] > 0)
        assert keep.sum() > 3, var
        x, y = xy(one(curves(left, color), f"{var} curves"))
        assert_values(x, lam[keep], f"{var} |lambda|")
        assert_values(y, phi[var][keep], f"{var} phi", rtol=1e-8)

    def fit(values):
        keep = (lam >= lo) & (lam <= hi) & (values > 0)
        slope, intercept = np.polyfit(np.log(lam[keep]), np.log(values[keep]), 1)
        return lambda x: np.exp(intercept) * x**slope

    x, y = xy(one(curves(left, fig16_module.FIT), "fit lines (left)"))
    assert_values(x[[0, -1]], [lo, hi], "fit range")
    assert_values(y, fit(phi["density_positive"])(x), "power-law fit of phi_+", rtol=1e-6)
    assert_density(right, Spectrum(E), fig16_module.POSITIVE, "fig16 log density")
    u, y = xy(one(curves(right, fig16_module.FIT), "fit lines (right)"))
    assert_values(y, fit(ds["density"].values)(np.exp(u) - eps), "fit of f", rtol=1e-6)
    assert_titled_with(fig._suptitle.get_text(), ex[2]["summary"])


def test_fig6(mlp_run, stores, tmp_path):  # noqa: F811
    """Rows = epochs: the deflated density of G, its top C, the eigenvalues of G_class +
    G_cross + G_{c=c'} in three groups and (1/N) Tr G_within,c, from the same epoch's stores."""
    tmp, ex = stores
    spectra = [spectrum(mlp_run, e, tmp, "G", "--deflate", "C", "--deflate-iters", 6,
                        tag="_deflated") for e in (1, 2)]
    fig = drawn(tmp_path, "fig6", [*spectra, ex[1]["means"], ex[2]["means"]])
    shown = panels(fig)
    assert len(shown) == 2
    for ax, path, epoch in zip(shown, spectra, (1, 2), strict=True):
        s, m = Spectrum(path), read_store(ex[epoch]["means"])
        n = int(s.ds["n_per_class"])
        assert ax.get_title() == f"n = {n} per class, epoch {epoch}"
        C = m.sizes["class"]
        low = np.sort(m["eig_lowrank"].values)[::-1]
        assert_density(ax, s, DENSITY_COLOR, f"epoch {epoch}")
        expected = ((OUTLIER_COLOR, s.top), (fig6_module.CLASS_COLOR, low[:C]),
                    (fig6_module.CROSS_COLOR, low[C:C * (C - 1)]),
                    (fig6_module.SAME_COLOR, low[C * (C - 1):C * C]),
                    (fig6_module.WITHIN_COLOR,
                     m["trace_within"].values / float(m["num_examples"])))
        for color, values in expected:
            assert np.size(values) == C
            assert_dots(ax, color, s.on_axis(values), f"epoch {epoch} {color}")
    assert_differ(xy(curves(shown[0])[0])[1], xy(curves(shown[1])[0])[1], "epoch 1 vs 2")


def test_layers(mlp_run, stores, tmp_path):  # noqa: F811
    """Per layer: scree of H, H_class and of Delta, Delta_class, Delta_class + Delta_cross
    (eigenvalues of the stored matrices), the G^l / KFAC / CFAC densities where given; last row
    the neural-collapse metrics across depth."""
    tmp, ex = stores
    top = 10
    store = ex[2]["layers"]
    names = layer_names(read_store(store))
    given = names[-1]
    kinds = ("G", "KFAC", "CFAC")
    inputs = [store] + [spectrum(mlp_run, 2, tmp, f"layer:{given}:{kind}", "--layers", store)
                        for kind in kinds]
    fig = drawn(tmp_path, "layers", inputs, f"top={top}")
    grid = np.array(fig.axes).reshape(len(names) + 1, 4)
    layers = read_store(store)

    def scree(ax, matrices):
        for matrix, color in matrices:
            values = np.sort(np.linalg.eigvalsh(matrix))[::-1]
            x, y = xy(one(curves(ax, color), f"{color} scree"))
            k = min(top, values.size)
            assert_values(x, np.arange(1, k + 1), "scree index")
            assert_values(y, np.maximum(values[:k], values[0] * 1e-12), "scree", rtol=1e-8)

    for row, name in enumerate(names):
        lay = read_layer(layers, name)
        a, b, c, d = grid[row]
        scree(a, [(lay["H"].values, "tab:blue"), (lay["H_class"].values, "tab:orange")])
        scree(b, [(lay["Delta"].values, "tab:blue"), (lay["Delta_class"].values, "tab:orange"),
                  (lay["Delta_class"].values + lay["Delta_cross"].values, "tab:gray")])
        for ax, other in ((c, "KFAC"), (d, "CFAC")):
            if name != given:
                assert not ax.axison and not ax.get_lines()
                continue
            assert ax.axison
            for kind in ("G", other):
                path = inputs[1 + kinds.index(kind)]
                assert_density(ax, Spectrum(path), layers_module.COLORS[kind], f"{name} {kind}")
    for ax, (var, _, _) in zip(grid[-1], layers_module.NC, strict=True):
        x, y = xy(one(curves(ax), f"{var} lines"))
        assert_values(y, layers[var].values, var)
        assert_values(x, np.arange(1, len(names) + 1), f"{var} depth")


@pytest.fixture(scope="module")
def mlr_stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlr")
    study = tmp / "study.zarr"
    cli("mlr-study", "--D", 6, "--C", 3, "--t", 2.0, "--alpha", 0.2, "--n-values", 10, 100,
        "--repeats", 2, "--t-values", 1.0, 3.0, "--sweep-n", 30, "--seed", 0, "--out", study)
    stores = [study]
    for alpha in ("0.2", None):
        out = tmp / f"mlr_{alpha}.zarr"
        extra = ["--alpha", alpha] if alpha else ["--weight-decay", "0.01"]
        cli("mlr-spectrum", "--D", 12, "--C", 4, "--t", 2.0, "--n-per-class", 200, "--seed", 0,
            *extra, "--out", out)
        stores.append(out)
    return stores


def test_mlr(mlr_stores, tmp_path):
    """(a) the study's errors (dots, their mean) and rate against n, sampled vs theorem
    eigenvalues; (b) each MLR store's eigenvalues and the theorem's, the last one's histogram
    and four values; (c) the SNR sweep's separations and errors."""
    bins = 40
    fig = drawn(tmp_path, "mlr", mlr_stores, f"bins={bins}")
    assert len(fig.axes) == 7 and len(panels(fig)) == 7
    conv, desc, trained, sweep_t, sweep_a, hist, twin = fig.axes
    study = read_store(mlr_stores[0])
    mlrs = [read_store(p) for p in mlr_stores[1:]]
    n = study["n"].values
    for var, color in (("rel_fro_error", EXACT_COLOR), ("eig_error", "tab:green")):
        values = study[var].values
        x, y = xy(one(dots(conv, color), f"{var} dots"))
        assert_values(x, np.repeat(n, values.shape[1]), f"{var} n")
        assert_values(y, values.ravel(), var)
        assert_values(xy(one(curves(conv, color), f"{var} mean"))[1], values.mean(axis=1),
                      f"{var} mean")
    assert_values(xy(one(curves(conv, "black"), "rate lines"))[1],
                  study["expected_rel_rms"].values, "expected rms rate")

    def descending(ax, values, theory, color):
        k = int((theory > 0).sum())
        assert 0 < k < theory.size
        assert_values(xy(one(curves(ax, color), f"{color} curves"))[1], values[:k], "sampled")
        assert any(np.allclose(xy(ln)[1], theory[:k]) for ln in curves(ax, ESTIMATE_COLOR))

    descending(desc, study["mc_eigenvalues"].values, study["theory_eigenvalues"].values,
               EXACT_COLOR)
    for k, ds in enumerate(mlrs):
        descending(trained, ds["empirical_eigenvalues"].values,
                   ds["theory_eigenvalues"].values, cm.viridis(k / len(mlrs)))
    last = mlrs[-1]
    heights = np.array([p.get_height() for p in hist.patches])
    assert heights.size == bins
    assert heights.sum() == last["empirical_eigenvalues"].size
    lines = {float(xy(ln)[0][0]) for ln in curves(hist)}
    mult = last["theory_multiplicities"].values
    assert_values(sorted(lines), sorted(last["theory_values"].values[mult > 0]), "theory values")
    t, alpha = study["t"].values, study["alpha"].values
    for var, (color, _) in mlr_module.RATIO_STYLE.items():
        x, y = xy(one(dots(sweep_t, color), f"{var} dots"))
        assert_values(x, t, "t")
        assert_values(y, study[var].values, var)
        assert_values(xy(one(curves(sweep_t, color), f"{var} theory"))[1],
                      study[f"theory_{var}"].values, f"theory {var}")
        x, y = xy(one(curves(sweep_a, color), f"{var} vs alpha"))
        assert_values(x, alpha, "alpha")
        assert_values(y, study[var].values, f"{var} vs alpha")
    for style, var in ((":", "train_error"), ("-.", "test_error")):
        line = one([ln for ln in twin.get_lines() if ln.get_linestyle() == style], var)
        assert_values(xy(line)[1], study[var].values, var)


def test_every_figure_refuses_stores_of_the_wrong_kind(stores, tmp_path, capsys):
    """Given only summary stores, or only means stores, no figure draws: a one-line error."""
    _, ex = stores
    for kind in ("summary", "means"):
        for name in available():
            out = tmp_path / f"{name}_{kind}.pdf"
            inputs = [str(ex[2][kind])] * 2
            assert main(["figure", name, "--inputs", *inputs, "--out", str(out)]) == 2, name
            err = capsys.readouterr().err
            assert err.startswith("crossclass figure: error: ") and err.count("\n") == 1, err
            assert not out.exists()


def test_spectrum_figures_refuse_a_spectrum_without_density(
        mlp_run, stores, tmp_path, capsys):  # noqa: F811
    """A spectrum store whose density is zero everywhere (nothing to plot) is refused in one
    line instead of drawing an empty panel; so is a deflated figure without true eigenvalues."""
    tmp, ex = stores
    plain, deflated = hess(mlp_run, tmp), hess(mlp_run, tmp, "--deflate", "C", tag="_C")

    def rewritten(path, name, edit):
        ds = read_store(path).load()
        keys = {k: ds[k].item() for k in ds.coords if ds[k].ndim == 0}
        params = store_params(ds)
        ds = edit(ds.drop_vars(list(keys)))
        ds.attrs = {}
        return write_store(ds, tmp_path / name, keys=keys, params=params)

    empty = rewritten(plain, "empty.zarr", lambda ds: ds.assign(density=xr.zeros_like(
        ds["density"])))
    undeflated = rewritten(deflated, "undeflated.zarr", lambda ds: ds.drop_vars(
        "top_eigenvalues"))
    cases = {"fig14": [empty], "fig17": [deflated, empty], "fig3": [undeflated, deflated]}
    for name, inputs in cases.items():
        expected = "no true top eigenvalues" if name == "fig3" else "no positive density"
        out = tmp_path / f"{name}.pdf"
        assert main(["figure", name, "--inputs", *map(str, inputs), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("crossclass figure: error: ") and err.count("\n") == 1, err
        assert expected in err, err
        assert not out.exists()
