"""The network-level claims of sections 5-6 (Figs. 4, 5, 6, 16) judged from stores.

`evaluate(paths, **thresholds) -> (verdicts, eliminations)` reads spectrum stores (keys
dataset, net, n_per_class, epoch, split, operator), means stores and summary stores, groups
them by checkpoint (experiment = "dataset/net/nN/eE/split"; an operator stored under several
settings counts once, with the most deflated eigenvalues) and judges, where the stores exist:

  converged      train error (eval mode) of the checkpoint <= max_train_error   (D.1)
  G features     G has C outliers, a C(C-2) mini-bulk (features.py rules)       (6.1)
  attributions   each knockout of G_class / G_cross / G_within eliminates the C outliers /
                 mini-bulk / bulk of G; of G (hess-minus-G) / E (hess-minus-E) the outliers /
                 bulk of Hess (features.eliminates)                               (5.1, 6.1)
  G_{c=c'}       lambda_max(G_{c=c'}) / lambda_max(G_class) <= same_ratio (means store) (6.1)
  same range     G-project-same is G-project-class: G_class and G_{c=c'} keep as many
                 eigenvalues above the knockouts' rank cut tau = p eps lambda_max(G) (means
                 store; lambda_max(G) the G store's top eigenvalue, else that of
                 G_class + G_cross + G_{c=c'}) (6.1)
  E              |Tr E| / sum |lambda| <= max_asymmetry; power-law fit R^2 >= min_r2 of the
                 positive part on |lambda| in [fit_lo, fit_hi] x lambda_max(E)   (5.1, Fig. 16)
  dynamics       s = log10(mean G_cross eigenvalue / mean G_within eigenvalue), the latter
                 Ave_c (1/N) Tr G_within,c (Fig. 6's red dots): s grows with the epoch at fixed
                 n and shrinks with n at fixed epoch; log10(mean G_class eig. / mean G_within
                 eig.) varies by <= max_class_drift decades                      (6.2, Fig. 6)

Every knockout measured also yields Table-1 `Elimination` rows for all three features.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

import numpy as np
import xarray as xr

from crossclass.analysis.means_store import is_means_store
from crossclass.claims import FAILS, HOLDS, NOT_MEASURED, Elimination, Verdict, judge
from crossclass.claims.features import (
    FEATURES,
    THRESHOLDS,
    asymmetry,
    eliminates,
    measure,
    power_law_fit,
    signed_densities,
)
from crossclass.errors import UserError
from crossclass.stores import read_store, store_params

DEFAULTS = {**THRESHOLDS, "max_train_error": 0.01, "same_ratio": 0.05, "max_asymmetry": 0.2,
            "min_r2": 0.9, "fit_lo": 0.05, "fit_hi": 0.8, "max_class_drift": 1.0}
BASE = {"G": "G", "Hess": "hess"}
# quantity -> component -> the operators that knock it out (subtraction, projection)
KNOCKOUTS = {
    "G": {"G_class": ("G-minus-class", "G-project-class"),
          "G_cross": ("G-minus-cross", "G-project-cross"),
          "G_within": ("G-minus-within",),
          "G_{c=c'}": ("G-minus-same", "G-project-same")},
    "Hess": {"G": ("hess-minus-G",), "E": ("hess-minus-E",)},
}
# the paper's attributions: (quantity, feature) -> component, and where it says so
PAPER = {("G", "outliers"): ("G_class", "6.1"), ("G", "mini-bulk"): ("G_cross", "6.1"),
         ("G", "bulk"): ("G_within", "6.1"), ("Hess", "outliers"): ("G", "5.1"),
         ("Hess", "bulk"): ("E", "5.1")}
SAME_RANGE = "G-project-same is G-project-class (one numerical range)"
FEATURE_TEXT = {"outliers": "C outliers", "mini-bulk": "C(C-2) mini-bulk", "bulk": "bulk"}
METRIC = {"outliers": "lambda_C / lambda_(C+1)",
          "mini-bulk": "max gap at C(C-1), C(C-2)", "bulk": "bulk size / bulk size of "}


def experiment_of(ds: xr.Dataset) -> str:
    """'dataset/net/nN/eE/split' from a store's key coordinates."""
    k = {name: ds[name].item() for name in ("dataset", "net", "n_per_class", "epoch", "split")}
    return f"{k['dataset']}/{k['net']}/n{k['n_per_class']}/e{k['epoch']}/{k['split']}"


