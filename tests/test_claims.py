"""Claim metrics, the Table-1 rule and the reports on constructed operators whose answer is
known: a planted C outliers + C(C-2) mini-bulk + bulk, knockouts that remove each feature and
knockouts that do not."""

import json
import math

import numpy as np
import pytest
import torch
from crossclass.analysis.means_store import SCHEMA as MEANS_SCHEMA
from crossclass.analysis.means_store import means_dataset
from crossclass.claims import FAILS, HOLDS, judge
from crossclass.claims.features import (
    THRESHOLDS,
    asymmetry,
    eliminates,
    gap,
    measure,
    power_law_fit,
    signed_densities,
)
from crossclass.claims.network import SAME_RANGE, evaluate
from crossclass.claims.report import read_rows, table1, write_reports, write_rows
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    class_gradient_traces,
    extended_gradient_means,
    g_decomposition,
    gauss_newton_operator,
)
from crossclass.linalg import estimate_spectrum
from crossclass.linalg.algebra import DenseOperator
from crossclass.stores import write_store

C, P = 4, 300


def planted(seed=0):
    """Parts of a p x p PSD matrix: C outliers (~100), C(C-2) mini-bulk (~3), a bulk in
    [0, ~0.2] of rank 150, in mutually orthogonal subspaces."""
    g = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(g.standard_normal((P, P)))
    outliers = Q[:, :C] * np.linspace(80, 120, C) @ Q[:, :C].T
    k = C * (C - 2)
    mini = Q[:, C:C + k] * np.linspace(2, 4, k) @ Q[:, C:C + k].T
    Z = Q[:, C + k:C + k + 150]
    bulk = Z * g.uniform(0.02, 0.2, 150) @ Z.T
    return outliers, mini, bulk


def store(matrix, operator="A", log=False, n_vec=2):
    est = estimate_spectrum(DenseOperator(torch.as_tensor(matrix)), M=60, n_vec=n_vec, K=128,
                            deflate=C * C + 1, deflate_iters=60, log=log, eps=1e-8,
                            progress=False)
    ds = est.to_dataset()
    ds = ds.reset_coords("log_lambda" if log else "lambda")
    ds["num_params"] = ((), P)
    return ds.assign_coords(operator=operator)


@pytest.fixture(scope="module")
def parts():
    return planted()


def test_gap():
    assert gap(np.array([4.0, 2.0, 1.0]), 1) == 2.0
    assert gap(np.array([4.0, -1.0]), 1) == math.inf
    assert gap(np.array([4.0, 2.0]), 2) == 0.0      # beyond the eigenvalues given


def test_features_of_planted(parts):
    o, m, b = parts
    full = measure(store(o + m + b), C)
    eigenvalues = np.sort(np.linalg.eigvalsh(o + m + b))[::-1]
    k = C * (C - 2)  # mini-bulk eigenvalues planted in [2, 4], bulk in [0.02, 0.2]
    assert full["outliers"] == pytest.approx(eigenvalues[C - 1] / eigenvalues[C], rel=1e-6)
    assert full["mini-bulk"] == pytest.approx(eigenvalues[C + k - 1] / eigenvalues[C + k],
                                              rel=1e-6)
    # the bulk's size is the mean |lambda| of the deflated rest, from two random start vectors
    rest = eigenvalues[C * C + 1:]
    assert full["bulk"] == pytest.approx(np.abs(rest).mean(), rel=0.3)
    t = THRESHOLDS
    no_outliers = measure(store(m + b), C)
    no_mini = measure(store(o + b), C)
    no_bulk = measure(store(o + m), C)
    assert eliminates(full, no_outliers, "outliers", t)
    assert not eliminates(full, no_outliers, "mini-bulk", t)      # mini-bulk now on top
    assert not eliminates(full, no_outliers, "bulk", t)
    assert eliminates(full, no_mini, "mini-bulk", t)
    assert not eliminates(full, no_mini, "outliers", t)
    assert eliminates(full, no_bulk, "bulk", t)
    assert not eliminates(full, no_bulk, "outliers", t)
    # a knockout of a tenth of the bulk eliminates nothing
    same = measure(store(o + m + 0.9 * b), C)
    assert not any(eliminates(full, same, f, t) for f in ("outliers", "mini-bulk", "bulk"))


def test_unplanted_features_fail(parts):
    _, _, b = parts
    flat = measure(store(b), C)
    assert flat["outliers"] < THRESHOLDS["outlier_gap"]
    assert flat["mini-bulk"] < THRESHOLDS["minibulk_gap"]


