"""Every section-7 claim rule (claims.layerwise) on planted layers stores: for each a case where
it holds, one where it fails and one where it is not measured, asserting the verdict and the
value, the value computed here from the planted numbers by the formulas of docs/layerwise.md.

The stores go through the writers of a real run: `layerwise.layer_dataset` of a LayerAnalysis
(planted moments), `analysis.layers_dataset`, `stores.write_store`. Every matrix is diagonal,
and so is every knocked-out part B, so A ⊯ B is A with B's coordinates zeroed: the knockout's
spectrum is the planted diagonal without those coordinates. The structure is varied one part
at a time: H's outliers, H_class's coordinates, the global mean, Delta's class and cross parts,
W_class's coordinates and the KFAC / CFAC errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from crossclass.analysis import layers_dataset
from crossclass.claims import FAILS, HOLDS, NOT_MEASURED
from crossclass.claims.layerwise import CLAIMS, KNOCKOUTS, evaluate, verdicts
from crossclass.collapse import CollapseMetrics
from crossclass.layerwise.analysis import LayerAnalysis, layer_dataset
from crossclass.layerwise.deltas import ErrorStats
from crossclass.layerwise.features import FeatureStats
from crossclass.layerwise.khatri_rao import KhatriRaoQuality
from crossclass.layerwise.weights import WeightStats
from crossclass.stores import write_store

C, D = 3, 12
KEYS = dict(dataset="toy", net="mlp", n_per_class=5, epoch=1, split="train")
EXP = "toy/mlp/n5/e1/train"
H_BULK = np.linspace(1.0, 0.92, D - C)            # gentle: barely moves when shifted C places
STEEP = np.geomspace(10.0, 0.01, D - C)            # steep: moves a lot when shifted C places
DELTA_BULK = np.linspace(0.3, 0.25, D - 2 * C)
W_BULK = np.linspace(1.0, 0.92, D - C)


def on(values, coords) -> np.ndarray:
    """diag with `values` at `coords` and 0 elsewhere (D x D)."""
    out = np.zeros(D)
    out[list(coords)] = values
    return np.diag(out)


def t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def layer(name="1", *, o3=20.0, H=None, H_class=None, mean_coord=0, Delta=None,
          Delta_class=None, Delta_cross=None, W=None, W_class=None, weights=True, kfac=0.5,
          cfac=0.1):
    """One layer's Dataset through layer_dataset. Defaults: everything structured, H =
    diag(100, 50, o3, H_BULK) with H_class = its top 3, the global mean along coordinate
    `mean_coord` (0: H's top direction), Delta = diag(60, 50, 40, 6, 5, 4, DELTA_BULK) with
    Delta_class = its top 3 and Delta_cross the next 3, W = diag(30, 20, 10, W_BULK) with
    W_class = its top 3."""
    H = np.diag([100, 50, o3, *H_BULK]) if H is None else H
    H_class = on([100, 50, o3], [0, 1, 2]) if H_class is None else H_class
    h_c = np.tile(10 * np.eye(D)[mean_coord], (C, 1))
    Delta = np.diag([60, 50, 40, 6, 5, 4, *DELTA_BULK]) if Delta is None else Delta
    Dc = on([60, 50, 40], [0, 1, 2]) if Delta_class is None else Delta_class
    Dx = on([6, 5, 4], [3, 4, 5]) if Delta_cross is None else Delta_cross
    W = np.diag([30, 20, 10, *W_BULK]) if W is None else W
    W_class = on([30, 20, 10], [0, 1, 2]) if W_class is None else W_class
    z = lambda *shape: torch.zeros(*shape, dtype=torch.float64)  # noqa: E731
    features = FeatureStats(H=t(H), means=t(h_c), H_class=t(H_class),
                            H_within=t(H - H_class), H_c=z(C, D, D))
    errors = ErrorStats(Delta=t(Delta), w_cc=z(C, C), delta_cc=z(C, C, D), w_c=z(C),
                        delta_c=z(C, D), Delta_class=t(Dc), Delta_cross=t(Dx),
                        Delta_within=z(D, D), Delta_same=z(D, D), Delta_c=z(C, D, D))
    w = WeightStats(W=t(W), W_stat=t(W), W_class=t(W_class), W_within=t(W - W_class),
                    residual=z(D, D), grad_norm=torch.tensor(0.0), b=None, b_stat=None,
                    b_residual=None) if weights else None
    return layer_dataset(LayerAnalysis(
        name=name, features=features, errors=errors, weights=w,
        khatri_rao=KhatriRaoQuality(z(C), z(C), z(C, C), z(C, C)),
        collapse=CollapseMetrics(*(torch.tensor(0.0) for _ in range(6))),
        kfac_eigenvalues=z(D * D), kfac_rel_err=kfac, cfac_rel_err=cfac))


def rows_of(tmp_path, layers, name="store", **thresholds):
    path = write_store(layers_dataset(layers), tmp_path / f"{name}.zarr", keys=KEYS)
    return verdicts([path], **thresholds)


def row(rows, key, layer_name=None):
    """The one row of claim `key` (on layer `layer_name`, named in its metric)."""
    found = [v for v in rows if v.claim == CLAIMS[key][0]
             and (layer_name is None or f" ({layer_name}): " in v.metric)]
    assert len(found) == 1, found
    return found[0]


def survives(A, K, k):
    """The share of A's top-k log-height over lambda_{k+1}(A) left in K (docs/layerwise.md)."""
    A, K = np.sort(A)[::-1], np.sort(K)[::-1]
    return math.log(K[0] / A[k]) / math.log(A[0] / A[k])


def without(diagonal, coords):
    """The spectrum of diag(diagonal) ⊯ (a diagonal part on `coords`)."""
    return np.delete(np.asarray(diagonal, dtype=float), list(coords))


H_DIAG = np.r_[100, 50, 20, H_BULK]
DELTA_DIAG = np.r_[60, 50, 40, 6, 5, 4, DELTA_BULK]
W_DIAG = np.r_[30, 20, 10, W_BULK]
NAN = math.nan


def shift(A, K, k):
    """The bulk shift (docs/layerwise.md) over the positive eigenvalues of A and K."""
    A = np.sort(A)[::-1]
    K = np.sort(K[K > 0])[::-1]
    m = min(A.size, K.size)
    return float(np.median(np.abs(np.log(K[k:m]) - np.log(A[k:m]))) / math.log(A[0] / A[m - 1]))


STEEP_DIAG = np.r_[100, 50, 20, STEEP]
# (claim, case, layer overrides, verdict, value from the planted numbers)
CASES = [
    ("H-outliers", "H_class on H's outliers", {}, HOLDS,
     survives(H_DIAG, without(H_DIAG, [0, 1, 2]), C)),
    ("H-outliers", "H_class on H's top direction only",
     dict(H_class=on([100], [0])), FAILS, survives(H_DIAG, without(H_DIAG, [0]), C)),
    ("H-outliers", "H flat: no outlier above the bulk",
     dict(H=np.eye(D), H_class=on([1, 1, 1], [0, 1, 2])), NOT_MEASURED, NAN),
    ("H-bulk", "gentle bulk, H_class on the outliers", {}, HOLDS,
     shift(H_DIAG, without(H_DIAG, [0, 1, 2]), C)),
    ("H-bulk", "steep bulk: shifted C places it moves",
     dict(H=np.diag(STEEP_DIAG)), FAILS, shift(STEEP_DIAG, without(STEEP_DIAG, [0, 1, 2]), C)),
    ("H-bulk", "H of rank C + 1: no bulk beyond the outliers",
     dict(H=on([100, 50, 20, 1], range(4))), NOT_MEASURED, NAN),
    ("H-top", "global mean along H's top direction", {}, HOLDS,
     survives(H_DIAG, without(H_DIAG, [0]), 1)),
    ("H-top", "global mean along a bulk direction", dict(mean_coord=D - 1), FAILS,
     survives(H_DIAG, without(H_DIAG, [D - 1]), 1)),
    ("H-top", "lambda_1 = lambda_2: no top outlier",
     dict(H=np.diag(np.r_[100, 100, 20, H_BULK]), H_class=on([100, 100, 20], [0, 1, 2])),
     NOT_MEASURED, NAN),
    ("Delta-outliers", "Delta_class on Delta's outliers", {}, HOLDS,
     survives(DELTA_DIAG, without(DELTA_DIAG, [0, 1, 2]), C)),
    ("Delta-outliers", "Delta_class on the cross-class directions",
     dict(Delta_class=on([6, 5, 4], [3, 4, 5])), FAILS,
     survives(DELTA_DIAG, without(DELTA_DIAG, [3, 4, 5]), C)),
    ("Delta-outliers", "Delta flat: no outlier above the bulk",
     dict(Delta=np.eye(D), Delta_class=on([1, 1, 1], [0, 1, 2]),
          Delta_cross=on([1, 1, 1], [3, 4, 5])), NOT_MEASURED, NAN),
    ("Delta-cross", "Delta_cross on the next C(C-2) outliers", {}, HOLDS,
     survives(without(DELTA_DIAG, [0, 1, 2]), without(DELTA_DIAG, range(6)), C * (C - 2))),
    ("Delta-cross", "Delta_cross on bulk directions",
     dict(Delta_cross=on([0.3, 0.29, 0.28], [6, 7, 8])), FAILS,
     survives(without(DELTA_DIAG, [0, 1, 2]), without(DELTA_DIAG, [0, 1, 2, 6, 7, 8]),
              C * (C - 2))),
    ("Delta-cross", "Delta = Delta_class + Delta_cross: nothing beyond the C(C-2)",
     dict(Delta=on([60, 50, 40, 6, 5, 4], range(6))), NOT_MEASURED, NAN),
    ("CFAC", "CFAC's error a fifth of KFAC's", {}, HOLDS, 0.1 / 0.5),
    ("CFAC", "CFAC's error five times KFAC's", dict(kfac=0.1, cfac=0.5), FAILS, 0.5 / 0.1),
    ("CFAC", "KFAC's error not computed (NaN)", dict(kfac=NAN), NOT_MEASURED, None),
    ("W-outliers", "W_class on W's outliers", {}, HOLDS,
     survives(W_DIAG, without(W_DIAG, [0, 1, 2]), C)),
    ("W-outliers", "W_class on bulk directions",
     dict(W_class=on([1.0, 0.99, 0.98], [3, 4, 5])), FAILS,
     survives(W_DIAG, without(W_DIAG, [3, 4, 5]), C)),
    ("W-outliers", "no weights in the store (weight decay unknown)", dict(weights=False),
     NOT_MEASURED, None),
]


@pytest.mark.parametrize(("key", "case", "overrides", "verdict", "value"), CASES,
                         ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_layer_rule(tmp_path, key, case, overrides, verdict, value):
    """The layer's row of the claim: its verdict, and its value from the planted numbers;
    the other layers of the store are the structured default."""
    rows = rows_of(tmp_path, [layer("1", **overrides), layer("4"), layer("7")])
    got = row(rows, key, "1")
    assert got.verdict == verdict, got
    if value is None:
        assert got.value is None
    elif math.isnan(value):
        assert math.isnan(got.value)
    else:
        assert got.value == pytest.approx(value, rel=1e-9, abs=1e-12)
    # the untouched layers still hold: the verdict is this layer's, not the store's
    assert all(row(rows, key, name).verdict == HOLDS for name in ("4", "7"))


def test_a_rule_that_always_held_would_fail_these_cases():
    """The case table exercises both outcomes of every per-layer claim and a NaN for each."""
    per_layer = {k for k in CLAIMS if k not in ("H-separation", "H-whitening")}
    for key in per_layer:
        assert {c[3] for c in CASES if c[0] == key} == {HOLDS, FAILS, NOT_MEASURED}, key


def spearman(values):
    """Spearman's rank correlation with depth for distinct values: 1 - 6 sum d^2 / (n(n^2-1))."""
    n = len(values)
    rank = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: values[i]))}
    return 1 - 6 * sum((rank[i] - i) ** 2 for i in range(n)) / (n * (n * n - 1))


