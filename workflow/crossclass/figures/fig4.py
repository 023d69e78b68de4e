"""Figure 4 (section 5.1): the Hessian and its two components, Hess = G + E.

Inputs: spectrum stores of `hess`, `hess-minus-E` (= G) and `hess-minus-G` (= E) at one
checkpoint and split, each with LowRankDeflation, then optionally the summary store.
(a) one panel per matrix: the deflated density and its true top eigenvalues (orange): the
outliers of Hess are those of G, and vanish from E. (b) zoom on the bulks: the three deflated
densities overlaid on the central range that holds `zoom` of the Hessian's deflated spectral
mass: knocking out E shrinks the bulk.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.errors import UserError
from crossclass.figures.fig3 import row_titles, spectrum_with_top
from crossclass.figures.fig5 import LABELS
from crossclass.figures.plotting import compact_x_ticks, save, split_stores

OPERATORS = ("hess", "hess-minus-E", "hess-minus-G")
COLORS = {"hess": "black", "hess-minus-E": "tab:blue", "hess-minus-G": "tab:red"}


def central_range(ds, mass: float) -> tuple[float, float]:
    """The interval [q, Q] of the grid holding the central `mass` of the density."""
    x, f = ds["lambda"].values, ds["density"].values
    cdf = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(x))])
    cdf /= cdf[-1]
    return (float(np.interp((1 - mass) / 2, cdf, x)),
            float(np.interp((1 + mass) / 2, cdf, x)))


def draw(inputs: list[str], output: str, *, zoom: float = 0.98) -> plt.Figure:
    """inputs: hess, hess-minus-E, hess-minus-G spectrum stores, then optionally a summary."""
    spectra, summaries = split_stores(inputs)
    names = [ds["operator"].item() if "operator" in ds.coords else None for ds in spectra]
    if tuple(names) != OPERATORS or any("log_lambda" in ds for ds in spectra):
        raise UserError(f"fig4 needs the linear spectra of {', '.join(OPERATORS)}, in order")
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.8))
    for ax, ds, name in zip(axes[:3], spectra, names, strict=True):
        spectrum_with_top(ax, ds, LABELS[name])
        ax.set_title(f"(a) {LABELS[name]}", fontsize="medium")
    lo, hi = central_range(spectra[0], float(zoom))
    zoom_ax = axes[3]
    for ds, name in zip(spectra, names, strict=True):
        x, f = ds["lambda"].values, ds["density"].values
        keep = (x >= lo) & (x <= hi)
        zoom_ax.plot(x[keep], f[keep], color=COLORS[name], lw=1.2, label=LABELS[name])
    zoom_ax.set_yscale("log")
    x, f = spectra[0]["lambda"].values, spectra[0]["density"].values
    top = f[(x >= lo) & (x <= hi)].max()
    zoom_ax.set_ylim(top * 1e-6, top * 5)
    zoom_ax.set_xlim(lo, hi)
    compact_x_ticks(zoom_ax)
    zoom_ax.set_xlabel(r"eigenvalue $\lambda$")
    zoom_ax.set_title(f"(b) zoom on the bulks (central {100 * zoom:g}% of Hess)",
                      fontsize="medium")
    zoom_ax.legend(fontsize="x-small")
    fig.suptitle("Figure 4: Hess = G + E, each rank-C2 deflated — "
                 + row_titles(spectra[0], summaries))
    save(fig, output)
    return fig
