"""Figure 15: verification of the Lanczos spectral density on synthetic matrices.

(a) the density of Y = X + Z Z^T / 2000; (b) the density of log(|lambda| + eps) of Y = Z Z^T / 1000
with Pareto(1) entries. Each panel: a histogram (as a density) of the exact eigenvalues in blue,
the LanczosApproxSpec estimate as a red line, log y-axis.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.errors import UserError
from crossclass.figures.plotting import histogram_vs_density, save
from crossclass.stores import read_store, store_params

TITLES = (
    r"(a) $Y = X + \frac{1}{p}ZZ^\top$, $Z$ Gaussian",
    r"(b) $\log$-spectrum of $Y = \frac{1}{q}ZZ^\top$, $Z$ Pareto($\alpha=1$)",
)


def draw(inputs: list[str], output: str, *, bins: int = 100) -> plt.Figure:
    """inputs: the spectrum stores of fig15a and fig15b (in that order); writes PDF and PNG."""
    if len(inputs) != 2:
        raise UserError(f"fig15 needs 2 spectrum stores (fig15a, fig15b), got {len(inputs)}")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, path, title in zip(axes, inputs, TITLES, strict=True):
        ds = read_store(path, ("density", "exact_eigenvalues"))
        params = store_params(ds)
        exact = ds["exact_eigenvalues"].values
        if params["log"]:
            exact = np.log(np.abs(exact) + params["eps"])
            xlabel = rf"$\log(|\lambda| + \epsilon)$, $\epsilon$ = {params['eps']:g}"
        else:
            xlabel = r"eigenvalue $\lambda$"
        grid = ds["log_lambda" if params["log"] else "lambda"].values
        histogram_vs_density(ax, exact, grid, ds["density"].values,
                             bins=int(bins), xlabel=xlabel)
        ax.set_title(f"{title}\n{exact.size} x {exact.size}, M = {params['M']}, "
                     f"$n_{{vec}}$ = {params['n_vec']}", fontsize="medium")
    fig.suptitle("Figure 15: Lanczos spectral density vs exact eigenvalues")
    save(fig, output)
    return fig
