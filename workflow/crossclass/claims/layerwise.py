"""Section 7's claims judged from layers stores (one Verdict per claim, layer and experiment).

Metrics (spectra descending; `analysis.knockouts` for the matrices and knockouts):
  surviving_fraction(A, K, k) = log(lambda_1(K) / lambda_{k+1}(A)) / log(lambda_1(A) /
      lambda_{k+1}(A)): the share of the top-k outliers' log-height above A's bulk edge that a
      knockout K = A ⊯ B leaves (0: eliminated down to the bulk edge, by Cauchy interlacing the
      least possible since lambda_1(K) >= lambda_{k+1}(A) for a rank-k B; 1: untouched);
  bulk_shift(A, K, k, top) = median_{k < i <= top} |log lambda_i(K) - log lambda_i(A)| /
      (log lambda_1(A) - log lambda_top(A)): how far the bulk moves, in units of the figure's
      normalised log axis (0: on the identity line);
  depth_trend(values) = Spearman rank correlation of a per-layer value with depth (over the
      layers where it is defined).
Claims (defaults of `verdicts`' thresholds in brackets; docs/layerwise.md):
  7.5  H outliers <- H_class             surviving_fraction(H, H ⊯ H_class, C) <= [0.5]
  7.5  H bulk <- H_within                bulk_shift(H, H ⊯ H_class, C, top) <= [0.1]
  7.5  top H outlier <- global mean      surviving_fraction(H, H ⊯ h_G h_G^T, 1) <= [0.5]
  7.6  outliers separate with depth      depth_trend(log lambda_C(H) / lambda_{C+1}(H)) >= [0.5]
  7.6  H_class whitens with depth        depth_trend(lambda_2 / lambda_C of H_class) <= [-0.5]
  7.8  Delta outliers <- Delta_class     surviving_fraction(Delta, Delta ⊯ Delta_class, C) <= [0.5]
  7.8  C(C-2) outliers <- Delta_cross    surviving_fraction(Delta ⊯ Delta_class,
                                           Delta ⊯ (Delta_class + Delta_cross), C(C-2)) <= [0.5]
  7.11 CFAC closer to G^l than KFAC      cfac_rel_err / kfac_rel_err < [1]
  7.13 W outliers <- W_class             surviving_fraction(sigma(W), sigma(W ⊯ W_class), C)
                                           <= [0.5]
A metric that cannot be formed (too few eigenvalues, no outlier above the bulk, fewer than
three layers, a store without weights) is NaN and its verdict "not measured".
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from crossclass.analysis import layer_names, read_layer
from crossclass.analysis.knockouts import error_spectra, feature_spectra, weight_spectra
from crossclass.claims import HOLDS, NOT_MEASURED, Elimination, Verdict, judge
from crossclass.stores import read_store

ZERO = 1e-12  # relative round-off level of a zero eigenvalue

# claim key -> (statement, section, quantity, spectral feature, eliminating component, figure)
CLAIMS = {
    "H-outliers": ("the C outliers of H^l are attributable to H_class", "7.5", "H^l",
                   "C outliers", "H_class", "fig7"),
    "H-bulk": ("the bulk of H^l is attributable to H_within (unmoved by knocking out H_class)",
               "7.5", "H^l", "bulk", "H_within", "fig7"),
    "H-top": ("the top outlier of H^l is attributable to the global mean h_G", "7.5", "H^l",
              "top outlier", "h_G h_G^T", "fig7"),
    "H-separation": ("the C outliers of H^l separate from the bulk with depth", "7.6", "H^l",
                     "outlier-bulk gap grows with depth", "H_class", "fig8"),
    "H-whitening": ("H_class whitens with depth (lambda_2 / lambda_C falls)", "7.6", "H^l",
                    "H_class eigenvalue spread shrinks", "H_class", "fig8"),
    "Delta-outliers": ("the C outliers of Delta^l are attributable to Delta_class", "7.8",
                       "Delta^l", "C outliers", "Delta_class", "fig9a"),
    "Delta-cross": ("the next C(C-2) outliers of Delta^l are attributable to Delta_cross", "7.8",
                    "Delta^l", "C(C-2) outliers", "Delta_cross", "fig9b"),
    "CFAC": ("CFAC^l is closer to G^l than KFAC^l", "7.11", "G^l", "outliers and mini-bulk",
             "CFAC (not KFAC)", "fig12"),
    "W-outliers": ("the C outliers of W^l are attributable to W_class", "7.13", "W^l",
                   "C outliers", "W_class", "fig13"),
}


def _positive(values: np.ndarray) -> np.ndarray:
    return values[values > ZERO * max(float(values[0]), 0.0)] if values.size else values


def surviving_fraction(A: np.ndarray, K: np.ndarray, k: int) -> float:
    """Share of the top-k outliers' log-height (over lambda_{k+1}(A)) that survives in K."""
    A = _positive(A)
    if k < 1 or A.size <= k or K.size == 0 or not A[0] > A[k] or not K[0] > 0:
        return float("nan")
    return float(np.log(K[0] / A[k]) / np.log(A[0] / A[k]))