def _groups(paths):
    """experiment -> {"spectra": {operator: (ds, params)}, "means": ds, "summary": ds}."""
    groups: dict[str, dict] = defaultdict(lambda: {"spectra": {}})
    for path in paths:
        ds = read_store(path)
        group = groups[experiment_of(ds)]
        if "density" in ds:
            # one operator under several settings: keep the most true eigenvalues
            name, kept = ds["operator"].item(), group["spectra"].get(ds["operator"].item())
            if kept is None or _deflated(ds) > _deflated(kept[0]):
                group["spectra"][name] = (ds, store_params(ds))
        elif is_means_store(ds):
            group["means"] = ds
        elif "error" in ds and "grad_norm" in ds:
            group["summary"] = ds
        else:
            raise UserError(f"{path}: not a spectrum, means or summary store")
    return groups


def _deflated(ds: xr.Dataset) -> int:
    return int(ds.sizes.get("top", 0)) if "top_eigenvalues" in ds else 0


def _classes(group) -> int | None:
    if "means" in group:
        return int(group["means"].sizes["class"])
    for _, params in group["spectra"].values():
        if "num_classes" in params:
            return int(params["num_classes"])
    return None


def _feature_rows(exp, group, C, t):
    verdicts, eliminations = [], []
    spectra = group["spectra"]
    for quantity, base in BASE.items():
        if base not in spectra:
            continue
        before = measure(spectra[base][0], C)
        for feature in ("outliers", "mini-bulk"):
            if (quantity, feature) in PAPER:
                key = "outlier_gap" if feature == "outliers" else "minibulk_gap"
                verdicts.append(judge(f"{quantity} has {FEATURE_TEXT[feature]}",
                                      PAPER[(quantity, feature)][1], exp,
                                      f"{METRIC[feature]} of {quantity}", before[feature],
                                      ">=", t[key]))
        for component, operators in KNOCKOUTS[quantity].items():
            for op in operators:
                if op not in spectra:
                    continue
                after = measure(spectra[op][0], C)
                for feature in FEATURES:
                    gone = eliminates(before, after, feature, t)
                    eliminations.append(Elimination(
                        quantity, feature, component, op, exp,
                        _finite(before[feature]), _finite(after[feature]), gone))
                    if PAPER.get((quantity, feature), (None,))[0] == component:
                        verdicts.append(_attribution(exp, quantity, feature, component, op,
                                                     before, after, t))
    return verdicts, eliminations


def _finite(value):
    return None if value is None or math.isnan(value) else float(value)


def _attribution(exp, quantity, feature, component, op, before, after, t):
    claim = f"{FEATURE_TEXT[feature]} of {quantity} <- {component} (knockout {op})"
    section = PAPER[(quantity, feature)][1]
    if feature == "bulk":
        ratio = after["bulk"] / before["bulk"] if before["bulk"] > 0 else math.nan
        return judge(claim, section, exp, f"{METRIC['bulk']}{quantity}", ratio, "<",
                     t["bulk_fraction"])
    key = "outlier_gap" if feature == "outliers" else "minibulk_gap"
    row = judge(claim, section, exp, f"{METRIC[feature]} after knockout", after[feature], "<",
                t[key])
    if math.isnan(before[feature]):
        row = replace(row, verdict=NOT_MEASURED)  # the quantity's own feature is not measured
    elif row.verdict == HOLDS and not before[feature] >= t[key]:
        row = replace(row, verdict=FAILS)  # nothing to eliminate: the quantity never had it
    return row


def _same_row(exp, means, t):
    same, cls = np.max(means["eig_same"].values), np.max(means["eig_class"].values)
    ratio = float(same / cls) if cls > 0 else math.nan
    return judge("G_{c=c'} is negligible", "6.1", exp,
                 "lambda_max(G_{c=c'}) / lambda_max(G_class)", ratio, "<=", t["same_ratio"])


def _range_row(exp, group):
    """Ranks of G_class and G_{c=c'} above tau = p eps lambda_max(G), the cut of their projection
    knockouts (range_basis): equal ranges in exact arithmetic, unequal ranks when a saturated
    softmax puts the eigenvalues of one part below tau and the other's above
    (docs/curvature.md)."""
    means = group["means"]
    p, G = store_params(means).get("p"), group["spectra"].get("G")
    metric = "difference of the ranks of G_class and G_{c=c'} above tau = p eps lambda_max(G)"
    if p is None:
        return judge(SAME_RANGE, "6.1", exp, metric, None, "<=", 0)
    norm = float(np.max(means["eig_lowrank"].values))
    if G is not None and "top_eigenvalues" in G[0]:
        norm = max(norm, float(G[0]["top_eigenvalues"].max()))
    tau = p * float(np.finfo(np.float64).eps) * norm
    ranks = [int((means[v].values > tau).sum()) for v in ("eig_class", "eig_same")]
    return judge(SAME_RANGE, "6.1", exp, f"{metric} = {tau:.3g} ({ranks[0]}, {ranks[1]})",
                 abs(ranks[0] - ranks[1]), "<=", 0)


