"""Figure 10 (section 7.9): scree of Delta^l (blue), Delta_class (orange) and
Delta_class + Delta_cross (gray), per layer.

Inputs: layers stores, one row each; columns are layers. Eigenvalues are divided by
exp(median_i log lambda_i(Delta_class)) (i <= C); whisker from lambda_2(Delta_class) to
lambda_C(Delta_class).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import error_spectra
from crossclass.figures.layergrid import BLUE, GRAY, ORANGE, grid, read_layers_stores, scree


def draw(inputs: list[str], output: str, *, top: int = 100) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        s = error_spectra(lay)
        scree(ax, [(s["Delta"], BLUE, r"$\Delta$"),
                   (s["Delta_class"][:C], ORANGE, r"$\Delta_{class}$"),
                   (s["Delta_class+cross"][:C * (C - 1)], GRAY,
                    r"$\Delta_{class}+\Delta_{cross}$")],
              s["Delta_class"], C, top=top)
        ax.legend(fontsize="xx-small")

    return grid(read_layers_stores(inputs), panel,
         "Figure 10: scree of the errors Delta (blue), Delta_class (orange), Delta_class + "
         "Delta_cross (gray), normalised by the median log-eigenvalue of Delta_class", output)
