"""Section 8, Theorem 8.1: the closed-form spectrum of E G vs the sampled MLR FIM on CCM data.

Inputs: MLR stores (`crossclass mlr-spectrum`), one column each. Top: histogram of the
empirical eigenvalues (log y) with the four theoretical values as vertical lines labelled by
their multiplicities. Bottom: all eigenvalues in descending order, empirical (blue) vs theory
(red dashed), log y (zeros drawn at 1e-12 of the largest).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.errors import UserError
from crossclass.figures.plotting import ESTIMATE_COLOR, EXACT_COLOR, save
from crossclass.stores import read_store, store_params

GROUP_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:gray")


def draw(inputs: list[str], output: str, *, bins: int = 80) -> None:
    """inputs: MLR stores, one column each."""
    if not inputs:
        raise UserError("the mlr figure needs at least one MLR store")
    fig, axes = plt.subplots(2, len(inputs), figsize=(5.5 * len(inputs), 7), squeeze=False)
    for col, path in enumerate(inputs):
        ds = read_store(path, ("empirical_eigenvalues", "theory_eigenvalues", "theory_values",
                               "theory_multiplicities"))
        par = store_params(ds)
        emp, theory = ds["empirical_eigenvalues"].values, ds["theory_eigenvalues"].values
        top, bottom = axes[0, col], axes[1, col]
        top.hist(emp, bins=int(bins), color=EXACT_COLOR, alpha=0.7, label="sampled G")
        for value, mult, group, color in zip(ds["theory_values"].values,
                                             ds["theory_multiplicities"].values,
                                             ds["group"].values, GROUP_COLORS, strict=True):
            if mult:
                top.axvline(value, color=color, ls="--", lw=1.2,
                            label=f"{group}: {value:.3g} (x{mult})")
        top.set_yscale("log")
        top.set_xlabel(r"eigenvalue $\lambda$")
        top.set_ylabel("count")
        top.legend(fontsize="x-small")
        top.set_title(f"D = {par['D']}, C = {par['C']}, t = {par['t']:g}, n = "
                      f"{par['n_per_class']}, alpha = {par['alpha']:.3g} ({par['mode']})",
                      fontsize="medium")
        floor = max(emp.max(), theory.max()) * 1e-12  # round-off level; zeros drawn there
        index = np.arange(1, emp.size + 1)
        bottom.plot(index, np.maximum(emp, floor), color=EXACT_COLOR, lw=1.5, label="sampled G")
        bottom.plot(index, np.maximum(theory, floor), color=ESTIMATE_COLOR, ls="--", lw=1.5,
                    label="Theorem 8.1")
        bottom.set_yscale("log")
        bottom.set_xlabel("index (descending)")
        bottom.set_ylabel("eigenvalue")
        bottom.legend(fontsize="small")
    fig.suptitle("Theorem 8.1: spectrum of the MLR Fisher information on CCM data")
    save(fig, output)