def _e_rows(exp, ds, params, t):
    rows = [judge("E is symmetric about 0", "5.1", exp, "|Tr E| / sum |lambda|",
                  asymmetry(ds), "<=", t["max_asymmetry"])]
    if "density_positive" not in ds:
        return rows
    x, positive, _ = signed_densities(ds, float(params.get("eps", 0.0)))
    top = max(abs(float(ds["ritz_values"].max())), abs(float(ds["ritz_values"].min())))
    a, b, r2 = power_law_fit(x, positive, t["fit_lo"] * top, t["fit_hi"] * top)
    rows.append(judge("E has a power-law tail", "Fig. 16", exp,
                      f"R^2 of phi = {a:.3g} |lambda|^{-b:.3g} on |lambda| in "
                      f"[{t['fit_lo']:g}, {t['fit_hi']:g}] lambda_max", r2, ">=", t["min_r2"]))
    return rows


def _dynamics(groups, t):
    """Fig. 6 trends over the (n, epoch) grid of the G stores that have a means store."""
    points = {}
    for group in groups.values():
        if "G" not in group["spectra"] or "means" not in group:
            continue
        ds, means = group["spectra"]["G"][0], group["means"]
        C = int(means.sizes["class"])
        low = np.sort(means["eig_lowrank"].values)[::-1]
        within = float(means["trace_within"].mean()) / float(means["num_examples"])
        if within <= 0:
            continue
        key = (ds["dataset"].item(), ds["net"].item(), ds["split"].item())
        cross, cls = np.mean(low[C:C * (C - 1)]), np.mean(low[:C])
        points.setdefault(key, {})[(int(ds["n_per_class"]), int(ds["epoch"]))] = (
            math.log10(cross / within) if cross > 0 else math.nan,
            math.log10(cls / within) if cls > 0 else math.nan)
    rows = []
    for (dataset, net, split), grid in points.items():
        ns, epochs = sorted({n for n, _ in grid}), sorted({e for _, e in grid})
        where = f"{dataset}/{net}/{split}"
        for n in ns:
            if (n, epochs[0]) in grid and (n, epochs[-1]) in grid and len(epochs) > 1:
                change = grid[(n, epochs[-1])][0] - grid[(n, epochs[0])][0]
                rows.append(judge("G_cross and G_within bulks separate with training", "6.2",
                                  f"{where}/n{n}", f"s(e{epochs[-1]}) - s(e{epochs[0]}) "
                                  "(decades)", change, ">", 0.0))
        for e in epochs:
            if (ns[0], e) in grid and (ns[-1], e) in grid and len(ns) > 1:
                change = grid[(ns[-1], e)][0] - grid[(ns[0], e)][0]
                rows.append(judge("G_cross and G_within bulks merge with sample size", "6.2",
                                  f"{where}/e{e}", f"s(n{ns[-1]}) - s(n{ns[0]}) (decades)",
                                  change, "<", 0.0))
        drift = [v[1] for v in grid.values()]
        if len(drift) > 1:
            spread = (math.nan if any(math.isnan(d) for d in drift)
                      else max(drift) - min(drift))
            rows.append(judge("G_class to G_within distance stable over epochs and n", "6.2",
                              where, "max - min of log10(G_class / G_within mean eig.)",
                              spread, "<=", t["max_class_drift"]))
    return rows


def evaluate(paths: list[str], **thresholds: float) -> tuple[list[Verdict], list[Elimination]]:
    """Every network claim measurable from the stores `paths` (see module docstring)."""
    unknown = sorted(set(thresholds) - set(DEFAULTS))
    if unknown:
        raise UserError(f"network claims take no threshold {unknown[0]!r}; "
                        f"known: {', '.join(DEFAULTS)}")
    t = {**DEFAULTS, **{k: float(v) for k, v in thresholds.items()}}
    groups = _groups(paths)
    verdicts, eliminations = [], []
    for exp, group in sorted(groups.items()):
        if exp.endswith("/train") and "train_error" in group.get("summary", {}):
            verdicts.append(judge("the network is trained to ~zero train error", "D.1", exp,
                                  "train error (eval mode)",
                                  float(group["summary"]["train_error"]), "<=",
                                  t["max_train_error"]))
        C = _classes(group)
        if C is None:
            continue
        rows, elim = _feature_rows(exp, group, C, t)
        verdicts += rows
        eliminations += elim
        if "means" in group:
            verdicts += [_same_row(exp, group["means"], t), _range_row(exp, group)]
        if "E" in group["spectra"]:
            verdicts += _e_rows(exp, *group["spectra"]["E"], t)
    verdicts += _dynamics(groups, t)
    return verdicts, eliminations
