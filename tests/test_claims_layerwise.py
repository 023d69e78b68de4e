"""Section-7 claims on constructed layers stores with known answers: diagonal second moments
whose outliers are exactly the class (or cross-class) parts, or unrelated to them."""

import math

import numpy as np
import pytest
import xarray as xr
from crossclass.analysis import layers_dataset
from crossclass.claims import FAILS, HOLDS, NOT_MEASURED
from crossclass.claims.layerwise import (
    CLAIMS,
    bulk_shift,
    depth_trend,
    store_verdicts,
    surviving_fraction,
    table_rows,
    verdicts,
)
from crossclass.stores import read_store, write_store

C, D = 3, 8
KEYS = dict(dataset="toy", net="mlp", n_per_class=5, epoch=1, split="train")


def diag(*values):
    return np.diag(np.r_[values, np.zeros(D - len(values))])


def layer(name, scale, w, *, aligned=True, kfac=0.5, cfac=0.1):
    """H_class = scale diag(1, w, w^2) (lambda_2 / lambda_C = 1 / w), H = H_class + 0.01 I; when
    not aligned H's outliers sit on other coordinates than H_class's."""
    H_class = diag(scale, scale * w, scale * w * w)
    H = H_class + 0.01 * np.eye(D)
    if not aligned:
        H = np.diag([0.01] * 3 + [100, 50, 20] + [0.01] * 2) + H_class * 1e-3
    h_c = np.tile(np.sqrt(scale) * np.eye(D)[0], (C, 1))  # global mean along e_1
    Dc, Dx = diag(50, 40, 30), np.diag([0, 0, 0, 5, 4, 3, 0, 0.0])
    W_class = diag(30, 20, 10)
    W = W_class + 0.1 * np.eye(D)
    FF, EE = ("feature", "feature_b"), ("error", "error_b")
    return xr.Dataset(
        {"H": (FF, H), "H_class": (FF, H_class), "h_c": (("class", "feature"), h_c),
         "Delta": (EE, Dc + Dx + 0.01 * np.eye(D)), "Delta_class": (EE, Dc),
         "Delta_cross": (EE, Dx), "W": (("error", "feature"), W),
         "W_class": (("error", "feature"), W_class),
         "W_residual": (("error", "feature"), 0.01 * W),
         "kfac_rel_err": ((), kfac), "cfac_rel_err": ((), cfac)},
        coords={"class": range(C), "class_b": range(C)}, attrs={"layer": name})


def store(tmp_path, name, layers):
    return write_store(layers_dataset(layers), tmp_path / f"{name}.zarr", keys=KEYS)


def test_surviving_fraction_and_bulk_shift_known_values():
    A = np.array([100.0, 50, 10, 5, 1])
    assert surviving_fraction(A, np.array([10.0, 5, 1, 0, 0]), 2) == pytest.approx(0)
    assert surviving_fraction(A, A, 2) == pytest.approx(1)
    assert surviving_fraction(A, np.array([math.sqrt(1000.0), 5, 1]), 2) == pytest.approx(0.5)
    assert math.isnan(surviving_fraction(A, A, 5))                 # no eigenvalue beyond top-k
    assert math.isnan(surviving_fraction(np.ones(4), np.ones(4), 1))  # no outlier at all
    assert bulk_shift(A, A, 1, 5) == 0
    K = A * np.array([1, 1, np.e, 1, 1])
    assert bulk_shift(A, K, 1, 4) == pytest.approx(0 / np.log(100 / 5))  # median of 0, 1, 0
    assert bulk_shift(A, K, 1, 3) == pytest.approx(0.5 / np.log(10))


def test_depth_trend():
    assert depth_trend([1, 2, 5]) == pytest.approx(1)
    assert depth_trend([3, 2, 1, 0]) == pytest.approx(-1)
    assert math.isnan(depth_trend([1, 2]))
    assert depth_trend([math.nan, 1, 2, 3]) == pytest.approx(1)       # undefined layers skipped
    assert math.isnan(depth_trend([math.nan, 1, 2]))


