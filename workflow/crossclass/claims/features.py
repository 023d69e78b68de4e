"""Spectral features of a quantity and the rule that says whether a knockout eliminates one.

Inputs: the top eigenvalues lambda_1 >= lambda_2 >= ... of an operator (the deflated eigenvalues
of a spectrum store, true eigenvalues from subspace iteration, never Ritz values) and, for the
bulk, the Ritz quadrature of the deflated rest. With C classes:

  gap(k)     = lambda_k / lambda_{k+1}  (inf when lambda_k > 0 >= lambda_{k+1}; 0 when
               lambda_k <= 0 or k is beyond the eigenvalues given)
  outliers   present <=> gap(C) >= outlier_gap
  mini-bulk  present <=> max(gap(C(C-1)), gap(C(C-2))) >= minibulk_gap: the C(C-2) mini-bulk
             ends at index C(C-1) under the C outliers, at C(C-2) once they are knocked out
  bulk size  b = mean |lambda| over the deflated rest, sum_m w_m |theta_m| averaged over start
             vectors (the spectrum without its top eigenvalues, in eigenvalue units)
  bulk       present in B relative to A <=> b(B) / b(A) >= bulk_fraction

A knockout B of A eliminates a feature when it is present in A and absent in B. The thresholds
are config (`claims.thresholds`, docs/analysis.md "Claims"); `THRESHOLDS` are the defaults.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

THRESHOLDS = {"outlier_gap": 1.5, "minibulk_gap": 1.5, "bulk_fraction": 0.1}
FEATURES = ("outliers", "mini-bulk", "bulk")


def gap(top: np.ndarray, k: int) -> float:
    """lambda_k / lambda_{k+1} of the descending eigenvalues `top` (1-based k; see module)."""
    top = np.sort(np.asarray(top, dtype=np.float64))[::-1]
    if k < 1 or k >= top.size or top[k - 1] <= 0:
        return 0.0
    return math.inf if top[k] <= 0 else float(top[k - 1] / top[k])


def minibulk_gap(top: np.ndarray, C: int) -> float:
    """max(gap(C(C-1)), gap(C(C-2))): the separation of the mini-bulk from the bulk."""
    return max(gap(top, C * (C - 1)), gap(top, C * (C - 2)))


def bulk_size(ds: xr.Dataset) -> float:
    """Mean |lambda| of the deflated rest of a spectrum store: sum_m w_m |theta_m|."""
    return float((np.abs(ds["ritz_values"]) * ds["ritz_weights"]).sum("ritz")
                 .mean("start_vector"))


def measure(ds: xr.Dataset, C: int) -> dict[str, float]:
    """The three feature metrics of one spectrum store: outlier gap(C) and the mini-bulk gap
    from its deflated (true) eigenvalues, the bulk size; `nan` where the store has too few
    deflated eigenvalues (deflate C2 = C^2 + 1 gives enough)."""
    top = np.sort(ds["top_eigenvalues"].values)[::-1] if "top_eigenvalues" in ds else []
    return {"outliers": gap(top, C) if len(top) > C else math.nan,
            "mini-bulk": minibulk_gap(top, C) if len(top) > C * (C - 1) else math.nan,
            "bulk": bulk_size(ds)}


def present(metrics: dict[str, float], feature: str, reference: dict[str, float],
            thresholds: dict[str, float]) -> bool | None:
    """Whether `feature` is present given the metrics of `measure` (None: not measured).
    The bulk is judged relative to the reference quantity's bulk size."""
    value = metrics[feature]
    if math.isnan(value):
        return None
    if feature == "outliers":
        return value >= thresholds["outlier_gap"]
    if feature == "mini-bulk":
        return value >= thresholds["minibulk_gap"]
    ref = reference["bulk"]
    return ref > 0 and value / ref >= thresholds["bulk_fraction"]


def eliminates(before: dict[str, float], after: dict[str, float], feature: str,
               thresholds: dict[str, float]) -> bool | None:
    """Whether the knockout that turned `before` into `after` eliminates `feature`."""
    was, left = (present(before, feature, before, thresholds),
                 present(after, feature, before, thresholds))
    if was is None or left is None:
        return None
    return was and not left


def power_law_fit(x: np.ndarray, phi: np.ndarray, lo: float, hi: float
                  ) -> tuple[float, float, float]:
    """Least-squares fit of log phi = log a - b log x on the points with lo <= x <= hi and
    phi > 0: (a, b, R^2) of phi = a x^-b (NaNs with fewer than 3 points)."""
    keep = (x >= lo) & (x <= hi) & (phi > 0) & np.isfinite(phi)
    if keep.sum() < 3:
        return math.nan, math.nan, math.nan
    X, Y = np.log(x[keep]), np.log(phi[keep])
    slope, intercept = np.polyfit(X, Y, 1)
    residual = Y - (intercept + slope * X)
    total = float(((Y - Y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else math.nan
    return float(math.exp(intercept)), float(-slope), r2


def signed_densities(ds: xr.Dataset, eps: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(|lambda|, phi_+, phi_-) of a log spectrum store: the densities of the positive and of
    the negative eigenvalues in lambda units, phi(|lambda|) = f(u) / |lambda| at
    u = log(|lambda| + eps) (change of variables; eps is negligible on the plotted range)."""
    x = np.exp(ds["log_lambda"].values) - eps
    scale = np.where(x > 0, 1.0 / np.where(x > 0, x, 1.0), 0.0)
    return x, ds["density_positive"].values * scale, ds["density_negative"].values * scale


def asymmetry(ds: xr.Dataset) -> float:
    """|Tr A| / sum |lambda| from the Ritz quadrature: 0 for a spectrum symmetric about 0,
    1 for a semi-definite one; zero eigenvalues do not count."""
    values, weights = ds["ritz_values"], ds["ritz_weights"]
    first = float((values * weights).sum("ritz").mean("start_vector"))
    absolute = float((np.abs(values) * weights).sum("ritz").mean("start_vector"))
    return abs(first) / absolute if absolute > 0 else math.nan
