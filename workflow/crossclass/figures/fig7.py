"""Figure 7 (section 7.5): features H^{l-1} against the knockout H ⊯ H_class, per layer.

Inputs: layers stores, one row each (a dataset); columns are layers. Each panel scatters the
top `top` log-eigenvalues of H (y) against those of H ⊯ H_class (x), normalised to [0, 1];
the top C (blue) leave the identity line when H_class causes the outliers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis.knockouts import feature_spectra
from crossclass.figures.layergrid import grid, knockout_scatter, read_layers_stores


def draw(inputs: list[str], output: str, *, top: int = 750) -> plt.Figure:
    """inputs: layers stores, one per dataset."""
    def panel(ax, lay, C):
        s = feature_spectra(lay)
        knockout_scatter(ax, s["H"], s["H-minus-class"], top=top, blue=C,
                         xlabel=r"$\log\lambda_i(H$ ⊥ $H_{class})$",
                         ylabel=r"$\log\lambda_i(H)$")

    return grid(read_layers_stores(inputs), panel,
         f"Figure 7: top-{top} log-eigenvalues of the features H vs H ⊥ H_class "
         "(top C blue, rest orange; normalised to [0, 1])", output)
