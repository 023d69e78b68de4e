"""Every network claim rule (claims.network) on planted stores: for each a case where it holds,
one where it fails and one where it is not measured (and, where a rule needs a store the run
lacks, no row at all), asserting the verdict and the value, computed here from the planted
eigenvalues and means.

The stores are written as a run writes them: spectra by linalg.estimate_spectrum on a planted
operator Q diag(lambda) Q^T, turned into a store as analysis.spectra does (method "exact": the
quadrature is every eigenvalue of the deflated operator with weight 1/p, so bulk sizes and
asymmetries have closed forms), with the keys and params of `crossclass operator-spectrum`;
means stores by analysis.means_store.means_dataset from planted extended means g_{c,c'}
(curvature.ExtendedMeans, g_decomposition); summary stores with the summary schema's scalars."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
import torch
import xarray as xr
from crossclass.analysis.means_store import means_dataset
from crossclass.claims import FAILS, HOLDS, NOT_MEASURED
from crossclass.claims.network import SAME_RANGE, evaluate
from crossclass.curvature import ExtendedMeans, g_decomposition
from crossclass.errors import UserError
from crossclass.linalg import estimate_spectrum
from crossclass.linalg.algebra import DenseOperator
from crossclass.stores import write_store

C, P = 4, 64
C2 = C * C + 1                                       # deflate: C2
KEYS = dict(dataset="toy", net="planted", n_per_class=10, epoch=1, split="train")
EXP = "toy/planted/n10/e1/train"
Q = np.linalg.qr(np.random.default_rng(0).standard_normal((P, P)))[0]

OUT = np.array([100.0, 90, 80, 70])                  # the C outliers
MINI = np.linspace(4.0, 2.0, C * (C - 2))            # the C(C-2) mini-bulk
BULK = np.geomspace(0.5, 0.01, P - C * (C - 1))      # the bulk
G_EV = np.r_[OUT, MINI, BULK]
HALF = BULK.size // 2
E_EV = np.r_[BULK[:HALF], -BULK[HALF:]]              # an indefinite E, no outliers
HESS_EV = np.r_[OUT, MINI, E_EV]                     # Hess = G + E
NAN = math.nan


def gap(ev, k):
    """lambda_k / lambda_{k+1} of the planted eigenvalues (1-based k)."""
    top = np.sort(ev)[::-1]
    return top[k - 1] / top[k]


def minibulk(ev):
    """The mini-bulk metric on the planted eigenvalues: the larger gap at C(C-1), C(C-2)."""
    return max(gap(ev, C * (C - 1)), gap(ev, C * (C - 2)))


def rest(ev, k=C2):
    """sum |lambda| beyond the top k by magnitude: p times the bulk size after deflating k."""
    return float(np.sort(np.abs(ev))[::-1][k:].sum())


def spectrum(folder, operator, ev, *, deflate=C2, log=False, M=16, eps=1e-8, params=None,
             classes=True, **keys):
    """The spectrum store of `operator` = Q diag(ev) Q^T (ev padded with zeros to P)."""
    ev = np.r_[ev, np.zeros(P - len(ev))]
    est = estimate_spectrum(DenseOperator(torch.as_tensor((Q * ev) @ Q.T)), method="exact",
                            M=M, K=256, log=log, eps=eps, deflate=deflate, progress=False)
    ds = est.to_dataset()
    ds = ds.reset_coords("log_lambda" if log else "lambda")
    ds["num_params"] = ((), P)
    full = {**KEYS, **keys}
    path = folder / (f"{operator}-{deflate}-" + "-".join(str(v) for v in full.values())
                     + ".zarr")
    write_store(ds.drop_attrs(), path, keys={**full, "operator": operator},
                params={**est.params, "operator": operator, "p": P,
                        **({"num_classes": C} if classes else {}), **(params or {})})
    return str(path)


def rows(paths, claim=None, **thresholds):
    verdicts, _ = evaluate(paths, **thresholds)
    return verdicts if claim is None else [v for v in verdicts if v.claim == claim]


def one(paths, claim, **thresholds):
    found = rows(paths, claim, **thresholds)
    assert len(found) == 1, found
    return found[0]


def check(row, verdict, value, rel=1e-4, abs=1e-6):
    assert row.verdict == verdict, row
    if value is None:
        assert row.value is None
    elif math.isnan(value):
        assert math.isnan(row.value), row
    else:
        assert row.value == pytest.approx(value, rel=rel, abs=abs), row


# ---- features of G and Hess: (claim, operator, eigenvalues, deflate, verdict, value)
FEATURES = [
    ("G has C outliers", "G", G_EV, C2, HOLDS, gap(G_EV, C)),
    ("G has C outliers", "G", BULK, C2, FAILS, gap(BULK, C)),
    ("G has C outliers", "G", G_EV, C, NOT_MEASURED, NAN),        # lambda_C+1 not deflated
    ("G has C outliers", "G", G_EV, 0, NOT_MEASURED, NAN),        # nothing deflated
    ("G has C(C-2) mini-bulk", "G", G_EV, C2, HOLDS, minibulk(G_EV)),
    ("G has C(C-2) mini-bulk", "G", np.r_[OUT, BULK], C2, FAILS, minibulk(np.r_[OUT, BULK])),
    ("G has C(C-2) mini-bulk", "G", G_EV, C + 1, NOT_MEASURED, NAN),  # C(C-1) + 1 needed
    ("Hess has C outliers", "hess", HESS_EV, C2, HOLDS, gap(HESS_EV, C)),
    ("Hess has C outliers", "hess", E_EV, C2, FAILS, gap(E_EV, C)),
    ("Hess has C outliers", "hess", HESS_EV, C, NOT_MEASURED, NAN),
]


@pytest.mark.parametrize(("claim", "operator", "ev", "deflate", "verdict", "value"), FEATURES,
                         ids=[f"{c[0]}-{c[4]}-{c[3]}" for c in FEATURES])
def test_feature(tmp_path, claim, operator, ev, deflate, verdict, value):
    row = one([spectrum(tmp_path, operator, ev, deflate=deflate)], claim)
    check(row, verdict, value)
    assert (row.experiment, row.rule) == (EXP, ">= 1.5")


@pytest.mark.xfail(strict=True, reason="for C = 3, C(C-2) = C: the mini-bulk metric "
                   "max(gap(C(C-1)), gap(C(C-2))) includes the outliers' own gap")
def test_three_outliers_and_a_bulk_have_no_mini_bulk(tmp_path):
    """C = 3, G with 3 outliers and a bulk only: its mini-bulk should not be found."""
    ev = np.r_[[100.0, 90, 80], np.geomspace(0.5, 0.01, 40)]
    row = one([spectrum(tmp_path, "G", ev, deflate=10, params={"num_classes": 3})],
              "G has C(C-2) mini-bulk")
    assert row.value == pytest.approx(gap(ev, 3), rel=1e-4)  # the outliers' gap, read today
    assert row.verdict == FAILS


# ---- attributions: (claim, base operator, base eigenvalues, base deflate, knockout, its
# eigenvalues, its deflate, verdict, value)
ATTRIBUTIONS = []
for op in ("G-minus-class", "G-project-class"):
    claim = f"C outliers of G <- G_class (knockout {op})"
    ATTRIBUTIONS += [
        (claim, "G", G_EV, C2, op, np.r_[MINI, BULK], C2, HOLDS, gap(np.r_[MINI, BULK], C)),
        (claim, "G", G_EV, C2, op, G_EV, C2, FAILS, gap(G_EV, C)),           # left untouched
        (claim, "G", BULK, C2, op, 0.5 * BULK, C2, FAILS, gap(BULK, C)),     # G never had them
        (claim, "G", G_EV, C2, op, np.r_[MINI, BULK], C, NOT_MEASURED, NAN),  # after unmeasured
        (claim, "G", G_EV, C, op, np.r_[MINI, BULK], C2, NOT_MEASURED,        # before unmeasured
         gap(np.r_[MINI, BULK], C)),
    ]
for op in ("G-minus-cross", "G-project-cross"):
    claim = f"C(C-2) mini-bulk of G <- G_cross (knockout {op})"
    ATTRIBUTIONS += [
        (claim, "G", G_EV, C2, op, np.r_[OUT, BULK], C2, HOLDS, minibulk(np.r_[OUT, BULK])),
        (claim, "G", G_EV, C2, op, G_EV, C2, FAILS, minibulk(G_EV)),
        (claim, "G", G_EV, C2, op, np.r_[OUT, BULK], C + 1, NOT_MEASURED, NAN),
    ]
WITHIN = "bulk of G <- G_within (knockout G-minus-within)"
SHRUNK = np.r_[OUT, MINI, 0.9 * BULK]
ATTRIBUTIONS += [
    (WITHIN, "G", G_EV, C2, "G-minus-within", np.r_[OUT, MINI], C2, HOLDS, 0.0),
    (WITHIN, "G", G_EV, C2, "G-minus-within", SHRUNK, C2, FAILS, rest(SHRUNK) / rest(G_EV)),
    (WITHIN, "G", np.zeros(1), 0, "G-minus-within", BULK, 0, NOT_MEASURED, NAN),  # no bulk in G
]
HESS_G = "C outliers of Hess <- G (knockout hess-minus-G)"
ATTRIBUTIONS += [
    (HESS_G, "hess", HESS_EV, C2, "hess-minus-G", E_EV, C2, HOLDS, gap(E_EV, C)),
    (HESS_G, "hess", HESS_EV, C2, "hess-minus-G", HESS_EV, C2, FAILS, gap(HESS_EV, C)),
    (HESS_G, "hess", HESS_EV, C2, "hess-minus-G", E_EV, C, NOT_MEASURED, NAN),
]
HESS_E = "bulk of Hess <- E (knockout hess-minus-E)"
G_PLUS = np.r_[OUT, MINI, 0.01 * BULK[:HALF]]
HALF_E = np.r_[OUT, MINI, BULK[:HALF], -0.5 * BULK[HALF:]]
ATTRIBUTIONS += [
    (HESS_E, "hess", HESS_EV, C2, "hess-minus-E", G_PLUS, C2, HOLDS,
     rest(G_PLUS) / rest(HESS_EV)),
    (HESS_E, "hess", HESS_EV, C2, "hess-minus-E", HALF_E, C2, FAILS,
     rest(HALF_E) / rest(HESS_EV)),
    (HESS_E, "hess", np.zeros(1), 0, "hess-minus-E", E_EV, 0, NOT_MEASURED, NAN),
]


@pytest.mark.parametrize(
    ("claim", "base", "base_ev", "base_deflate", "op", "ev", "deflate", "verdict", "value"),
    ATTRIBUTIONS, ids=[f"{c[0]}-{c[7]}-{i}" for i, c in enumerate(ATTRIBUTIONS)])
def test_attribution(tmp_path, claim, base, base_ev, base_deflate, op, ev, deflate, verdict,
                     value):
    paths = [spectrum(tmp_path, base, base_ev, deflate=base_deflate),
             spectrum(tmp_path, op, ev, deflate=deflate)]
    verdicts, eliminations = evaluate(paths)
    row = [v for v in verdicts if v.claim == claim]
    assert len(row) == 1, [v.claim for v in verdicts]
    check(row[0], verdict, value)
    # Table 1's row for the same knockout and feature agrees with the verdict
    feature = ("outliers" if "outliers" in claim else
               "mini-bulk" if "mini-bulk" in claim else "bulk")
    mine = [e for e in eliminations if e.knockout == op and e.feature == feature]
    assert len(mine) == 1
    # a quantity without a bulk (b = 0): Table 1 counts it as not eliminated
    expected = (False if feature == "bulk" and not base_ev.any()
                else {HOLDS: True, FAILS: False, NOT_MEASURED: None}[verdict])
    assert mine[0].eliminated is expected


def test_every_attribution_has_three_cases():
    claims = {c[0] for c in ATTRIBUTIONS}
    assert len(claims) == 7  # 2 x G_class, 2 x G_cross, G_within, Hess <- G, Hess <- E
    for claim in claims:
        assert {c[7] for c in ATTRIBUTIONS if c[0] == claim} == {HOLDS, FAILS, NOT_MEASURED}


def test_a_knockout_without_its_quantity_gives_no_attribution(tmp_path):
    """No G store: the knockout alone is judged for nothing (no row, no Table-1 row)."""
    verdicts, eliminations = evaluate([spectrum(tmp_path, "G-minus-class", BULK)])
    assert not [v for v in verdicts if "<-" in v.claim] and not eliminations


def test_the_subtraction_of_g_same_is_in_table1_only(tmp_path):
    """G-minus-same and G-project-same give Elimination rows and no verdict."""
    paths = [spectrum(tmp_path, "G", G_EV), spectrum(tmp_path, "G-minus-same", G_EV),
             spectrum(tmp_path, "G-project-same", G_EV)]
    verdicts, eliminations = evaluate(paths)
    assert {v.claim for v in verdicts} == {"G has C outliers", "G has C(C-2) mini-bulk"}
    assert {(e.component, e.knockout) for e in eliminations} == {
        ("G_{c=c'}", "G-minus-same"), ("G_{c=c'}", "G-project-same")}
    assert not any(e.eliminated for e in eliminations)


@pytest.mark.parametrize("order", [1, -1])
def test_the_most_deflated_store_of_an_operator_counts_once(tmp_path, order):
    """G under two settings (deflate C and C2), in either order: one row per claim, measured
    from the C2 store (with only C deflated, both would be 'not measured')."""
    paths = [spectrum(tmp_path, "G", G_EV, deflate=C), spectrum(tmp_path, "G", G_EV)][::order]
    outliers = one(paths, "G has C outliers")
    check(outliers, HOLDS, gap(G_EV, C))
    check(one(paths, "G has C(C-2) mini-bulk"), HOLDS, minibulk(G_EV))


def test_stores_without_the_number_of_classes_are_not_judged(tmp_path):
    """No means store and no num_classes param: C is unknown, no feature row."""
    assert rows([spectrum(tmp_path, "G", G_EV, classes=False)]) == []


def test_a_store_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "other.zarr"
    write_store(xr.Dataset({"x": ("i", np.ones(3))}), path, keys=KEYS)
    with pytest.raises(UserError, match="not a spectrum, means or summary store"):
        evaluate([str(path)])


# ---- D.1: the summary store
def summary(folder, train_error, split="train"):
    values = dict(loss=0.1, error=train_error, grad_norm=1e-3, objective_grad_norm=1e-3,
                  num_params=P, num_examples=40, train_loss=0.1, train_error=train_error,
                  test_loss=0.2, test_error=0.3)
    path = folder / f"summary-{split}-{train_error}.zarr"
    write_store(xr.Dataset({k: ((), v) for k, v in values.items()}), path,
                keys={**KEYS, "split": split}, params={"num_classes": C})
    return str(path)


TRAINED = "the network is trained to ~zero train error"


@pytest.mark.parametrize(("error", "verdict"), [(0.0, HOLDS), (0.01, HOLDS), (0.25, FAILS),
                                                (NAN, NOT_MEASURED)])
def test_train_error(tmp_path, error, verdict):
    """<= 0.01 holds (the boundary included); NaN (the history has no such epoch, e.g. epoch
    0) is not measured."""
    check(one([summary(tmp_path, error)], TRAINED), verdict, error, rel=0, abs=0)


def test_train_error_is_judged_on_the_train_split_only(tmp_path):
    assert rows([summary(tmp_path, 0.5, split="test")], TRAINED) == []
    row = one([summary(tmp_path, 0.005)], TRAINED, max_train_error=0.001)
    assert (row.verdict, row.rule) == (FAILS, "<= 0.001")


# ---- the means store: G_{c=c'} negligible, one range, the Fig. 6 dynamics
def planted_means(a, x, same, same_dirs="distinct", p=24):
    """(means (p, C, C), weights (C, C)): g_{c,c'} = a e_c + x u_{c,c'} (c' != c, u
    orthonormal), g_{c,c} = same f_c (f_c orthonormal; 'one': f_0 for every c), w = 1/C^2."""
    E = np.eye(p)
    g = np.zeros((p, C, C))
    pairs = [(c, d) for c in range(C) for d in range(C) if c != d]
    for j, (c, d) in enumerate(pairs):
        g[:, c, d] = a * E[c] + x * E[C + j]
    for c in range(C):
        g[:, c, c] = same * E[C + len(pairs) + (c if same_dirs == "distinct" else 0)]
    return g, np.full((C, C), 1.0 / C**2)


def dense_parts(g, w):
    """G_class, G_cross, G_{c=c'} as dense matrices from their definitions (docs/curvature.md)."""
    off = ~np.eye(C, dtype=bool)
    w_c = (w * off).sum(1)
    g_c = np.stack([(g[:, c, off[c]] * w[c, off[c]]).sum(1) / w_c[c] for c in range(C)], 1)
    G_class = sum(w_c[c] * np.outer(g_c[:, c], g_c[:, c]) for c in range(C))
    G_cross = sum(w[c, d] * np.outer(g[:, c, d] - g_c[:, c], g[:, c, d] - g_c[:, c])
                  for c in range(C) for d in range(C) if c != d)
    G_same = sum(w[c, c] * np.outer(g[:, c, c], g[:, c, c]) for c in range(C))
    return G_class, G_cross, G_same


def means_store(folder, *, a=1.0, x=0.5, same=0.1, same_dirs="distinct", within=1.0,
                with_p=True, n=10, epoch=1):
    """A means store of planted means (means_dataset), Ave_c (1/N) Tr G_within,c = within."""
    g, w = planted_means(a, x, same, same_dirs)
    p = g.shape[0]
    means = ExtendedMeans(torch.as_tensor(g), torch.as_tensor(w))
    dec = g_decomposition(DenseOperator(torch.eye(p, dtype=torch.float64)), means)
    N = C * n
    ds = means_dataset(means, dec, torch.full((C,), within * N, dtype=torch.float64), N,
                       keep_means=False)
    path = folder / f"means-{a}-{x}-{same}-{same_dirs}-{within}-{with_p}-n{n}-e{epoch}.zarr"
    params = {"num_classes": C, "n": n, **({"p": p} if with_p else {})}
    write_store(ds, path, keys={**KEYS, "n_per_class": n, "epoch": epoch}, params=params)
    return str(path), g, w


NEGLIGIBLE = "G_{c=c'} is negligible"


@pytest.mark.parametrize(("a", "same", "verdict"), [(1.0, 0.1, HOLDS), (1.0, 1.0, FAILS),
                                                    (0.0, 0.1, NOT_MEASURED)])
def test_g_same_negligible(tmp_path, a, same, verdict):
    """lambda_max(G_{c=c'}) / lambda_max(G_class) <= 0.05; G_class = 0 (a = 0, x = 0): not
    measured."""
    path, g, w = means_store(tmp_path, a=a, x=0.0 if a == 0 else 0.5, same=same)
    G_class, _, G_same = dense_parts(g, w)
    top_class = np.linalg.eigvalsh(G_class)[-1]
    value = np.linalg.eigvalsh(G_same)[-1] / top_class if top_class > 1e-12 else NAN
    check(one([path], NEGLIGIBLE), verdict, value, rel=1e-9)


@pytest.mark.parametrize(("same_dirs", "with_p", "verdict", "value"), [
    ("distinct", True, HOLDS, 0), ("one", True, FAILS, C - 1), ("distinct", False,
                                                               NOT_MEASURED, None)])
def test_same_range(tmp_path, same_dirs, with_p, verdict, value):
    """G_class has rank C; G_{c=c'} rank C (distinct f_c) or 1 (one f for all): the ranks'
    difference; a means store without p (the cut p eps lambda_max) is not measured."""
    path, g, w = means_store(tmp_path, same_dirs=same_dirs, with_p=with_p)
    G_class, _, G_same = dense_parts(g, w)
    assert np.linalg.matrix_rank(G_class) - np.linalg.matrix_rank(G_same) == (value or 0)
    check(one([path], SAME_RANGE), verdict, value, rel=0, abs=0)


def class_and_cross(a, x, same):
    """Mean eigenvalue of the top C and of the next C(C-2) of G_class + G_cross + G_{c=c'}."""
    eig = np.sort(np.linalg.eigvalsh(sum(dense_parts(*planted_means(a, x, same)))))[::-1]
    return eig[:C].mean(), eig[C:C * (C - 1)].mean()


def grid(tmp_path, plant, ns=(10, 20), epochs=(1, 2)):
    """G and means stores at every (n, epoch); plant(n, epoch) -> (a, x, within)."""
    paths, planted = [], {}
    for n, epoch in itertools.product(ns, epochs):
        a, x, within = plant(n, epoch)
        paths.append(spectrum(tmp_path, "G", G_EV, deflate=C, n_per_class=n, epoch=epoch))
        paths.append(means_store(tmp_path, a=a, x=x, same=0.0, within=within, n=n,
                                 epoch=epoch)[0])
        cls, cross = class_and_cross(a, x, 0.0)
        planted[(n, epoch)] = (math.log10(cross / within) if cross > 0 else NAN,
                               math.log10(cls / within) if cls > 0 else NAN)
    return paths, planted


SEPARATE = "G_cross and G_within bulks separate with training"
MERGE = "G_cross and G_within bulks merge with sample size"
STABLE = "G_class to G_within distance stable over epochs and n"


def by_experiment(verdicts, claim):
    return {v.experiment.rsplit("/", 1)[1]: v for v in verdicts if v.claim == claim}


@pytest.mark.parametrize("trend", [1, -1])
def test_dynamics_hold_and_fail(tmp_path, trend):
    """s = log10(mean G_cross eig. / within) planted as trend (epoch - n / 10) decades: with
    trend 1 the bulks separate with epochs and merge with n, with -1 neither; the G_class
    distance (a = 10 throughout) moves by under a decade."""
    def plant(n, epoch):
        return 10.0, C * 10 ** (trend * (epoch - n / 10) / 2), 1.0  # mean G_cross eig = x^2/C^2

    paths, s = grid(tmp_path, plant)
    verdicts = rows(paths)
    want = HOLDS if trend > 0 else FAILS
    for n in (10, 20):
        check(by_experiment(verdicts, SEPARATE)[f"n{n}"], want,
              s[(n, 2)][0] - s[(n, 1)][0], rel=1e-6)
        assert s[(n, 2)][0] - s[(n, 1)][0] == pytest.approx(trend)
    for e in (1, 2):
        check(by_experiment(verdicts, MERGE)[f"e{e}"], want, s[(20, e)][0] - s[(10, e)][0],
              rel=1e-6)
    drift = [v[1] for v in s.values()]
    check(one(paths, STABLE), HOLDS, max(drift) - min(drift), rel=1e-6)


def test_class_distance_drift_fails(tmp_path):
    """G_class's mean eigenvalue grows 10^4-fold over the grid: a 4-decade drift."""
    paths, s = grid(tmp_path, lambda n, epoch: (10.0 ** (n / 10 + epoch - 2), 0.5, 1.0))
    drift = [v[1] for v in s.values()]
    row = one(paths, STABLE)
    check(row, FAILS, max(drift) - min(drift), rel=1e-6)
    assert row.value == pytest.approx(4, abs=0.05)


def test_dynamics_not_measured(tmp_path):
    """All means zero at (n10, e2): s and the G_class distance are undefined there, so the
    rows that compare it are not measured and the others still judged."""
    def plant(n, epoch):
        return (0.0, 0.0, 1.0) if (n, epoch) == (10, 2) else (10.0, 2.0, 1.0)

    paths, s = grid(tmp_path, plant)
    verdicts = rows(paths)
    separate, merge = by_experiment(verdicts, SEPARATE), by_experiment(verdicts, MERGE)
    check(separate["n10"], NOT_MEASURED, NAN)
    check(merge["e2"], NOT_MEASURED, NAN)
    check(separate["n20"], FAILS, 0.0, abs=1e-9)   # the same plant at both epochs: no change
    check(merge["e1"], FAILS, 0.0, abs=1e-9)
    check(one(paths, STABLE), NOT_MEASURED, NAN)


def test_dynamics_need_two_points_of_the_grid(tmp_path):
    """One epoch: no separation row; one n: no merge row; one checkpoint: no drift row."""
    plant = lambda n, epoch: (10.0, 2.0, 1.0)  # noqa: E731
    epochs_only = rows(grid(tmp_path / "a", plant, ns=(10,))[0])
    assert by_experiment(epochs_only, MERGE) == {} and set(by_experiment(epochs_only, SEPARATE))
    ns_only = rows(grid(tmp_path / "b", plant, epochs=(1,))[0])
    assert by_experiment(ns_only, SEPARATE) == {} and set(by_experiment(ns_only, MERGE))
    single = rows(grid(tmp_path / "c", plant, ns=(10,), epochs=(1,))[0])
    assert not [v for v in single if v.section == "6.2"]


def test_dynamics_need_the_g_store(tmp_path):
    """A means store without its checkpoint's G store takes no part in Fig. 6's trends."""
    paths = [means_store(tmp_path, n=n, epoch=e)[0] for n in (10, 20) for e in (1, 2)]
    assert not [v for v in rows(paths) if v.section == "6.2"]


# ---- E: symmetry and the power-law tail (log spectrum stores, as e_log writes them)
QUANTILES = (np.arange(300) + 0.5) / 300
PARETO = 1 / (1 / 1e-3 - QUANTILES * (1 / 1e-3 - 1))   # density ~ lambda^-2 on [1e-3, 1]
TWO_CLUSTERS = np.r_[0.1 * np.linspace(0.98, 1.02, 150), np.linspace(0.98, 1.0, 150)]


def e_store(folder, ev):
    """E = diag(ev) (p = len(ev)) as the e_log settings store it (log, no deflation)."""
    est = estimate_spectrum(DenseOperator(torch.as_tensor(np.diag(ev))), method="exact", M=16,
                            K=256, log=True, eps=1e-8, progress=False)
    ds = est.to_dataset().reset_coords("log_lambda")
    ds["num_params"] = ((), len(ev))
    path = folder / f"E-{len(ev)}-{float(np.sum(ev)):.6g}.zarr"
    write_store(ds.drop_attrs(), path, keys={**KEYS, "operator": "E"},
                params={**est.params, "operator": "E", "p": len(ev), "num_classes": C})
    return str(path)


SYMMETRIC = "E is symmetric about 0"
POWER_LAW = "E has a power-law tail"


@pytest.mark.parametrize(("ev", "verdict"), [
    (np.r_[PARETO, -0.8 * PARETO], HOLDS),       # |Tr| / sum|lambda| = 0.2 / 1.8
    (np.r_[PARETO, -0.1 * PARETO], FAILS),
    (np.zeros(50), NOT_MEASURED),                # no eigenvalue off 0
], ids=["holds", "fails", "zero"])
def test_e_symmetry(tmp_path, ev, verdict):
    value = abs(ev.sum()) / np.abs(ev).sum() if np.abs(ev).sum() else NAN
    check(one([e_store(tmp_path, ev)], SYMMETRIC), verdict, value, rel=1e-9)


def tail_fit(path, lo=0.05, hi=0.8):
    """R^2 and the exponent of a line through (log |lambda|, log phi_+) on the fitted range,
    phi_+ = f_+(u) / |lambda| at u = log(|lambda| + eps) (the change of variables)."""
    from crossclass.stores import read_store

    ds = read_store(path)
    x = np.exp(ds["log_lambda"].values) - 1e-8
    top = float(np.abs(ds["ritz_values"]).max())
    phi = np.where(x > 0, ds["density_positive"].values / np.where(x > 0, x, 1), 0)
    keep = (x >= lo * top) & (x <= hi * top) & (phi > 0)
    r = np.corrcoef(np.log(x[keep]), np.log(phi[keep]))[0, 1]
    slope = np.polyfit(np.log(x[keep]), np.log(phi[keep]), 1)[0]
    return r * r, -slope


@pytest.mark.parametrize(("ev", "verdict"), [
    (np.r_[PARETO, -0.8 * PARETO], HOLDS),
    (np.r_[TWO_CLUSTERS, -0.8 * PARETO], FAILS),
    (-PARETO, NOT_MEASURED),                     # no positive part to fit
], ids=["power law", "two clusters", "negative definite"])
def test_e_power_law(tmp_path, ev, verdict):
    path = e_store(tmp_path, ev)
    row = one([path], POWER_LAW)
    if verdict == NOT_MEASURED:
        check(row, verdict, NAN)
        return
    r2, b = tail_fit(path)
    check(row, verdict, r2, rel=1e-9)
    fitted = float(re.search(r"\|lambda\|\^(-?[0-9.e+-]+) on", row.metric).group(1))
    assert fitted == pytest.approx(-b, rel=1e-2)
    if verdict == HOLDS:
        assert b == pytest.approx(2, abs=0.05)  # the planted exponent, through f_+ / |lambda|


def test_a_linear_e_store_has_no_power_law_row(tmp_path):
    """Without density_positive (a linear-grid E store) only the symmetry is judged."""
    path = spectrum(tmp_path, "E", E_EV, deflate=0)
    assert [v.claim for v in rows([path]) if v.claim.startswith("E ")] == [SYMMETRIC]
