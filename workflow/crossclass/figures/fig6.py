"""Figure 6 (section 6.2): dynamics of the spectrum of G with training and sample size.

Inputs: spectrum stores of G (log, deflated by rank C, `--deflate C`) for several n_per_class
and epochs, then the means stores (`crossclass extract`) of the same runs; both are combined
with `crossclass.stores.open_stores`. Grid: rows = epochs, columns = n_per_class. Each panel:
the log density of the deflated G (blue), the top-C eigenvalues of G (orange), the eigenvalues
of G_class + G_cross + G_{c=c'}: top C (yellow, G_class), next C(C-2) (green, G_cross), last C
(teal, G_{c=c'}), and the C per-class values (1/N) Tr G_within,c (red; exact, from the means
store's `trace_within`): the mean of the at most N nonzero eigenvalues of each class's part.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.analysis.means_store import is_means_store
from crossclass.errors import UserError
from crossclass.figures.fig5 import OUTLIER_COLOR, density_panel, to_axis
from crossclass.figures.plotting import mark_eigenvalues, save
from crossclass.linalg.spectrum import STORE_OPTIONAL, STORE_REQUIRED
from crossclass.stores import open_stores, read_store, store_params

CLASS_COLOR, CROSS_COLOR, SAME_COLOR, WITHIN_COLOR = "gold", "tab:green", "teal", "tab:red"


def _select(ds, n, epoch):
    """The one (n, epoch) entry of a combined dataset, other key dims squeezed."""
    one = ds.sel(n_per_class=n, epoch=epoch)
    return one.squeeze([d for d in ("dataset", "net", "split", "operator") if d in one.dims])


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: spectrum stores of G (log, deflated), then means stores of the same runs."""
    spectra = [p for p in inputs if "density" in read_store(p)]
    means = [p for p in inputs if is_means_store(read_store(p))]
    if not spectra or not means or len(spectra) + len(means) != len(inputs):
        raise UserError("fig6 needs spectrum stores of G and the means stores of the same runs")
    S = open_stores(spectra, (*STORE_REQUIRED, "num_params"), optional=STORE_OPTIONAL)
    Mn = open_stores(means, ("eig_lowrank", "trace_within", "num_examples"))
    ns, epochs = [int(v) for v in S["n_per_class"].values], [int(v) for v in S["epoch"].values]
    eps = store_params(read_store(spectra[0])).get("eps", 0.0)
    size = (3.6 * len(ns) + 2.5, 2.6 * len(epochs) + 0.6)
    fig, axes = plt.subplots(len(epochs), len(ns), figsize=size, squeeze=False, sharex=True)
    for r, epoch in enumerate(epochs):
        for c, n in enumerate(ns):
            ax, s = axes[r, c], _select(S, n, epoch)
            if not np.isfinite(s["density"].values).all():
                raise UserError(f"fig6: no spectrum of G for n = {n}, epoch {epoch} among the "
                                "inputs (each n needs every epoch)")
            m = _select(Mn, n, epoch)
            density_panel(ax, s.drop_vars("top_eigenvalues"), eps, label="deflated G")
            C = m.sizes["class"]
            low = np.sort(m["eig_lowrank"].values)[::-1]
            groups = ((s["top_eigenvalues"].values, OUTLIER_COLOR, 0.93, f"top-{C} of G"),
                      (low[:C], CLASS_COLOR, 0.83, r"$G_{class}$ part"),
                      (low[C:C * (C - 1)], CROSS_COLOR, 0.83, r"$G_{cross}$ part"),
                      (low[C * (C - 1):C * C], SAME_COLOR, 0.83, r"$G_{c=c'}$ part"))
            within = m["trace_within"].values / float(m["num_examples"])
            groups += ((within, WITHIN_COLOR, 0.73,
                        r"$\frac{1}{N}\mathrm{Tr}\,G_{within,c}$"),)
            for values, color, y, label in groups:
                mark_eigenvalues(ax, to_axis(s, values, eps), y, ms=3.5, color=color,
                                 label=label)
            ax.set_title(f"n = {n} per class, epoch {epoch}", fontsize="medium")
            if r < len(epochs) - 1:
                ax.set_xlabel("")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    fig.suptitle(f"Figure 6: G over epochs (rows) x sample sizes (columns)\n"
                 f"{S['net'].values.ravel()[0]} on {S['dataset'].values.ravel()[0]}, "
                 "log spectrum of rank-C deflated G")
    save(fig, output)
    return fig
