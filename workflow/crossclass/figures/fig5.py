"""Figure 5 (section 6.1): attribution by knockouts in the spectrum of G.

Inputs: spectrum stores (`crossclass operator-spectrum`, all of one dataset, net, n, epoch and
split), one panel each in the given order (G, its parts, the subtraction knockouts G - B and
the projection knockouts (I - QQ^T) G (I - QQ^T)), then optionally the checkpoint's summary
store (its metrics go into the title). Each panel: the (log-)spectral density on a log y-axis
and the true top eigenvalues of the operator (the deflated eigenvalues of subspace iteration,
or exact eigenvalues for method=exact; never Ritz values, which repeat as ghosts): the top C
(orange, the class outliers) and the next C(C-2) (green, the cross-class mini-bulk).
`density_panel`, `mark_structure`, `to_axis`, `title_of` and `store_label` are shared with the
other network figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from crossclass.errors import UserError
from crossclass.figures.plotting import (
    compact_x_ticks,
    mark_eigenvalues,
    metrics_line,
    save,
    split_stores,
)
from crossclass.stores import store_params

DENSITY_COLOR = "tab:blue"
OUTLIER_COLOR = "tab:orange"
MINIBULK_COLOR = "tab:green"
LABELS = {
    "G": r"$G$", "hess": "Hess", "E": r"$E$", "G_class": r"$G_{class}$",
    "G_cross": r"$G_{cross}$", "G_within": r"$G_{within}$", "G_same": r"$G_{c=c'}$",
    "G-minus-class": r"$G - G_{class}$", "G-minus-cross": r"$G - G_{cross}$",
    "G-minus-within": r"$G - G_{within}$", "G-minus-same": r"$G - G_{c=c'}$",
    "G-project-class": r"$G$ ⊥ $G_{class}$", "G-project-cross": r"$G$ ⊥ $G_{cross}$",
    "G-project-same": r"$G$ ⊥ $G_{c=c'}$", "hess-minus-G": "Hess - G (= E)",
    "hess-minus-E": "Hess - E (= G)",
}
def to_axis(ds: xr.Dataset, values: np.ndarray, eps: float) -> np.ndarray:
    """Eigenvalues on the store's x-axis: log(|lambda| + eps) for log spectra."""
    return np.log(np.abs(values) + eps) if "log_lambda" in ds else values


def true_eigenvalues(ds: xr.Dataset) -> np.ndarray:
    """The store's true top eigenvalues, descending: deflated, else exact, else none."""
    if "top_eigenvalues" in ds:
        return np.sort(ds["top_eigenvalues"].values)[::-1]
    if "exact_eigenvalues" in ds:
        return np.sort(ds["exact_eigenvalues"].values)[::-1]
    return np.array([])


def density_panel(ax: plt.Axes, ds: xr.Dataset, eps: float, *, color: str = DENSITY_COLOR,
                  label: str | None = None, lw: float = 1.2) -> None:
    """The density of one spectrum (dims grid only) on a log y-axis."""
    log = "log_lambda" in ds
    x = ds["log_lambda" if log else "lambda"].values
    density = ds["density"].values
    if not (density > 0).any():
        raise UserError(f"the spectrum store of {store_label(ds)} has no positive density: nothing "
                        "to plot; recompute it")
    ax.plot(x, density, color=color, lw=lw, label=label)
    ax.set_yscale("log")
    ax.set_ylim(max(density.max() * 1e-6, density[density > 0].min()), density.max() * 5)
    ax.set_xlabel(rf"$\log(|\lambda| + {eps:g})$" if log else r"eigenvalue $\lambda$")
    ax.set_ylabel("density")
    if not log:
        compact_x_ticks(ax)


def store_label(ds: xr.Dataset) -> str:
    """'operator (title_of)' of a spectrum store, for error messages."""
    name = ds["operator"].item() if "operator" in ds.coords else "a matrix"
    return f"{name} ({title_of(ds)})"


def mark_structure(ax: plt.Axes, ds: xr.Dataset, eps: float, C: int) -> None:
    """Dots at the true top C eigenvalues (orange) and the next C(C-2) (green)."""
    top = true_eigenvalues(ds)
    groups = ((top[:C], OUTLIER_COLOR, 0.93, f"top {C} eigenvalues"),
              (top[C:C * (C - 1)], MINIBULK_COLOR, 0.86, f"next {C * (C - 2)} (mini-bulk)"))
    for values, color, height, label in groups:
        if values.size:
            mark_eigenvalues(ax, to_axis(ds, values, eps), height, ms=3.5, color=color,
                             label=label)


def title_of(ds: xr.Dataset) -> str:
    """'dataset, net, n = .., epoch .., split' from the key coordinates."""
    k = {name: ds[name].item() for name in ("dataset", "net", "n_per_class", "epoch", "split")
         if name in ds.coords}
    return (f"{k.get('net', '?')} on {k.get('dataset', '?')}, n = {k.get('n_per_class', '?')} "
            f"per class, epoch {k.get('epoch', '?')}, {k.get('split', '?')} data")


def num_classes(ds: xr.Dataset) -> int:
    """C of the network a spectrum store was computed on (recorded in its params)."""
    params = store_params(ds)
    if "num_classes" not in params:
        raise UserError("the spectrum store records no num_classes; recompute it")
    return int(params["num_classes"])


def draw(inputs: list[str], output: str, *, columns: int = 4) -> plt.Figure:
    """inputs: spectrum stores, one panel each, then optionally the summary store."""
    sets, summaries = split_stores(inputs)
    if not sets:
        raise UserError("fig5 needs at least one spectrum store")
    if any("operator" not in ds.coords for ds in sets):
        raise UserError("fig5 reads operator spectrum stores (crossclass operator-spectrum)")
    cols = min(int(columns), len(sets))
    rows = -(-len(sets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for ax, ds in zip(axes.ravel(), sets, strict=False):
        eps = store_params(ds).get("eps", 0.0)
        density_panel(ax, ds, eps, label="spectral density")
        mark_structure(ax, ds, eps, num_classes(ds))
        name = ds["operator"].item()
        ax.set_title(LABELS.get(name, name))
        ax.legend(loc="upper left", fontsize="x-small")
    for ax in axes.ravel()[len(sets):]:
        ax.set_visible(False)
    subtitle = f"\n{metrics_line(summaries[0])}" if summaries else ""
    fig.suptitle(f"Figure 5: knockouts in the spectrum of G — {title_of(sets[0])}{subtitle}")
    save(fig, output)
    return fig
