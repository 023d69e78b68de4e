"""Figure 17 (Appendix C.8): the benefit of LowRankDeflation.

Inputs: two spectrum stores of the same operator and checkpoint: deflated (deflate > 0) then
plain (deflate 0), then optionally the summary store. Top panel: SubspaceIteration followed by
LanczosApproxSpec, the deflated (true) eigenvalues in orange; bottom panel: LanczosApproxSpec
alone, with the same eigenvalues marked so that they can be seen to align with its outliers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.errors import UserError
from crossclass.figures.fig3 import row_titles, spectrum_with_top
from crossclass.figures.fig5 import OUTLIER_COLOR, density_panel, to_axis, true_eigenvalues
from crossclass.figures.plotting import mark_eigenvalues, save, split_stores
from crossclass.stores import store_params


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: the deflated and the plain spectrum store, then optionally a summary store."""
    spectra, summaries = split_stores(inputs)
    if len(spectra) != 2 or "top_eigenvalues" not in spectra[0]:
        raise UserError("fig17 needs a deflated then a plain spectrum store")
    deflated, plain = spectra
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    spectrum_with_top(top, deflated, "deflated")
    top.set_title("SubspaceIteration + LanczosApproxSpec\n" + row_titles(deflated, summaries),
                  fontsize="small")
    eps = store_params(plain).get("eps", 0.0)
    density_panel(bottom, plain, eps, label="plain")
    mark_eigenvalues(bottom, to_axis(plain, true_eigenvalues(deflated), eps), 0.93, ms=4,
                     color=OUTLIER_COLOR, label="deflated eigenvalues (top panel)")
    bottom.legend(loc="upper right", fontsize="x-small")
    bottom.set_title("LanczosApproxSpec only", fontsize="small")
    fig.suptitle("Figure 17: low-rank deflation")
    save(fig, output)
    return fig
