"""Theorem 8.1 against the empirical spectrum of multinomial logistic regression on CCM data.

CCM(D, C): x_{i,c} = t e_c + z, z ~ N(0, I_D), n per class (crossclass.mlr.sample_ccm). G is the
FIM of f(x) = W x, Ave_n (x x^T) (x) U_n with U_n = diag(p_n) - p_n p_n^T (DC x DC, dense).
Probabilities p_n: mode "symmetric" (alpha given) uses Definition 8.2, whose expectation is the
theorem's E G exactly; mode "trained" fits W by L-BFGS and uses its softmax, with
alpha = 1 - Ave_n p_{n,y_n} (the theorem is then an approximation). The closed form has four
groups (outliers x C, mini-bulk x C(C-2), bulk x (D-C)(C-1), zero x D), s = t^2.
"""

from __future__ import annotations

import torch
import xarray as xr

from crossclass.errors import UserError
from crossclass.mlr import (
    expected_fim_eigenvalues,
    expected_fim_spectrum,
    fim_dense,
    mlr_probabilities,
    sample_ccm,
    symmetric_probabilities,
    train_mlr,
)
from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('empirical_eigenvalues',), '(eigen,)',
         'eigenvalues of the sampled G (DC x DC, dense), descending'),
        (('theory_eigenvalues',), '(eigen,)',
         'Theorem 8.1 eigenvalues with multiplicities, descending'),
        (('theory_values', 'theory_multiplicities'), '(group,)',
         'the four groups (outliers, mini-bulk, bulk, zero)'),
    ),
    notes=('Keys: `D`, `C`, `n_per_class`, `seed`. params: `D, C, t, alpha` (given, or measured '
           'as 1 - Ave p_{i,c,c} of the trained MLR), `mode` (`symmetric` with --alpha: the '
           'probabilities of Definition 8.2; `trained`: an L-BFGS MLR), `n_per_class, seed`.'),
)

MAX_DIM = 8192  # dense eigh of the DC x DC FIM
GROUPS = ("outliers", "mini-bulk", "bulk", "zero")


def mlr_spectrum_dataset(D: int, C: int, *, t: float, n_per_class: int, seed: int,
                         alpha: float | None = None, weight_decay: float = 0.0,
                         max_iter: int = 500, progress: bool = True) -> tuple[xr.Dataset, dict]:
    """(Dataset, params): empirical_eigenvalues and theory_eigenvalues (eigen,) descending,
    theory_values and theory_multiplicities (group,)."""
    if D * C > MAX_DIM:
        raise UserError(f"D C = {D * C} exceeds {MAX_DIM}: the MLR spectrum is computed densely")
    X, y = sample_ccm(D, C, n_per_class, t=t, seed=seed)
    if alpha is None:
        fit = train_mlr(X, y, C, weight_decay=weight_decay, max_iter=max_iter, progress=progress)
        probs = mlr_probabilities(fit.W, X)
        alpha = float(1 - probs[torch.arange(y.numel()), y].mean())
        mode, extra = "trained", {"train_loss": float(fit.loss), "grad_norm": float(fit.grad_norm)}
    else:
        probs = symmetric_probabilities(C, alpha)[y]
        mode, extra = "symmetric", {}
    empirical = torch.linalg.eigvalsh(fim_dense(X, probs)).flip(0)
    s = float(t) ** 2
    values, mults = expected_fim_spectrum(D, C, alpha, s)
    ds = xr.Dataset(
        {"empirical_eigenvalues": ("eigen", empirical.numpy()),
         "theory_eigenvalues": ("eigen", expected_fim_eigenvalues(D, C, alpha, s).numpy()),
         "theory_values": ("group", values.numpy()),
         "theory_multiplicities": ("group", mults.numpy())},
        coords={"group": ("group", list(GROUPS))})
    params = {"D": D, "C": C, "t": float(t), "s": s, "alpha": alpha, "mode": mode,
              "n_per_class": n_per_class, "seed": seed, "weight_decay": weight_decay,
              "max_iter": max_iter, **extra}
    return ds, params
