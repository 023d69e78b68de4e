"""Figure 8 (section 7.6): scree of the features H^{l-1} (blue) and H_class (orange), per layer.

Inputs: layers stores, one row each; columns are layers. Eigenvalues are divided by
exp(median_i log lambda_i(H_class)) (i <= C); the orange whisker spans lambda_2(H_class) to
lambda_C(H_class): it shrinks with depth as H_class whitens.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import feature_spectra
from crossclass.figures.layergrid import BLUE, ORANGE, grid, read_layers_stores, scree


def draw(inputs: list[str], output: str, *, top: int = 100) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        s = feature_spectra(lay)
        scree(ax, [(s["H"], BLUE, r"$H$"), (s["H_class"][:C], ORANGE, r"$H_{class}$")],
              s["H_class"], C, top=top)
        ax.legend(fontsize="xx-small")

    return grid(read_layers_stores(inputs), panel,
         "Figure 8: scree of the features H (blue) and H_class (orange), normalised by the "
         "median log-eigenvalue of H_class; whisker: its 2nd largest to smallest", output)