# the third outlier of H (= lambda_C(H_class)) per layer: the gap log(o3 / lambda_C+1) follows
# o3, the spread lambda_2 / lambda_C of H_class = 50 / o3 the reverse
DEPTH_CASES = [
    ("separating and whitening", [5.0, 20.0, 10.0, 40.0], HOLDS),
    ("merging and spreading", [40.0, 5.0, 20.0, 10.0], FAILS),
]


@pytest.mark.parametrize(("case", "o3", "verdict"), DEPTH_CASES, ids=[c[0] for c in DEPTH_CASES])
def test_depth_trends(tmp_path, case, o3, verdict):
    rows = rows_of(tmp_path, [layer(str(i), o3=v) for i, v in enumerate(o3)])
    separation = row(rows, "H-separation")
    gaps = [math.log(v / H_BULK[0]) for v in o3]
    assert separation.value == pytest.approx(spearman(gaps))
    assert separation.verdict == verdict
    whitening = row(rows, "H-whitening")
    assert whitening.value == pytest.approx(spearman([50 / v for v in o3]))
    assert whitening.verdict == verdict
    # the planted values are off the thresholds' boundaries, on either side
    assert abs(separation.value) == pytest.approx(0.8 if verdict == HOLDS else 0.4)


@pytest.mark.parametrize("case", ["two layers", "equal across layers", "undefined in a layer"])
def test_depth_trends_not_measured(tmp_path, case):
    """Fewer than 3 layers; a trend with no variation; a layer where the value is undefined
    (lambda_C of H_class = 0, lambda_C+1 of H = 0) leaves 2 defined ones."""
    if case == "two layers":
        layers = [layer("1", o3=5.0), layer("2", o3=40.0)]
    elif case == "equal across layers":
        layers = [layer(str(i), o3=20.0) for i in range(3)]
    else:
        flat = layer("1", H=on([100, 50, 20], range(3)), H_class=on([100, 50], [0, 1]))
        layers = [flat, layer("2", o3=5.0), layer("3", o3=40.0)]
    rows = rows_of(tmp_path, layers)
    for key in ("H-separation", "H-whitening"):
        got = row(rows, key)
        assert got.verdict == NOT_MEASURED and math.isnan(got.value), got


