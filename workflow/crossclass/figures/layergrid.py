"""The grid of the paper's layer-wise figures (7-13): rows = datasets, columns = layers.

Inputs are layers stores (`crossclass extract`), one per dataset (row), each with the same or
different layers (columns, module order). Two panel kinds:
  knockout scatter (Figs. 7, 9, 13): the top-k log spectrum of a matrix (y) against that of its
    projection knockout (x), both normalised jointly to [0, 1], identity line in black, the
    first `blue` points (the would-be outliers) blue and the rest orange; pairs where either
    value is numerically zero (<= 1e-12 of the largest, e.g. the directions a knockout removes)
    are left out;
  scree (Figs. 8, 10): top eigenvalues divided by exp(median log lambda_i(reference)) on a log
    axis, with a whisker from the reference's 2nd largest to its smallest eigenvalue;
  curvature (Figs. 11, 12): densities of G^l and KFAC^l or CFAC^l from spectrum stores, with the
    stored relative error ||G^l - A|| / ||G^l||.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from crossclass.analysis import layer_names, read_layer
from crossclass.errors import UserError
from crossclass.figures.fig5 import density_panel
from crossclass.figures.plotting import save
from crossclass.stores import read_store, store_params

BLUE, ORANGE, GRAY = "tab:blue", "tab:orange", "tab:gray"
ZERO = 1e-12  # relative round-off level below which a value counts as zero


def read_layers_stores(inputs: list[str]) -> list[xr.Dataset]:
    """The layers stores of a layer-wise figure, one per row."""
    if not inputs:
        raise UserError("a layer-wise figure needs at least one layers store")
    stores = [read_store(p) for p in inputs]
    for path, ds in zip(inputs, stores, strict=True):
        layer_names(ds)  # raises for anything else
        if "dataset" not in ds.coords:
            raise UserError(f"{path} has no dataset key")
    return stores


def label(ds: xr.Dataset) -> str:
    """'dataset (net, n per class, epoch)' from a store's keys."""
    k = {n: ds[n].item() for n in ("dataset", "net", "n_per_class", "epoch") if n in ds.coords}
    return (f"{k['dataset']} ({k.get('net', '?')}, n = {k.get('n_per_class', '?')}, "
            f"epoch {k.get('epoch', '?')})")


def grid(stores: list[xr.Dataset], panel: Callable[[plt.Axes, xr.Dataset, int], None],
         title: str, output: str) -> plt.Figure:
    """One row per store, one column per layer; panel(ax, read_layer(...), C) draws a cell.
    Returns the saved figure."""
    names = [layer_names(ds) for ds in stores]
    cols = max(len(n) for n in names)
    fig, axes = plt.subplots(len(stores), cols, figsize=(3.2 * cols, 3.2 * len(stores)),
                             squeeze=False)
    for row, (ds, layers) in enumerate(zip(stores, names, strict=True)):
        for col in range(cols):
            ax = axes[row, col]
            if col >= len(layers):
                ax.set_axis_off()
                continue
            panel(ax, read_layer(ds, layers[col]), ds.sizes["class"])
            ax.set_title(f"layer {col + 1} ({layers[col]})", fontsize="small")
        axes[row, 0].set_ylabel(f"{label(ds)}\n{axes[row, 0].get_ylabel()}", fontsize="small")
    fig.suptitle(textwrap.fill(title, 28 * cols + 20))
    save(fig, output)
    return fig


