"""The layer-wise figures 7-13 drawn from small synthetic layers and spectrum stores (a random
BatchNorm MLP, untrained, captured and analysed in float64), two datasets as two rows, read back:
each panel's points, scree curves and densities are recomputed here from the stored matrices
(numpy eigen- and singular values, projection knockouts) or read from the spectrum stores."""

import numpy as np
import pytest
import torch
from crossclass.analysis import layer_names, layers_dataset, read_layer
from crossclass.cli import main
from crossclass.curvature import LabeledData
from crossclass.figures.layergrid import APPROX_COLORS, BLUE, GRAY, ORANGE
from crossclass.layerwise import analyse, capture, cfac, kfac, layer_dataset, layer_g
from crossclass.linalg import estimate_spectrum
from crossclass.stores import read_store, write_store
from figure_checks import (
    Spectrum,
    assert_density,
    assert_values,
    curves,
    drawn,
    one,
    panels,
    scatter_offsets,
    texts,
    whisker,
    xy,
)
from torch import nn

C, D, N = 3, 6, 5


def model(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(D, 7, bias=False), nn.BatchNorm1d(7), nn.ReLU(),
                        nn.Linear(7, 5, bias=False), nn.ReLU(), nn.Linear(5, C, bias=False))
    return net.double().eval()


