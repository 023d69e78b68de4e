"""Figure 3 (section 5): the Hessian spectrum, train (left) and test (right), one row per
dataset, rank-C deflated (LowRankDeflation) with the top-C eigenvalues marked; log y.

Inputs: per dataset, the spectrum stores of `hess` (deflate C) on train then on test, then the
summary stores of the same checkpoints (their metrics go under each row's titles). The bulk is
the density of the deflated Hessian; the orange dots are the C deflated (true) eigenvalues.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.errors import UserError
from crossclass.figures.fig5 import (
    OUTLIER_COLOR,
    density_panel,
    store_label,
    to_axis,
    true_eigenvalues,
)
from crossclass.figures.plotting import mark_eigenvalues, metrics_line, save, split_stores
from crossclass.stores import store_params


def row_titles(ds, summaries) -> str:
    """'net on dataset (split), n = ..' and the checkpoint's metrics when a summary matches."""
    key = {k: ds[k].item() for k in ("dataset", "net", "n_per_class", "epoch", "split")}
    title = (f"{key['net']} on {key['dataset']}, {key['split']} Hessian "
             f"(n = {key['n_per_class']}, epoch {key['epoch']})")
    for s in summaries:
        if all(s[k].item() == key[k] for k in ("dataset", "net", "n_per_class", "epoch",
                                                "split")):
            return title + "\n" + metrics_line(s)
    return title


def spectrum_with_top(ax, ds, label: str) -> None:
    """Density of a deflated spectrum store and its true top eigenvalues in orange."""
    top = true_eigenvalues(ds)
    if not top.size:
        raise UserError(f"the spectrum store of {store_label(ds)} has no true top "
                        "eigenvalues: the figure needs it deflated (deflate > 0)")
    eps = store_params(ds).get("eps", 0.0)
    density_panel(ax, ds, eps, label=label)
    mark_eigenvalues(ax, to_axis(ds, top, eps), 0.93, ms=4, color=OUTLIER_COLOR,
                     label=f"top {top.size} eigenvalues")
    ax.legend(loc="center right", fontsize="x-small")  # the top eigenvalues sit at the top


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: (train, test) hess spectrum stores per dataset, then summary stores."""
    spectra, summaries = split_stores(inputs)
    if not spectra or len(spectra) % 2:
        raise UserError("fig3 needs a train and a test Hessian spectrum store per dataset")
    rows = len(spectra) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(11, 3.4 * rows), squeeze=False)
    for r in range(rows):
        for c in range(2):
            ds = spectra[2 * r + c]
            spectrum_with_top(axes[r, c], ds, "deflated Hessian")
            axes[r, c].set_title(row_titles(ds, summaries), fontsize="small")
    fig.suptitle("Figure 3: spectrum of the Hessian (rank-C deflated), train | test")
    save(fig, output)
    return fig
