"""Figure 5 (section 6.1): attribution by knockouts in the spectrum of G.

One panel per spectrum store (`crossclass operator-spectrum`, all of one dataset, net, n,
epoch and split), in the given order, e.g. G, G_class, G_cross, G_within, G-minus-class,
G-minus-cross, G-minus-within, G-minus-same: the (log-)spectral density on a log y-axis, with
the outliers marked: the deflated top eigenvalues when the store has them, else the largest
`outliers` Ritz values (exact eigenvalues for method=exact).
`density_panel` is shared with the other network figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from crossclass.errors import UserError
from crossclass.figures.plotting import mark_eigenvalues, save
from crossclass.stores import read_store, store_params

DENSITY_COLOR = "tab:blue"
OUTLIER_COLOR = "tab:orange"
LABELS = {
    "G": r"$G$", "hess": "Hess", "E": r"$E$", "G_class": r"$G_{class}$",
    "G_cross": r"$G_{cross}$", "G_within": r"$G_{within}$", "G_same": r"$G_{c=c'}$",
    "G-minus-class": r"$G - G_{class}$", "G-minus-cross": r"$G - G_{cross}$",
    "G-minus-within": r"$G - G_{within}$", "G-minus-same": r"$G - G_{c=c'}$",
    "G-project-class": r"$G$ ⊥ $G_{class}$", "G-project-cross": r"$G$ ⊥ $G_{cross}$",
    "G-project-same": r"$G$ ⊥ $G_{c=c'}$", "hess-minus-G": "Hess - G",
    "hess-minus-E": "Hess - E",
}
# What the spectral panels read: checked complete and finite (crossclass.stores.read_store).
SPECTRUM = ("density", "ritz_values", "ritz_weights")
SPECTRUM_OPTIONAL = ("lambda", "log_lambda", "top_eigenvalues", "exact_eigenvalues",
                     "num_params")


def read_spectrum(path: str) -> xr.Dataset:
    """A spectrum store with everything a spectral panel draws checked (one-line errors)."""
    return read_store(path, SPECTRUM, optional=SPECTRUM_OPTIONAL)


def to_axis(ds: xr.Dataset, values: np.ndarray, eps: float) -> np.ndarray:
    """Eigenvalues on the store's x-axis: log(|lambda| + eps) for log spectra."""
    return np.log(np.abs(values) + eps) if "log_lambda" in ds else values


def density_panel(ax: plt.Axes, ds: xr.Dataset, eps: float, *, color: str = DENSITY_COLOR,
                  label: str | None = None, outliers: int = 0, lw: float = 1.2) -> None:
    """The density of one spectrum (dims grid only) on a log y-axis; with outliers > 0 the
    largest `outliers` eigenvalues (deflated top, else Ritz/exact) as dots along the top."""
    log = "log_lambda" in ds
    x = ds["log_lambda" if log else "lambda"].values
    density = ds["density"].values
    ax.plot(x, density, color=color, lw=lw, label=label)
    ax.set_yscale("log")
    ax.set_ylim(max(density.max() * 1e-6, density[density > 0].min()), density.max() * 5)
    ax.set_xlabel(rf"$\log(|\lambda| + {eps:g})$" if log else r"eigenvalue $\lambda$")
    ax.set_ylabel("density")
    if outliers:
        if "top_eigenvalues" in ds:
            top = ds["top_eigenvalues"].values
        else:
            source = ds["exact_eigenvalues"] if "exact_eigenvalues" in ds else ds["ritz_values"]
            top = np.sort(np.unique(source.values.ravel()))[-outliers:]
        mark_eigenvalues(ax, to_axis(ds, top, eps), 0.93, ms=4, color=OUTLIER_COLOR,
                         label=f"top {top.size} eigenvalues")


def title_of(ds: xr.Dataset) -> str:
    """'dataset, net, n = .., epoch .., split' from the key coordinates."""
    k = {name: ds[name].item() for name in ("dataset", "net", "n_per_class", "epoch", "split")
         if name in ds.coords}
    return (f"{k.get('net', '?')} on {k.get('dataset', '?')}, n = {k.get('n_per_class', '?')} "
            f"per class, epoch {k.get('epoch', '?')}, {k.get('split', '?')} data")


def draw(inputs: list[str], output: str, *, outliers: int = 10, columns: int = 4) -> None:
    """inputs: spectrum stores, one panel each; outliers: how many top eigenvalues to mark."""
    if not inputs:
        raise UserError("fig5 needs at least one spectrum store")
    sets = [read_spectrum(p) for p in inputs]
    for path, ds in zip(inputs, sets, strict=True):
        if "density" not in ds or "operator" not in ds.coords:
            raise UserError(f"{path} is not an operator spectrum store")
    cols = min(int(columns), len(sets))
    rows = -(-len(sets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for ax, ds in zip(axes.ravel(), sets, strict=False):
        eps = store_params(ds).get("eps", 0.0)
        density_panel(ax, ds, eps, outliers=int(outliers), label="spectral density")
        name = ds["operator"].item()
        ax.set_title(LABELS.get(name, name))
        ax.legend(loc="upper left", fontsize="x-small")
    for ax in axes.ravel()[len(sets):]:
        ax.set_visible(False)
    fig.suptitle(f"Figure 5: knockouts in the spectrum of G — {title_of(sets[0])}")
    save(fig, output)