def write_stores(tmp, dataset, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat_interleave(N)
    X = torch.randn(C * N, D, generator=g, dtype=torch.float64) + 2 * nn.functional.one_hot(
        y, D).double()
    cap = capture(model(seed), LabeledData(X, y, batch_size=256), progress=False)
    per_layer = analyse(cap, eta=5e-4, probes=8, progress=False)
    keys = dict(dataset=dataset, net="mlp", n_per_class=N, epoch=1, split="train")
    layers = write_store(layers_dataset([layer_dataset(a) for a in per_layer.values()]),
                         tmp / f"{dataset}_layers.zarr", keys=keys)
    spectra = []
    for name, lc in cap.layers.items():
        a = per_layer[name]
        ops = {"G": layer_g(lc), "KFAC": kfac(a.features.H, a.errors.Delta),
               "CFAC": cfac(a.features.H_c, a.errors.Delta_c)}
        for kind, op in ops.items():
            est = estimate_spectrum(op, M=10, n_vec=1, K=64, M0=6, log=True, eps=1e-8,
                                    progress=False)
            ds = est.to_dataset()
            ds = ds.reset_coords("log_lambda")
            spectra.append(write_store(ds, tmp / f"{dataset}_{name}_{kind}.zarr",
                                       keys={**keys, "operator": f"layer:{name}:{kind}"},
                                       params=est.params))
    return layers, spectra


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layerwise_figs")
    return [write_stores(tmp, name, seed) for seed, name in enumerate(("gmm", "digits"))]


def sym_eig(A):
    """Eigenvalues of a symmetric matrix, descending."""
    return np.linalg.eigvalsh((A + A.T) / 2)[::-1]


def knock(A, B):
    """(I - U U^T) A (I - V V^T), U and V the left and right singular vectors of B with
    nonzero singular values (rank threshold of numpy.linalg.matrix_rank)."""
    U, s, Vt = np.linalg.svd(B, full_matrices=False)
    keep = s > max(B.shape) * np.finfo(float).eps * max(s.max(), np.linalg.norm(A, 2))
    U, V = U[:, keep], Vt[keep].T
    return (A - U @ (U.T @ A)) - (A - U @ (U.T @ A)) @ V @ V.T


def expected_scatter(original, knocked, top, blue):
    """The plotted points (log knocked, log original) of the top `top` pairs, both positive,
    normalised jointly to [0, 1]: (first `blue` pairs, the rest)."""
    k = min(top, original.size, knocked.size)
    y, x = original[:k], knocked[:k]
    floor = 1e-12 * max(original[0], knocked[0], 0.0)
    keep = (x > floor) & (y > floor)
    points = np.log(np.stack([x[keep], y[keep]], axis=1))
    if points.size:
        lo, hi = points.min(), points.max()
        points = (points - lo) / (hi - lo if hi > lo else 1.0)
    first = np.arange(k)[keep] < blue
    return points[first], points[~first]


def assert_scatter(ax, original, knocked, top, blue, what):
    first, rest = expected_scatter(original, knocked, top, blue)
    if not len(first) + len(rest):
        assert "the knockout is zero" in texts(ax), what
    assert_values(scatter_offsets(ax, BLUE), first, f"{what}: top points", rtol=1e-6)
    assert_values(scatter_offsets(ax, ORANGE), rest, f"{what}: other points", rtol=1e-6)
    return len(first) + len(rest)


def assert_scree(ax, series, reference, rank, top, what):
    """Scree curves of `series` [(values, color)] divided by exp(median log) of the reference's
    top `rank` positive eigenvalues, and the whisker from its 2nd to its `rank`-th."""
    ref = reference[:rank]
    ref = ref[ref > 1e-12 * max(reference[0], 0.0)]
    scale = np.exp(np.median(np.log(ref)))
    containers = {a for c in ax.containers for a in c.lines if a is not None}
    for values, color in series:
        v = values[:top] / scale
        v = v[v > 1e-12 * max(v[0], 0.0)]
        line = one([ln for ln in curves(ax, color) if ln not in containers], f"{what} {color}")
        assert_values(xy(line)[0], np.arange(1, v.size + 1), f"{what} {color} index")
        assert_values(xy(line)[1], v, f"{what} {color}", rtol=1e-8)
    assert ref.size >= 2, what
    assert_values(whisker(ax), [ref[-1] / scale, ref[1] / scale], f"{what} whisker", rtol=1e-8)


def grid_panels(fig, paths, draw_cell):
    """Rows = layers stores, columns = their layers: draw_cell(ax, layer, C, what) checks one;
    returns the number of checked cells."""
    stores = [read_store(p) for p in paths]
    names = [layer_names(ds) for ds in stores]
    cols = max(len(n) for n in names)
    axes = np.array(fig.axes).reshape(len(stores), cols)
    assert len(panels(fig)) == sum(len(n) for n in names)
    for row, (ds, layers) in enumerate(zip(stores, names, strict=True)):
        for col, name in enumerate(layers):
            ax = axes[row, col]
            assert ax.get_title() == f"layer {col + 1} ({name})"
            draw_cell(ax, read_layer(ds, name), ds.sizes["class"],
                      f"{ds['dataset'].item()} layer {name}")
        assert ds["dataset"].item() in axes[row, 0].get_ylabel()


TOP = 20


def layer_stores(stores):
    return [layers for layers, _ in stores]


# figure: (the eigenvalues' matrices before and after its knockout, from a layer's matrix
# getter; how many top points are blue at C; whether every panel (all) or some (any) has points)
KNOCKOUT_FIGURES = {
    "fig7": (lambda m: (m("H"), knock(m("H"), m("H_class"))), lambda C: C, all),
    "fig9a": (lambda m: (m("Delta"), knock(m("Delta"), m("Delta_class"))), lambda C: C, any),
    "fig9b": (lambda m: (knock(m("Delta"), m("Delta_class")),
                         knock(m("Delta"), m("Delta_class") + m("Delta_cross"))),
              lambda C: C * (C - 2), any),
}


@pytest.mark.parametrize("name", KNOCKOUT_FIGURES)
def test_knockout_scatter(stores, tmp_path, name):
    """Figures 7, 9a, 9b: each panel's points are the layer's eigenvalues before and after the
    figure's knockout, computed here from the stored matrices."""
    matrices, top_count, every = KNOCKOUT_FIGURES[name]
    drawn_points = []

    def cell(ax, lay, C, what):
        before, after = matrices(lambda var: lay[var].values)
        drawn_points.append(assert_scatter(ax, sym_eig(before), sym_eig(after), TOP,
                                           top_count(C), what))

    grid_panels(drawn(tmp_path, name, layer_stores(stores), f"top={TOP}"),
                layer_stores(stores), cell)
    assert every(drawn_points)


def test_fig8_features_scree(stores, tmp_path):
    def cell(ax, lay, C, what):
        H, Hc = sym_eig(lay["H"].values), sym_eig(lay["H_class"].values)
        assert_scree(ax, [(H, BLUE), (Hc[:C], ORANGE)], Hc, C, TOP, what)

    grid_panels(drawn(tmp_path, "fig8", layer_stores(stores), f"top={TOP}"),
                layer_stores(stores), cell)


def test_fig10_errors_scree(stores, tmp_path):
    def cell(ax, lay, C, what):
        Dc = lay["Delta_class"].values
        series = [(sym_eig(lay["Delta"].values), BLUE), (sym_eig(Dc)[:C], ORANGE),
                  (sym_eig(Dc + lay["Delta_cross"].values)[:C * (C - 1)], GRAY)]
        assert_scree(ax, series, sym_eig(Dc), C, TOP, what)

    grid_panels(drawn(tmp_path, "fig10", layer_stores(stores), f"top={TOP}"),
                layer_stores(stores), cell)


def test_fig13_weights_knockout(stores, tmp_path):
    drawn_points = []

    def cell(ax, lay, C, what):
        W, Wc = lay["W"].values, lay["W_class"].values
        sv = np.linalg.svd(W, compute_uv=False)
        drawn_points.append(assert_scatter(ax, sv, np.linalg.svd(knock(W, Wc),
                                                                 compute_uv=False),
                                           TOP, C, what))
        residual = np.linalg.norm(lay["W_residual"].values) / np.linalg.norm(W)
        assert f"= {residual:.2g}" in texts(ax), what

    grid_panels(drawn(tmp_path, "fig13", layer_stores(stores), f"top={TOP}"),
                layer_stores(stores), cell)
    assert all(drawn_points)


def spectra_by_key(paths):
    """{(dataset, layer, kind): path} of layer:<name>:<kind> spectrum stores."""
    out = {}
    for path in paths:
        ds = read_store(path)
        _, layer, kind = ds["operator"].item().split(":")
        out[(ds["dataset"].item(), layer, kind)] = path
    return out


def assert_curvature(ax, layers, dataset, layer, kind, spectra, what):
    """G^l (blue) and `kind` (its color) densities of the stores, the stored relative error."""
    assert_density(ax, Spectrum(spectra[(dataset, layer, "G")]), BLUE, f"{what} G")
    assert_density(ax, Spectrum(spectra[(dataset, layer, kind)]), APPROX_COLORS[kind],
                   f"{what} {kind}")
    rel = float(layers[f"{kind.lower()}_rel_err"].sel(layer=layer))
    assert np.isfinite(rel) and f"= {rel:.3g}" in texts(ax), what


def test_fig11_last_layer(stores, tmp_path):
    layers, spectra = stores[0]
    last = layer_names(read_store(layers))[-1]
    mine = [s for s in spectra if f"_{last}_" in s.name]
    fig = drawn(tmp_path, "fig11", [layers, *mine])
    by_key = spectra_by_key(mine)
    dataset = read_store(layers)["dataset"].item()
    shown = panels(fig)
    assert len(shown) == 2
    for ax, kind in zip(shown, ("KFAC", "CFAC"), strict=True):
        assert kind in ax.get_title()
        assert_curvature(ax, read_store(layers), dataset, last, kind, by_key, kind)


def test_fig12_every_layer_and_dataset(stores, tmp_path):
    all_spectra = [p for s in stores for p in s[1]]
    fig = drawn(tmp_path, "fig12", [s[0] for s in stores] + all_spectra)
    by_key = spectra_by_key(all_spectra)
    layer_sets = [read_store(s[0]) for s in stores]
    rows = max(len(layer_names(ds)) for ds in layer_sets)
    axes = np.array(fig.axes).reshape(rows, 2 * len(stores))
    assert len(panels(fig)) == sum(2 * len(layer_names(ds)) for ds in layer_sets)
    for col, ds in enumerate(layer_sets):
        dataset = ds["dataset"].item()
        for row, layer in enumerate(layer_names(ds)):
            for j, kind in enumerate(("KFAC", "CFAC")):
                ax = axes[row, 2 * col + j]
                assert ax.get_title().startswith(f"{dataset}: layer {row + 1} ({layer})")
                assert_curvature(ax, ds, dataset, layer, kind, by_key, f"{dataset} {layer}")


def test_fig11_refuses_two_layers(stores, tmp_path):
    layers, spectra = stores[0]
    assert main(["figure", "fig11", "--inputs", str(layers), *map(str, spectra),
                 "--out", str(tmp_path / "x.pdf")]) != 0
