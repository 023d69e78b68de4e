"""Figure 13 (section 7.13): singular values of W^l against those of W ⊯ W_class, per layer.

Inputs: layers stores (with the weight decomposition), one row each; columns are layers.
Scatter of the top `top` log singular values of W (y) against W ⊯ W_class (x, the non-square
projection knockout (I - W_c W_c^+) W (I - W_c^+ W_c)), normalised to [0, 1], top C blue. Each
panel prints the stationarity residual ||W - W_stat|| / ||W||.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import stationarity_residual, weight_spectra
from crossclass.errors import UserError
from crossclass.figures.layergrid import grid, knockout_scatter, read_layers_stores


def draw(inputs: list[str], output: str, *, top: int = 150) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        if "W" not in lay:
            raise UserError("figure 13 needs layers stores with the weight decomposition "
                            "(extracted with the weight decay eta)")
        s = weight_spectra(lay)
        knockout_scatter(ax, s["W"], s["W-minus-class"], top=top, blue=C,
                         xlabel=r"$\log\sigma_i(W$ ⊥ $W_{class})$",
                         ylabel=r"$\log\sigma_i(W)$")
        ax.text(0.97, 0.04, rf"$\|W - W_{{stat}}\|/\|W\|$ = {stationarity_residual(lay):.2g}",
                transform=ax.transAxes, ha="right", fontsize="x-small")

    return grid(read_layers_stores(inputs), panel,
         f"Figure 13: top-{top} log singular values of the weights W vs W ⊥ W_class "
         "(top C blue)", output)