def test_power_law_and_symmetry():
    x = np.geomspace(1e-3, 1, 50)
    a, b, r2 = power_law_fit(x, 2e-4 * x**-2.5, 1e-3, 1)
    assert a == pytest.approx(2e-4) and b == pytest.approx(2.5) and r2 == pytest.approx(1)
    g = np.random.default_rng(1)
    W = g.standard_normal((P, P))
    sym = store((W + W.T) / np.sqrt(8 * P), log=True, n_vec=10)  # a Hutchinson-type estimate
    assert asymmetry(sym) < 0.1
    assert asymmetry(store(W @ W.T / P)) == pytest.approx(1)
    x, pos, neg = signed_densities(sym, 1e-8)
    # a symmetric spectrum: its positive and negative halves carry about equal mass
    mass = np.trapezoid(pos, x), np.trapezoid(neg, x)
    assert min(mass) > 0 and mass[0] == pytest.approx(mass[1], rel=0.2)


def keyed(ds, path, split="train", **extra):
    keys = {**dict(dataset="toy", net="planted", n_per_class=10, epoch=1, split=split), **extra}
    write_store(ds.drop_vars("operator", errors="ignore"), path, keys=keys,
                params={"num_classes": C, "eps": 1e-8})
    return str(path)


def test_network_claims_and_table1(parts, tmp_path):
    o, m, b = parts
    ops = {"G": o + m + b, "G-minus-class": m + b, "G-minus-cross": o + b,
           "G-minus-within": o + m, "G-minus-same": o + m + b}
    paths = [keyed(store(A), tmp_path / f"{name}.zarr", operator=name)
             for name, A in ops.items()]
    verdicts, eliminations = evaluate(paths)
    by_claim = {v.claim: v.verdict for v in verdicts}
    assert by_claim["G has C outliers"] == HOLDS
    assert by_claim["G has C(C-2) mini-bulk"] == HOLDS
    assert by_claim["C outliers of G <- G_class (knockout G-minus-class)"] == HOLDS
    assert by_claim["C(C-2) mini-bulk of G <- G_cross (knockout G-minus-cross)"] == HOLDS
    assert by_claim["bulk of G <- G_within (knockout G-minus-within)"] == HOLDS
    cells = table1(eliminations)
    assert cells[("G", "outliers")] == "G_class"
    assert cells[("G", "mini-bulk")] == "G_cross"
    assert cells[("G", "bulk")] == "G_within"

    # a run without the structure: the verdicts say it fails, with the numbers
    flat = [keyed(store(b), tmp_path / "flatG.zarr", split="test", operator="G"),
            keyed(store(b), tmp_path / "flatK.zarr", split="test", operator="G-minus-class")]
    verdicts, eliminations = evaluate(flat)
    failing = [v for v in verdicts if v.verdict == FAILS]
    assert {v.claim for v in failing} >= {"G has C outliers",
                                          "C outliers of G <- G_class (knockout G-minus-class)"}
    assert all(v.value is not None for v in failing)
    assert table1(eliminations)[("G", "outliers")] == "none"


def test_reports(tmp_path):
    v = [judge("x holds", "1", "toy", "m", 2.0, ">=", 1.0),
         judge("y fails", "2", "toy", "m", 0.5, ">=", 1.0),
         judge("z", "3", "toy", "m", None, ">=", 1.0)]
    files = [write_rows("a", v[:2], [], tmp_path / "a.json"),
             write_rows("b", v[2:], [], tmp_path / "b.json")]
    assert json.loads(files[0].read_text())["module"] == "a"
    assert len(read_rows(files)[0]) == 3
    write_reports(files, tmp_path / "claims.md", tmp_path / "table1.md")
    text = (tmp_path / "claims.md").read_text()
    assert "1 hold, 1 fail, 1 not measured" in text and "**fails**" in text


def test_unknown_threshold():
    from crossclass.errors import UserError
    with pytest.raises(UserError, match="no threshold"):
        evaluate([], bogus=1.0)



def means_store(path, n, epoch, cross, within, classes=C):
    """A means store whose G_cross eigenvalues are `cross` and whose per-class traces give
    Ave_c (1/N) Tr G_within,c = `within`."""
    import xarray as xr

    k = classes * (classes - 2)
    low = np.concatenate([np.full(classes, 100.0), np.full(k, cross), np.full(classes, 1e-6)])
    N = classes * n
    ds = xr.Dataset({
        "weights": (("class", "class_b"), np.full((classes, classes), 1 / classes**2)),
        "eig_class": (("rank_class",), low[:classes]),
        "eig_cross": (("rank_cross",), low[classes:classes + k]),
        "eig_same": (("rank_same",), low[classes + k:]),
        "eig_lowrank": (("rank_lowrank",), low),
        "trace_within": (("class",), np.full(classes, within * N)),
        "num_examples": ((), N),
    })
    # the layout the writer documents (means_store.SCHEMA, which docs/stores.md renders and a
    # test checks against a written store), not one made to suit the reader
    schema = {name: dims for names, dims, _ in MEANS_SCHEMA.variables for name in names}
    assert {v: f"({', '.join(ds[v].dims)}{',' if ds[v].ndim == 1 else ''})"
            for v in ds.data_vars} == {v: schema[v] for v in ds.data_vars}
    assert set(schema) - set(ds.data_vars) == {"means"}  # kept only with store_means
    keys = dict(dataset="toy", net="planted", n_per_class=n, epoch=epoch, split="train")
    write_store(ds, path, keys=keys, params={"num_classes": classes})
    return str(path)