def bulk_shift(A: np.ndarray, K: np.ndarray, k: int, top: int) -> float:
    """Median |log lambda_i(K) - log lambda_i(A)| over k < i <= top, in units of A's log range."""
    m = min(top, _positive(A).size, _positive(K).size)
    if m <= k + 1:
        return float("nan")
    spread = np.log(A[0] / A[m - 1])
    return float(np.median(np.abs(np.log(K[k:m]) - np.log(A[k:m]))) / spread)


def depth_trend(values: list[float]) -> float:
    """Spearman rank correlation of `values` (in layer order) with depth, over the layers where
    the value is defined (not NaN, e.g. lambda_{C+1} of a layer with d <= C); NaN below 3."""
    v = np.asarray(values, dtype=float)
    depth = np.flatnonzero(~np.isnan(v))
    v = v[depth]
    if v.size < 3 or np.ptp(v) == 0:
        return float("nan")
    ranks = np.argsort(np.argsort(v))
    return float(np.corrcoef(np.argsort(np.argsort(depth)), ranks)[0, 1])


def experiment_key(ds: xr.Dataset) -> str:
    """'dataset/net/n{n}/e{epoch}/{split}' from a store's key coordinates."""
    k = {n: ds[n].item() for n in ("dataset", "net", "n_per_class", "epoch", "split")
         if n in ds.coords}
    return (f"{k.get('dataset', '?')}/{k.get('net', '?')}/n{k.get('n_per_class', '?')}/"
            f"e{k.get('epoch', '?')}/{k.get('split', '?')}")


def _ratio(values: np.ndarray, i: int, j: int) -> float:
    """values[i] / values[j] (0-based) or NaN when out of range or not positive."""
    if values.size <= max(i, j) or not values[j] > 0:
        return float("nan")
    return float(values[i] / values[j])


