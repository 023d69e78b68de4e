"""Section 8, Theorem 8.1 shown where it is exact, and the trained MLR it approximates.

Inputs: the MLR study store (`crossclass mlr-study`), then MLR stores (`crossclass
mlr-spectrum`, usually of trained MLRs). Panels:
(a) at the theorem's symmetric probabilities, ||G_n - E G|| / ||E G|| and the largest
    eigenvalue error / lambda_1 against n (log-log; dots: repeats, line: their mean) with the
    exact root-mean-square rate (dashed, slope -1/2);
(a') the sampled eigenvalues at the largest n against the theorem's (descending, the D null
    eigenvalues left out);
(b) each trained MLR's G against the theorem at its measured alpha (labelled as the model the
    theorem approximates; the theorem assumes symmetric probabilities, which a trained MLR does
    not have); and its histogram with the four theoretical values;
(c) SNR sweep: outlier / mini-bulk / bulk separations of trained MLRs (dots) and the theorem at
    the measured alpha (lines) against t, and against the misclassification rate.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.errors import UserError
from crossclass.figures.plotting import ESTIMATE_COLOR, EXACT_COLOR, save
from crossclass.stores import read_store, store_params

GROUP_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:gray")
RATIO_STYLE = {"outlier_minibulk": ("tab:orange", "outliers / mini-bulk"),
               "outlier_bulk": ("tab:red", "outliers / bulk"),
               "minibulk_bulk": ("tab:green", "mini-bulk / bulk")}


def _descending(ax, values, theory, label, color):
    """The D(C-1) non-null eigenvalues (the theorem's null space, D zeros, left out)."""
    k = int((theory > 0).sum())
    index = np.arange(1, k + 1)
    ax.plot(index, values[:k], color=color, lw=1.5, label=label)
    ax.plot(index, theory[:k], color=ESTIMATE_COLOR, ls="--", lw=1.2, label="Theorem 8.1")
    ax.set_yscale("log")
    ax.set_xlabel("index (descending)")
    ax.set_ylabel("eigenvalue")


def _convergence(ax, study, par):
    n = study["n"].values
    for var, color, name in (("rel_fro_error", EXACT_COLOR, r"$\|G_n - EG\|_F / \|EG\|_F$"),
                             ("eig_error", "tab:green",
                              r"$\max_i |\lambda_i(G_n) - \lambda_i(EG)| / \lambda_1$")):
        values = study[var].values
        ax.plot(np.repeat(n, values.shape[1]), values.ravel(), ".", color=color, alpha=0.4)
        ax.plot(n, values.mean(axis=1), "o-", color=color, label=name)
    ax.plot(n, study["expected_rel_rms"].values, "k--", lw=1,
            label=r"exact RMS rate $\propto n^{-1/2}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (examples per class)")
    ax.set_ylabel("relative error")
    ax.set_title(f"(a) sampled G at the theorem's probabilities (alpha = {par['alpha']:g}, "
                 f"t = {par['t']:g})", fontsize="medium")
    ax.legend(fontsize="x-small")


def _sweep(ax_t, ax_a, study):
    t = study["t"].values
    for var, (color, name) in RATIO_STYLE.items():
        ax_t.plot(t, study[var].values, "o", color=color, label=f"{name} (trained MLR)")
        ax_t.plot(t, study[f"theory_{var}"].values, "-", color=color, lw=1,
                  label=f"{name} (Theorem 8.1 at its alpha)")
        ax_a.plot(study["alpha"].values, study[var].values, "o-", color=color, label=name)
    ax_t.set_xlabel("signal-to-noise ratio t")
    twin = ax_t.twinx()
    twin.plot(t, study["train_error"].values, "k:", label="train error")
    twin.plot(t, study["test_error"].values, "k-.", label="test error")
    twin.set_ylabel("misclassification rate")
    twin.legend(fontsize="x-small", loc="center right")
    ax_a.set_xlabel(r"misclassification $\alpha = 1 - $ Ave $p_y$")
    for ax in (ax_t, ax_a):
        ax.set_yscale("log")
        ax.set_ylabel("separation (ratio of group means)")
        ax.legend(fontsize="xx-small", loc="upper left")
    ax_t.set_title("(c) separation of the trained MLR's G over t", fontsize="medium")
    ax_a.set_title("(c) separation tracks the misclassification rate", fontsize="medium")


def draw(inputs: list[str], output: str, *, bins: int = 80) -> plt.Figure:
    """inputs: the MLR study store, then MLR stores (one curve each)."""
    if not inputs:
        raise UserError("the mlr figure needs the MLR study store")
    study = read_store(inputs[0], ("rel_fro_error", "mc_eigenvalues", "theory_eigenvalues"))
    spectra = [read_store(p, ("empirical_eigenvalues", "theory_eigenvalues", "theory_values",
                              "theory_multiplicities")) for p in inputs[1:]]
    par = store_params(study)
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    _convergence(axes[0, 0], study, par)
    _descending(axes[0, 1], study["mc_eigenvalues"].values, study["theory_eigenvalues"].values,
                f"sampled G, n = {study['n'].values[-1]} per class", EXACT_COLOR)
    axes[0, 1].legend(fontsize="small")
    axes[0, 1].set_title("(a) the theorem's setting: sampled vs closed form", fontsize="medium")
    ax_b, ax_h = axes[0, 2], axes[1, 2]
    for k, ds in enumerate(spectra):
        p = store_params(ds)
        _descending(ax_b, ds["empirical_eigenvalues"].values, ds["theory_eigenvalues"].values,
                    f"{p['mode']} MLR, n = {p['n_per_class']}, alpha = {p['alpha']:.3g}",
                    plt.cm.viridis(k / max(len(spectra), 1)))
    if spectra:
        ax_b.legend(fontsize="x-small")
        last, p = spectra[-1], store_params(spectra[-1])
        ax_h.hist(last["empirical_eigenvalues"].values, bins=int(bins), color=EXACT_COLOR,
                  alpha=0.7, label=f"{p['mode']} MLR, n = {p['n_per_class']}")
        for value, mult, group, color in zip(last["theory_values"].values,
                                             last["theory_multiplicities"].values,
                                             last["group"].values, GROUP_COLORS, strict=True):
            if mult:
                ax_h.axvline(value, color=color, ls="--", lw=1.2,
                             label=f"{group}: {value:.3g} (x{mult})")
        ax_h.set_yscale("log")
        ax_h.set_xlabel(r"eigenvalue $\lambda$")
        ax_h.set_ylabel("count")
        ax_h.legend(fontsize="x-small")
    trained = bool(spectra) and all(store_params(ds)["mode"] == "trained" for ds in spectra)
    what = "trained MLR" if trained else "MLR stores"
    ax_b.set_title(f"(b) {what}: the model Theorem 8.1 approximates\n(trained probabilities "
                   "are not symmetric; theorem at the measured alpha)", fontsize="medium")
    ax_h.set_title(f"(b) {what}: histogram and the theorem's four values", fontsize="medium")
    _sweep(axes[1, 0], axes[1, 1], study)
    fig.suptitle(f"Section 8, Theorem 8.1: MLR on CCM(D = {par['D']}, C = {par['C']})")
    save(fig, output)
    return fig