@pytest.mark.parametrize("trend", [1.0, -1.0])
def test_fig6_dynamics_are_judged_from_the_per_class_within_traces(parts, tmp_path, trend):
    """s = log10(mean G_cross eig. / Ave_c (1/N) Tr G_within,c) grows with the epoch and
    shrinks with n when the planted traces say so (trend 1), and fails when reversed."""
    o, m, b = parts
    paths = []
    for n in (10, 20):
        for epoch in (1, 2):
            s = trend * (epoch - n / 10)  # decades: + with epochs, - with n
            paths.append(keyed(store(o + m + b), tmp_path / f"G{n}{epoch}.zarr", operator="G",
                               n_per_class=n, epoch=epoch))
            paths.append(means_store(tmp_path / f"M{n}{epoch}.zarr", n, epoch, 3.0,
                                     3.0 / 10**s))
    verdicts, _ = evaluate(paths)
    rows = [v for v in verdicts if v.section == "6.2"]
    separate = [v for v in rows if v.claim.startswith("G_cross and G_within bulks separate")]
    merge = [v for v in rows if v.claim.startswith("G_cross and G_within bulks merge")]
    assert len(separate) == 2 and len(merge) == 2
    want = HOLDS if trend > 0 else FAILS
    assert all(v.verdict == want for v in separate + merge)
    assert [v.value for v in separate] == pytest.approx([trend, trend])
    assert [v.value for v in merge] == pytest.approx([-trend, -trend])


def trained_three_class_mlp():
    """A bias-free 4-6-3 ReLU MLP (p = 42) fitted to 3 separated clusters of 7 points (cross
    entropy 1e-4 after 300 Adam steps, float64): its softmax saturates as the inputs grow."""
    torch.manual_seed(0)
    centres = 2 * torch.randn(3, 4, dtype=torch.float64)
    y = torch.arange(3).repeat_interleave(7)
    X = centres[y] + 0.3 * torch.randn(len(y), 4, dtype=torch.float64)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6, bias=False), torch.nn.ReLU(),
                                torch.nn.Linear(6, 3, bias=False)).double()
    opt = torch.optim.Adam(model.parameters(), 0.05)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return ModelFunction(model), X, y


@pytest.mark.parametrize(("scale", "same"), [(1.0, True), (3.0, False)])
def test_same_range_of_the_class_and_same_projections(tmp_path, scale, same):
    """Inputs x 1: G_class and G_{c=c'} keep all 3 directions above the rank cut p eps ||G||
    and their dense projection knockouts agree to 1e-12 ||G||. Inputs x 3 saturate the
    softmax: G_{c=c'} = Gamma diag(w_c^2 / w_cc) Gamma^T has its third eigenvalue at 1e-17
    ||G|| (G_class's at 6e-4), ranks 3 and 2, knockouts 1.6e-3 ||G|| apart; the claim fails
    with those ranks and Table 1 notes it."""
    fn, X, y = trained_three_class_mlp()
    data = LabeledData(scale * X, y, batch_size=5)
    G = gauss_newton_operator(fn, data)
    means = extended_gradient_means(fn, data, progress=False)
    dec = g_decomposition(G, means)
    norm = float(torch.linalg.eigvalsh(G.to_dense()).max())
    apart = float(torch.linalg.matrix_norm(dec.knockout("class", "projection").to_dense()
                                           - dec.knockout("same", "projection").to_dense(),
                                           ord=2)) / norm
    assert (apart < 1e-12) if same else (apart > 1e-4)
    within = means.within_traces(class_gradient_traces(fn, data, progress=False))
    path = tmp_path / "means.zarr"
    write_store(means_dataset(means, dec, within, len(y)), path,
                keys=dict(dataset="toy", net="mlp", n_per_class=7, epoch=1, split="train"),
                params={"num_classes": 3, "p": fn.p})
    verdicts, _ = evaluate([str(path)])
    row = next(v for v in verdicts if v.claim == SAME_RANGE)
    assert row.verdict == (HOLDS if same else FAILS)
    assert row.value == (0 if same else 1)
    assert row.metric.endswith("(3, 3)" if same else "(3, 2)")
    write_rows("network", verdicts, [], tmp_path / "network.json")
    write_reports([tmp_path / "network.json"], tmp_path / "claims.md", tmp_path / "table1.md")
    note = "Note: on toy/mlp/n7/e1/train, G-project-same is not G-project-class"
    assert (note in (tmp_path / "table1.md").read_text()) is not same
