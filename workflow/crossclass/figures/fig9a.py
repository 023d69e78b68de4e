"""Figure 9a (section 7.8): errors Delta^l against the knockout Delta ⊯ Delta_class, per layer.

Inputs: layers stores, one row each; columns are layers. Scatter of the top `top`
log-eigenvalues of Delta (y) against Delta ⊯ Delta_class (x), normalised to [0, 1], top C blue.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import error_spectra
from crossclass.figures.layergrid import grid, knockout_scatter, read_layers_stores


def draw(inputs: list[str], output: str, *, top: int = 750) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        s = error_spectra(lay)
        knockout_scatter(ax, s["Delta"], s["Delta-minus-class"], top=top, blue=C,
                         xlabel=r"$\log\lambda_i(\Delta$ ⊥ $\Delta_{class})$",
                         ylabel=r"$\log\lambda_i(\Delta)$")

    return grid(read_layers_stores(inputs), panel,
         f"Figure 9a: top-{top} log-eigenvalues of the errors Delta vs Delta ⊥ Delta_class "
         "(top C blue)", output)
