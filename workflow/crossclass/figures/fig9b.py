"""Figure 9b (section 7.8): Delta ⊯ Delta_class against Delta ⊯ (Delta_class + Delta_cross).

Inputs: layers stores, one row each; columns are layers. Scatter of the top `top`
log-eigenvalues of Delta ⊯ Delta_class (y) against Delta ⊯ (Delta_class + Delta_cross) (x),
normalised to [0, 1]; the top C(C - 2) (the rank of Delta_cross) are blue.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import error_spectra
from crossclass.figures.layergrid import grid, knockout_scatter, read_layers_stores


def draw(inputs: list[str], output: str, *, top: int = 750) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        s = error_spectra(lay)
        knockout_scatter(ax, s["Delta-minus-class"], s["Delta-minus-class+cross"], top=top,
                         blue=C * (C - 2),
                         xlabel=r"$\log\lambda_i(\Delta$ ⊥ $(\Delta_{class}+\Delta_{cross}))$",
                         ylabel=r"$\log\lambda_i(\Delta$ ⊥ $\Delta_{class})$")

    return grid(read_layers_stores(inputs), panel,
         f"Figure 9b: top-{top} log-eigenvalues of Delta ⊥ Delta_class vs "
         "Delta ⊥ (Delta_class + Delta_cross) (top C(C-2) blue)", output)
