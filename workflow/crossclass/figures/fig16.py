"""Figure 16 (Appendix C.7): tail properties of E.

Input: one log spectrum store of `E` (deflate 0; with the signed parts density_positive and
density_negative), then optionally the summary store. Left: the spectral density of E in
eigenvalue units, phi(|lambda|) = f(u) / |lambda| at u = log(|lambda| + eps), on a log-log plot,
positive eigenvalues in red and |negative| ones in blue, with the power-law fit
phi = a |lambda|^-b of the positive part on |lambda| in [fit_lo, fit_hi] x max|lambda| and its
R^2. Right: the density f(u) of log|E| itself with the fit f = a' |lambda|^-b' on the same range
(equivalently phi = a' |lambda|^-(b' + 1)).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.claims.features import power_law_fit, signed_densities
from crossclass.errors import UserError
from crossclass.figures.fig3 import row_titles
from crossclass.figures.plotting import save, split_stores
from crossclass.stores import store_params

POSITIVE, NEGATIVE, FIT = "tab:red", "tab:blue", "black"


def draw(inputs: list[str], output: str, *, fit_lo: float = 0.05,
         fit_hi: float = 0.8) -> plt.Figure:
    """inputs: the log spectrum store of E, then optionally a summary store."""
    spectra, summaries = split_stores(inputs)
    if len(spectra) != 1 or "density_positive" not in spectra[0]:
        raise UserError("fig16 needs one log spectrum store of E with its signed densities")
    ds = spectra[0]
    eps = float(store_params(ds).get("eps", 0.0))
    x, positive, negative = signed_densities(ds, eps)
    top = float(np.abs(ds["ritz_values"].values).max())
    lo, hi = fit_lo * top, fit_hi * top
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    shown = x > max(eps, 1e-6 * top)
    for values, color, label in ((positive, POSITIVE, r"$\lambda > 0$"),
                                 (negative, NEGATIVE, r"$|\lambda|$, $\lambda < 0$")):
        keep = shown & (values > 0)
        left.plot(x[keep], values[keep], color=color, lw=1.2, label=label)
    a, b, r2 = power_law_fit(x, positive, lo, hi)
    fit_x = np.geomspace(lo, hi, 50)
    left.plot(fit_x, a * fit_x**-b, "--", color=FIT,
              label=rf"$\phi = {a:.2g}\,|\lambda|^{{{-b:.2f}}}$, $R^2 = {r2:.2f}$")
    left.set_xscale("log")
    left.set_yscale("log")
    peak = max(positive[shown].max(initial=0), negative[shown].max(initial=0))
    if peak > 0:
        left.set_ylim(peak * 1e-8, peak * 10)
    left.set_xlabel(r"$|\lambda|$")
    left.set_ylabel(r"density $\phi$")
    left.set_title("spectrum of E (log x-axis)")
    left.legend(fontsize="x-small")
    u, f = ds["log_lambda"].values, ds["density"].values
    right.plot(u, f, color=POSITIVE, lw=1.2, label=r"density of $\log(|E| + \epsilon)$")
    a2, b2, r2b = power_law_fit(x, ds["density"].values, lo, hi)
    right.plot(np.log(fit_x + eps), a2 * fit_x**-b2, "--", color=FIT,
               label=rf"fit $\phi = {a2:.2g}\,|\lambda|^{{{-(b2 + 1):.2f}}}$, "
                     rf"$R^2 = {r2b:.2f}$")
    right.set_yscale("log")
    positive_f = f[f > 0]
    right.set_ylim(max(positive_f.max() * 1e-6, positive_f.min()), positive_f.max() * 5)
    right.set_xlabel(rf"$\log(|\lambda| + {eps:g})$")
    right.set_title(r"spectrum of $\log|E|$")
    right.legend(fontsize="x-small")
    fig.suptitle("Figure 16: tail of E — " + row_titles(ds, summaries))
    save(fig, output)
    return fig