def test_structured_store_holds_everything(tmp_path):
    path = store(tmp_path, "good", [layer("1", 1, 0.1), layer("4", 10, 0.3),
                                    layer("7", 100, 0.9)])
    rows = verdicts([path])
    assert {v.experiment for v in rows} == {"toy/mlp/n5/e1/train"}
    assert len(rows) == 7 * 3 + 2
    assert all(v.verdict == HOLDS for v in rows), [v for v in rows if v.verdict != HOLDS]
    table = table_rows(rows)
    assert len(table) == len(CLAIMS)
    assert table[0] == ("H^l", "C outliers", "H_class", "fig7: holds in 3 of 3 measured cases")


def test_unrelated_structure_fails(tmp_path):
    path = store(tmp_path, "bad", [layer("1", 100, 0.9, aligned=False, kfac=0.1, cfac=0.5),
                                   layer("4", 10, 0.3, aligned=False),
                                   layer("7", 1, 0.1, aligned=False)])
    rows = {(v.claim, v.metric.split(":")[0]): v for v in verdicts([path])}
    assert rows[(CLAIMS["H-outliers"][0], "layer 1 (1)")].verdict == FAILS
    assert rows[(CLAIMS["H-outliers"][0], "layer 1 (1)")].value == pytest.approx(1, abs=1e-3)
    assert rows[(CLAIMS["CFAC"][0], "layer 1 (1)")].verdict == FAILS
    assert rows[(CLAIMS["H-whitening"][0], "Spearman(depth, lambda_2 / lambda_C of H_class)")
                ].verdict == FAILS


def test_too_few_layers_and_no_weights_are_not_measured(tmp_path):
    one = layer("1", 1, 0.1).drop_vars(["W", "W_class", "W_residual", "kfac_rel_err"])
    rows = store_verdicts(read_store(store(tmp_path, "one", [one])))
    by_claim = {v.claim: v.verdict for v in rows}
    assert by_claim[CLAIMS["H-separation"][0]] == NOT_MEASURED
    assert by_claim[CLAIMS["W-outliers"][0]] == NOT_MEASURED
    assert by_claim[CLAIMS["CFAC"][0]] == NOT_MEASURED
    assert by_claim[CLAIMS["H-outliers"][0]] == HOLDS


def test_evaluate_gives_the_report_its_verdicts_and_table1_rows(tmp_path):
    """The claim-module interface: every verdict, and one Elimination per attribution claim
    and layer, eliminated exactly where its verdict holds (the report's Table 1 rows)."""
    from crossclass.claims.layerwise import CLAIMS, KNOCKOUTS, evaluate
    from crossclass.claims.report import table1

    good = store(tmp_path, "good", [layer("1", 1, 0.1), layer("4", 10, 0.3),
                                    layer("7", 100, 0.9)])
    rows, eliminations = evaluate([str(good)], top=750.0)
    # each verdict is its printed rule applied to its printed value (none left unmeasured here)
    ops = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    for r in rows:
        op, threshold = r.rule.split()
        assert r.verdict == ("holds" if ops[op](float(r.value), float(threshold)) else "fails"), r
    attributions = [r for r in rows if r.claim in {CLAIMS[k][0] for k in KNOCKOUTS}]
    assert len(eliminations) == len(attributions) == 3 * len(KNOCKOUTS)
    assert [e.eliminated for e in eliminations] == [r.verdict == "holds" for r in attributions]
    assert all(e.eliminated for e in eliminations)  # the planted layers have every feature
    assert {(e.quantity, e.component) for e in eliminations} >= {("H^l", "H_class"),
                                                                  ("W^l", "W_class")}
    assert table1(eliminations)[("H^l", "C outliers")].startswith("H_class")