def knockout_scatter(ax: plt.Axes, original: np.ndarray, knocked: np.ndarray, *, top: int,
                     blue: int, xlabel: str, ylabel: str) -> None:
    """Top-`top` pairs (log knocked, log original) of two descending spectra, normalised to
    [0, 1] together; the first `blue` pairs blue, the rest orange; identity line."""
    k = min(top, original.size, knocked.size)
    y, x = original[:k], knocked[:k]
    floor = ZERO * max(original[0], knocked[0], 0.0)
    keep = (x > floor) & (y > floor)
    index = np.arange(k)[keep]
    lx, ly = np.log(x[keep]), np.log(y[keep])
    if index.size:
        lo, hi = min(lx.min(), ly.min()), max(lx.max(), ly.max())
        span = hi - lo if hi > lo else 1.0
        lx, ly = (lx - lo) / span, (ly - lo) / span
        rest = index >= blue
        ax.scatter(lx[rest], ly[rest], s=6, color=ORANGE, label="rest")
        ax.scatter(lx[~rest], ly[~rest], s=10, color=BLUE, label=f"top {blue}")
    else:
        ax.text(0.5, 0.6, "the knockout is zero\n(the knocked-out part has full rank)",
                ha="center", transform=ax.transAxes, fontsize="x-small", color="gray")
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(xlabel, fontsize="small")
    ax.set_ylabel(ylabel, fontsize="small")


def scree(ax: plt.Axes, curves: list[tuple[np.ndarray, str, str]], reference: np.ndarray,
          rank: int, *, top: int) -> None:
    """Scree of descending spectra `curves` [(values, color, label)] divided by
    exp(median log of the top `rank` eigenvalues of `reference`); whisker in orange at x = 0
    from the reference's 2nd largest to its `rank`-th eigenvalue."""
    ref = reference[:rank]
    ref = ref[ref > ZERO * max(reference[0], 0.0)]
    scale = float(np.exp(np.median(np.log(ref)))) if ref.size else 1.0
    for values, color, name in curves:
        v = values[:top] / scale
        v = v[v > ZERO * max(v[0], 0.0)]
        ax.plot(np.arange(1, v.size + 1), v, ".-", ms=3, lw=0.8, color=color, label=name)
    if ref.size >= 2:
        ax.errorbar([0], [np.sqrt(ref[1] * ref[-1]) / scale],
                    yerr=[[(np.sqrt(ref[1] * ref[-1]) - ref[-1]) / scale],
                          [(ref[1] - np.sqrt(ref[1] * ref[-1])) / scale]],
                    color=ORANGE, capsize=4, lw=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("index", fontsize="small")
    ax.set_ylabel("eigenvalue / median", fontsize="small")


APPROX_COLORS = {"KFAC": ORANGE, "CFAC": "gold"}


def read_layer_spectra(paths: list[str]) -> dict[tuple[str, str, str], xr.Dataset]:
    """Spectrum stores of layer:<name>:G/KFAC/CFAC keyed by (dataset, layer, kind)."""
    out = {}
    for path in paths:
        ds = read_store(path)
        op = ds["operator"].item() if "operator" in ds.coords else ""
        layer, _, kind = op.removeprefix("layer:").rpartition(":")
        if not op.startswith("layer:") or kind not in ("G", *APPROX_COLORS):
            raise UserError(f"{path} is not a layer:<name>:G/KFAC/CFAC spectrum store")
        out[(ds["dataset"].item(), layer, kind)] = ds
    return out


def curvature_panel(ax: plt.Axes, g: xr.Dataset | None, approx: xr.Dataset | None, kind: str,
                    rel_err: float) -> None:
    """Density of G^l (blue, thick) and of its approximation `kind` (KFAC orange, CFAC
    gold), with ||G^l - kind|| / ||G^l|| printed."""
    for ds, color, name, lw in ((g, BLUE, r"$G^l$", 2.4), (approx, APPROX_COLORS[kind], kind,
                                                           1.2)):
        if ds is not None:
            density_panel(ax, ds, store_params(ds).get("eps", 0.0), color=color, label=name,
                          lw=lw)
    ax.text(0.03, 0.04, rf"$\|G^l - {kind}\| / \|G^l\|$ = {rel_err:.3g}",
            transform=ax.transAxes, fontsize="x-small")
    ax.legend(fontsize="x-small", loc="upper right")


def rel_error(ds: xr.Dataset, layer: str, kind: str) -> float:
    """The stored ||G^l - KFAC^l|| / ||G^l|| (kind KFAC) or CFAC's, NaN when absent."""
    var = f"{kind.lower()}_rel_err"
    return float(ds[var].sel(layer=layer)) if var in ds else float("nan")
