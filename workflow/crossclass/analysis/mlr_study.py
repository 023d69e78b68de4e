"""Section 8 shown right: Theorem 8.1 where it is exact, and the trained MLR it approximates.

(a) convergence: at the theorem's own setting (symmetric probabilities with a given alpha) the
    sampled G_n = monte_carlo_fim converges to E G; per n (per class) and repeat:
      rel_fro_error = ||G_n - E G||_F / ||E G||_F,
      eig_error     = max_i |lambda_i(G_n) - lambda_i(E G)| / lambda_1(E G)   (<= the first, Weyl),
    with the exact root-mean-square rate sqrt(monte_carlo_fim_mse) / ||E G||_F ~ n^{-1/2};
(b) the trained MLR is `analysis.mlr.mlr_spectrum_dataset` (mode "trained"), drawn separately;
(c) SNR sweep: for each t an MLR trained on CCM(D, C) with n per class; alpha = 1 - Ave p_{y},
    train / test error (argmax; the test set a fresh sample of the same size) and the spectral
    separations of the sampled G by group means (top C outliers, next C(C-2) mini-bulk, the
    (D-C)(C-1) bulk): outlier / mini-bulk, outlier / bulk, mini-bulk / bulk, beside the
    theorem's at the measured alpha. The paper: all three track the misclassification rate.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from crossclass.mlr import (
    expected_fim,
    expected_fim_eigenvalues,
    expected_fim_spectrum,
    fim_dense,
    mlr_probabilities,
    monte_carlo_fim,
    monte_carlo_fim_mse,
    sample_ccm,
    train_mlr,
)
from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('rel_fro_error',), '(n, repeat)', '|G_n - E G|_F / |E G|_F'),
        (('eig_error',), '(n, repeat)',
         'max_i |lambda_i(G_n) - lambda_i(E G)| / lambda_1(E G) (<= the above times |E G|_F '
         '/ lambda_1, Weyl)'),
        (('expected_rel_rms',), '(n,)',
         'sqrt(`monte_carlo_fim_mse`) / |E G|_F, the exact n^{-1/2} rate'),
        (('mc_eigenvalues', 'theory_eigenvalues'), '(eigen,)',
         'G_n at the largest n (first repeat) and Theorem 8.1, descending'),
        (('alpha',), '(t,)', '1 - Ave p_{y} of the trained MLR'),
        (('train_error', 'test_error'), '(t,)',
         'argmax misclassification; test: a fresh sample of the same size'),
        (('outlier_minibulk', 'outlier_bulk', 'minibulk_bulk'), '(t,)',
         "ratios of group means of the trained G's spectrum: top C, next C(C-2), the "
         '(D-C)(C-1) after the first C(C-1) (NaN for an empty group)'),
        (('theory_<ratio>',), '(t,)', 'the same ratios of Theorem 8.1 at the measured alpha'),
    ),
    intro=("(a) the sampled G_n at the theorem's own setting (symmetric probabilities, "
           '`--alpha`, SNR `--t`) for each n of `--n-values`, `--repeats` samples each; (c) an '
           'MLR trained (L-BFGS) on CCM(D, C) with `--sweep-n` per class for each t of '
           '`--t-values`.'),
    notes=('Keys: `D`, `C`, `seed`. params: every flag.'),
)

RATIOS = ("outlier_minibulk", "outlier_bulk", "minibulk_bulk")


def group_ratios(eigenvalues: np.ndarray, D: int, C: int) -> dict[str, float]:
    """Separations of a descending spectrum (DC,) by group means: top C, the next C(C-2), and
    the (D-C)(C-1) after the first C(C-1); NaN for an empty group (C = 2, D = C)."""
    groups = (eigenvalues[:C], eigenvalues[C:C * (C - 1)], eigenvalues[C * (C - 1):D * (C - 1)])
    out, mini, bulk = (float(g.mean()) if g.size else float("nan") for g in groups)
    return {"outlier_minibulk": out / mini, "outlier_bulk": out / bulk,
            "minibulk_bulk": mini / bulk}


def convergence_dataset(D: int, C: int, *, t: float, alpha: float, n_values: list[int],
                        repeats: int, seed: int) -> xr.Dataset:
    """(a): rel_fro_error, eig_error (n, repeat); expected_rel_rms (n,); mc_eigenvalues and
    theory_eigenvalues (eigen,) at the largest n (first repeat)."""
    s = float(t) ** 2
    EG = expected_fim(D, C, alpha, s)
    theory = expected_fim_eigenvalues(D, C, alpha, s)
    norm = float(torch.linalg.norm(EG))
    fro = np.zeros((len(n_values), repeats))
    eig = np.zeros_like(fro)
    last = None
    for i, n in enumerate(n_values):
        for r in range(repeats):
            X, y = sample_ccm(D, C, n, t=t, seed=seed + 1000 * r + i)
            G = monte_carlo_fim(X, y, C, alpha)
            lam = torch.linalg.eigvalsh(G).flip(0)
            fro[i, r] = float(torch.linalg.norm(G - EG)) / norm
            eig[i, r] = float((lam - theory).abs().max() / theory[0])
            if r == 0:
                last = lam
    rms = [np.sqrt(monte_carlo_fim_mse(D, C, n, alpha, s)) / norm for n in n_values]
    return xr.Dataset(
        {"rel_fro_error": (("n", "repeat"), fro), "eig_error": (("n", "repeat"), eig),
         "expected_rel_rms": ("n", np.array(rms)),
         "mc_eigenvalues": ("eigen", last.numpy()), "theory_eigenvalues": ("eigen",
                                                                         theory.numpy())},
        coords={"n": ("n", np.array(n_values))})


def snr_sweep_dataset(D: int, C: int, *, t_values: list[float], n_per_class: int, seed: int,
                      weight_decay: float = 0.0, max_iter: int = 500) -> xr.Dataset:
    """(c): per t: alpha, train_error, test_error and the empirical and theory ratios."""
    rows = []
    for j, t in enumerate(t_values):
        X, y = sample_ccm(D, C, n_per_class, t=t, seed=seed + j)
        Xt, yt = sample_ccm(D, C, n_per_class, t=t, seed=seed + j + 10_000)
        fit = train_mlr(X, y, C, weight_decay=weight_decay, max_iter=max_iter, progress=False)
        probs = mlr_probabilities(fit.W, X)
        alpha = float(1 - probs[torch.arange(y.numel()), y].mean())
        lam = torch.linalg.eigvalsh(fim_dense(X, probs)).flip(0).numpy()
        values, _ = expected_fim_spectrum(D, C, alpha, float(t) ** 2)
        theory = np.repeat(values.numpy(), [C, C * (C - 2), (D - C) * (C - 1), D])
        row = {"alpha": alpha,
               "train_error": float((probs.argmax(-1) != y).double().mean()),
               "test_error": float((mlr_probabilities(fit.W, Xt).argmax(-1) != yt)
                                   .double().mean())}
        row.update(group_ratios(lam, D, C))
        row.update({f"theory_{k}": v for k, v in group_ratios(theory, D, C).items()})
        rows.append(row)
    return xr.Dataset({k: ("t", np.array([r[k] for r in rows])) for k in rows[0]},
                      coords={"t": ("t", np.array(t_values, dtype=float))})


def mlr_study_dataset(D: int, C: int, *, t: float, alpha: float, n_values: list[int],
                      repeats: int, t_values: list[float], sweep_n: int, seed: int,
                      weight_decay: float = 0.0, max_iter: int = 500
                      ) -> tuple[xr.Dataset, dict]:
    """(Dataset, params): the convergence (a) and the SNR sweep (c) in one store."""
    ds = xr.merge([
        convergence_dataset(D, C, t=t, alpha=alpha, n_values=n_values, repeats=repeats,
                            seed=seed),
        snr_sweep_dataset(D, C, t_values=t_values, n_per_class=sweep_n, seed=seed,
                          weight_decay=weight_decay, max_iter=max_iter)])
    params = {"D": D, "C": C, "t": float(t), "alpha": alpha, "n_values": list(n_values),
              "repeats": repeats, "t_values": [float(v) for v in t_values],
              "sweep_n": sweep_n, "seed": seed, "weight_decay": weight_decay,
              "max_iter": max_iter}
    return ds, params
