"""Figure 14 (Appendix): the Hessian spectrum without deflation, one panel per dataset.

Inputs: spectrum stores of `hess` (deflate 0, LanczosApproxSpec), one per dataset, then their
summary stores. Unlike Figure 3 the top-C eigenspace is not removed: the C outliers appear as
bumps of the density (Ritz values, not marked as eigenvalues).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.errors import UserError
from crossclass.figures.fig3 import row_titles
from crossclass.figures.fig5 import density_panel
from crossclass.figures.plotting import save, split_stores
from crossclass.stores import store_params


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: one hess spectrum store per dataset, then summary stores."""
    spectra, summaries = split_stores(inputs)
    if not spectra:
        raise UserError("fig14 needs at least one Hessian spectrum store")
    fig, axes = plt.subplots(1, len(spectra), figsize=(5.2 * len(spectra), 3.8), squeeze=False)
    for ax, ds in zip(axes[0], spectra, strict=True):
        density_panel(ax, ds, store_params(ds).get("eps", 0.0), label="Hessian")
        ax.set_title(row_titles(ds, summaries), fontsize="small")
    fig.suptitle("Figure 14: spectrum of the Hessian, no deflation")
    save(fig, output)
    return fig