def test_thresholds_move_the_verdicts(tmp_path):
    """The thresholds are read: a planted surviving fraction of 0.85 holds at 0.9 and fails at
    0.8; the CFAC ratio 0.2 fails below 0.2."""
    value = survives(H_DIAG, without(H_DIAG, [0]), C)
    layers = [layer("1", H_class=on([100], [0])), layer("4"), layer("7")]
    assert 0.8 < value < 0.9
    loose = row(rows_of(tmp_path, layers, "a", outlier_survival_max=0.9), "H-outliers", "1")
    strict = row(rows_of(tmp_path, layers, "b", outlier_survival_max=0.8), "H-outliers", "1")
    assert (loose.verdict, strict.verdict) == (HOLDS, FAILS)
    assert loose.rule == "<= 0.9" and strict.rule == "<= 0.8"
    cfac = row(rows_of(tmp_path, layers, "c", cfac_ratio_max=0.2), "CFAC", "1")
    assert cfac.verdict == FAILS and cfac.value == pytest.approx(0.2)


def test_eliminations_follow_the_verdicts(tmp_path):
    """evaluate's Table-1 rows: eliminated where the attribution holds, not where it fails,
    None where it is not measured; `after` is the verdict's value."""
    path = write_store(layers_dataset([layer("1", H_class=on([100], [0]), weights=False),
                                       layer("4")]), tmp_path / "e.zarr", keys=KEYS)
    rows, eliminations = evaluate([str(path)])
    by = {(e.component, e.experiment.split(": ")[0].removeprefix(f"{EXP} ")): e
          for e in eliminations}
    assert by[("H_class", "layer 1 (1)")].eliminated is False
    assert by[("H_class", "layer 2 (4)")].eliminated is True
    assert by[("W_class", "layer 1 (1)")].eliminated is None
    assert by[("H_class", "layer 1 (1)")].after == pytest.approx(
        survives(H_DIAG, without(H_DIAG, [0]), C))
    attributions = [v for v in rows if v.claim in {CLAIMS[k][0] for k in KNOCKOUTS}]
    assert [e.after for e in eliminations] == [v.value for v in attributions]