def store_verdicts(ds: xr.Dataset, *, outlier_survival_max: float = 0.5,
                   bulk_shift_max: float = 0.1, depth_trend_min: float = 0.5,
                   cfac_ratio_max: float = 1.0, top: int = 750) -> list[Verdict]:
    """The section-7 verdicts of one layers store (thresholds as in `verdicts`)."""
    exp, rows = experiment_key(ds), []
    C = ds.sizes["class"]

    def add(key, metric, value, comparison, threshold):
        rows.append(judge(CLAIMS[key][0], CLAIMS[key][1], exp, metric, value, comparison,
                          threshold))

    names = layer_names(ds)
    separation, whitening = [], []
    for depth, name in enumerate(names, start=1):
        lay = read_layer(ds, name)
        where = f"layer {depth} ({name})"
        f, e = feature_spectra(lay), error_spectra(lay)
        add("H-outliers", f"{where}: surviving outlier fraction",
            surviving_fraction(f["H"], f["H-minus-class"], C), "<=", outlier_survival_max)
        add("H-bulk", f"{where}: bulk shift", bulk_shift(f["H"], f["H-minus-class"], C, top),
            "<=", bulk_shift_max)
        add("H-top", f"{where}: surviving top-outlier fraction",
            surviving_fraction(f["H"], f["H-minus-mean"], 1), "<=", outlier_survival_max)
        add("Delta-outliers", f"{where}: surviving outlier fraction",
            surviving_fraction(e["Delta"], e["Delta-minus-class"], C), "<=",
            outlier_survival_max)
        add("Delta-cross", f"{where}: surviving C(C-2)-outlier fraction",
            surviving_fraction(e["Delta-minus-class"], e["Delta-minus-class+cross"],
                               C * (C - 2)), "<=", outlier_survival_max)
        kfac, cfac = (float(ds[v].sel(layer=name)) if v in ds else float("nan")
                      for v in ("kfac_rel_err", "cfac_rel_err"))
        add("CFAC", f"{where}: ||G-CFAC|| / ||G-KFAC||", cfac / kfac if kfac > 0 else None,
            "<", cfac_ratio_max)
        w = None
        if "W" in lay:
            s = weight_spectra(lay)
            w = surviving_fraction(s["W"], s["W-minus-class"], C)
        add("W-outliers", f"{where}: surviving outlier fraction", w, "<=",
            outlier_survival_max)
        separation.append(np.log(_ratio(f["H"], C - 1, C)))
        whitening.append(_ratio(f["H_class"], 1, C - 1))
    add("H-separation", "Spearman(depth, log lambda_C(H) / lambda_C+1(H))",
        depth_trend(separation), ">=", depth_trend_min)
    add("H-whitening", "Spearman(depth, lambda_2 / lambda_C of H_class)",
        depth_trend(whitening), "<=", -depth_trend_min)
    return rows


def verdicts(stores: list[str], **thresholds) -> list[Verdict]:
    """Section-7 verdicts of layers stores (paths); thresholds: outlier_survival_max (0.5),
    bulk_shift_max (0.1), depth_trend_min (0.5), cfac_ratio_max (1.0), top (750)."""
    return [v for path in stores for v in store_verdicts(read_store(path), **thresholds)]


def table_rows(rows: list[Verdict]) -> list[tuple[str, str, str, str]]:
    """Table 1 rows (quantity, spectral feature, eliminating component, evidence) of the
    section-7 claims, evidence 'figN: holds in h of m measured (layer, experiment) cases'."""
    out = []
    for statement, _section, quantity, feature, component, figure in CLAIMS.values():
        mine = [v for v in rows if v.claim == statement]
        measured = [v for v in mine if v.verdict != NOT_MEASURED]
        held = sum(v.verdict == HOLDS for v in measured)
        out.append((quantity, feature, component,
                    f"{figure}: holds in {held} of {len(measured)} measured cases"))
    return out


# the claims that attribute a feature to a knockout: Table 1 rows (quantity, feature, component)
KNOCKOUTS = {"H-outliers": "H-minus-class", "H-bulk": "H-minus-class", "H-top": "H-minus-mean",
             "Delta-outliers": "Delta-minus-class", "Delta-cross": "Delta-minus-class+cross",
             "W-outliers": "W-minus-class"}


def evaluate(paths: list[str], **thresholds: float) -> tuple[list[Verdict], list[Elimination]]:
    """The claim-module interface (crossclass claims layerwise): the verdicts of `verdicts`
    and, per attribution claim and layer, its Elimination row (after = the metric, eliminated
    when the verdict holds)."""
    if "top" in thresholds:
        thresholds["top"] = int(thresholds["top"])
    rows = verdicts(paths, **thresholds)
    eliminations = []
    by_statement = {CLAIMS[k][0]: k for k in KNOCKOUTS}
    for v in rows:
        key = by_statement.get(v.claim)
        if key is None:
            continue
        _, _, quantity, feature, component, _ = CLAIMS[key]
        eliminations.append(Elimination(
            quantity, feature, component, KNOCKOUTS[key], f"{v.experiment} {v.metric}", None,
            v.value, None if v.verdict == NOT_MEASURED else v.verdict == HOLDS))
    return rows, eliminations
