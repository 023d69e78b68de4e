"""Exact identities of crossclass.curvature against dense float64 matrices (docs/curvature.md).

Tiny models (an MLP, and a CNN with BatchNorm in eval mode and biases), C = 4 classes with
n = 3 examples each, batch size 5 so that batches straddle classes. Dense references come from
torch.func.hessian / jacrev; every identity the docs call exact must hold to 1e-10 relative
(Frobenius) residual.
"""

from functools import cached_property

import pytest
import torch
import torch.nn.functional as F
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    class_gradient_traces,
    extended_gradient_means,
    g_decomposition,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.errors import UserError
from crossclass.linalg import LinearOperator
from torch.func import hessian, jacrev

C, N_PER_CLASS, BATCH = 4, 3, 5
TOL = 1e-10


def rel(A: torch.Tensor, B: torch.Tensor) -> float:
    return float(torch.linalg.norm(A - B) / torch.linalg.norm(B))


def mlp() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 5),
                               torch.nn.ReLU(), torch.nn.Linear(5, C))


def cnn() -> torch.nn.Module:
    bn = torch.nn.BatchNorm2d(2)
    with torch.no_grad():  # non-trivial running statistics and affine parameters
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), bn, torch.nn.Tanh(), torch.nn.Flatten(),
                               torch.nn.Linear(18, C))


MODELS = {"mlp": (mlp, (4,)), "cnn": (cnn, (1, 5, 5))}


class Problem:
    """A tiny model, its data, and the dense float64 reference objects."""

    def __init__(self, kind: str):
        torch.manual_seed(0)
        build, shape = MODELS[kind]
        self.model = build().double()
        self.X = torch.randn(C * N_PER_CLASS, *shape, dtype=torch.float64)
        perm = torch.randperm(C * N_PER_CLASS)
        self.y = torch.arange(C).repeat_interleave(N_PER_CLASS)[perm]  # shuffled, balanced
        self.data = LabeledData(self.X, self.y, batch_size=BATCH)
        self.fn = ModelFunction(self.model)
        theta, X, y, N = self.fn.theta, self.X, self.y, len(self.y)

        def logits(t):
            return self.fn(t, X)

        self.P = torch.softmax(logits(theta), dim=-1).detach()  # (N, C)
        self.R = self.P - F.one_hot(y, C).double()  # p - e_y
        self.hess = hessian(lambda t: F.cross_entropy(logits(t), y))(theta)
        J = jacrev(logits)(theta)  # (N, C, p)
        curv = torch.diag_embed(self.P) - self.P[:, :, None] * self.P[:, None, :]
        self.G = torch.einsum("ncp,ncd,ndq->pq", J, curv, J) / N  # eq. 5.1
        self.E = hessian(lambda t: (logits(t) * self.R).sum() / N)(theta)  # eq. 5.2
        # extended gradients g_{i,c'} = d loss(f(x_i), y_{c'}) / dtheta, built as plain gradients
        self.g = jacrev(lambda t: -torch.log_softmax(logits(t), dim=-1))(theta)  # (N, C', p)
        self.w = self.P / N  # w_{i,c,c'} = p_{i,c,c'} / (nC)

    @cached_property
    def means(self):
        return extended_gradient_means(self.fn, self.data, progress=False)

    @cached_property
    def decomposition_of_dense_G(self):
        """The decomposition around the dense reference G (tests the low-rank parts alone)."""
        G = LinearOperator((self.fn.p, self.fn.p), lambda X: self.G @ X)
        return g_decomposition(G, self.means)


@pytest.fixture(scope="module", params=sorted(MODELS))
def prob(request) -> Problem:
    return Problem(request.param)


def dense_means(prob: Problem) -> tuple[torch.Tensor, torch.Tensor]:
    """g_{c,c'} (p, C, C) and w_{c,c'} (C, C) from per-example extended gradients."""
    p = prob.fn.p
    means, weights = torch.zeros(p, C, C, dtype=torch.float64), torch.zeros(C, C).double()
    for c in range(C):
        idx = prob.y == c
        weights[c] = prob.w[idx].sum(0)
        for d in range(C):
            means[:, c, d] = (prob.w[idx, d, None] * prob.g[idx, d]).sum(0) / weights[c, d]
    return means, weights


def outer_sum(vectors: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_k weights_k v_k v_k^T for vectors (p, K), weights (K,)."""
    return (vectors * weights) @ vectors.T


# ---- section 5: Hess, G, E products ----------------------------------------------------------

OPERATORS = {"hess": hessian_operator, "G": gauss_newton_operator, "E": residual_operator}


def test_conv_models_on_the_cpu_do_not_vmap_their_blocks():
    assert ModelFunction(mlp()).vectorize_blocks
    assert not ModelFunction(cnn()).vectorize_blocks


@pytest.mark.parametrize("vectorize", [True, False])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_products_equal_dense(prob, name, vectorize, monkeypatch):
    """Single and block products, vmapped over the block's vectors or one at a time (the
    CPU path of conv models), against the dense float64 references."""
    monkeypatch.setattr(ModelFunction, "vectorize_blocks", property(lambda self: vectorize))
    op = OPERATORS[name](prob.fn, prob.data)
    dense = {"hess": prob.hess, "G": prob.G, "E": prob.E}[name]
    gen = torch.Generator().manual_seed(1)
    v = torch.randn(prob.fn.p, generator=gen, dtype=torch.float64)
    V = torch.randn(prob.fn.p, 4, generator=gen, dtype=torch.float64)
    assert rel(op @ v, dense @ v) < TOL
    assert rel(op @ V, dense @ V) < TOL
    assert rel(op.to_dense(), dense) < TOL


def test_hess_is_g_plus_e(prob):
    assert rel(prob.G + prob.E, prob.hess) < TOL  # eq. 5.1 + eq. 5.2, dense
    hess = hessian_operator(prob.fn, prob.data).to_dense()
    summed = (gauss_newton_operator(prob.fn, prob.data)
              + residual_operator(prob.fn, prob.data)).to_dense()
    assert rel(summed, hess) < TOL


def test_g_is_weighted_second_moment_of_extended_gradients(prob):
    """G (5.1) = sum_{i,c'} w g g^T (6.2), with g from plain per-label gradients."""
    g = prob.g.reshape(-1, prob.fn.p).T  # (p, N C')
    assert rel(outer_sum(g, prob.w.reshape(-1)), prob.G) < TOL
    # and the extended gradient has the TRUE gradient sign: g_{i,c'} = J^T (p_i - e_{c'})
    J = jacrev(lambda t: prob.fn(t, prob.X))(prob.fn.theta)
    eye = torch.eye(C, dtype=torch.float64)
    formula = torch.einsum("ncp,ndc->ndp", J, prob.P[:, None, :] - eye[None])
    assert rel(formula, prob.g) < TOL


GROUPS = {"mlp": ["0.weight", "0.bias"], "cnn": lambda name, t: name.startswith("0.")}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_restriction_equals_dense_block(prob, name):
    kind = "mlp" if isinstance(prob.model[0], torch.nn.Linear) else "cnn"
    sub = ModelFunction(prob.model, GROUPS[kind])
    full = prob.fn.slices()
    idx = torch.cat([torch.arange(full[n].start, full[n].stop) for n in sub.names])
    assert len(sub.names) == 2 and sub.p == len(idx)
    dense = {"hess": prob.hess, "G": prob.G, "E": prob.E}[name]
    block = OPERATORS[name](sub, prob.data).to_dense()
    assert rel(block, dense[idx][:, idx]) < TOL


# ---- section 6: extended-gradient means and the G decomposition ------------------------------

def test_batched_means_equal_dense(prob):
    means = prob.means
    ref_means, ref_weights = dense_means(prob)
    assert means.means.shape == (prob.fn.p, C, C)
    assert rel(means.weights, ref_weights) < TOL
    assert abs(float(means.weights.sum()) - 1) < TOL
    assert rel(means.means, ref_means) < TOL
    off = ~torch.eye(C, dtype=torch.bool)
    w_c = (ref_weights * off).sum(1)
    g_c = torch.einsum("pcd,cd->pc", ref_means, ref_weights * off) / w_c
    assert rel(means.class_weights(), w_c) < TOL
    assert rel(means.class_means(), g_c) < TOL


def dense_components(prob: Problem) -> dict[str, torch.Tensor]:
    """The four terms of eq. 6.4 (corrected: docs/curvature.md), dense from per-example grads."""
    g_cd, w_cd = dense_means(prob)
    off = ~torch.eye(C, dtype=torch.bool)
    w_c = (w_cd * off).sum(1)
    g_c = torch.einsum("pcd,cd->pc", g_cd, w_cd * off) / w_c
    dev = prob.g - g_cd.permute(1, 2, 0)[prob.y]  # (N, C', p): g_{i,c,c'} - g_{c,c'}
    return {
        "class": outer_sum(g_c, w_c),
        "cross": outer_sum((g_cd - g_c[:, :, None])[:, off], w_cd[off]),
        "same": outer_sum(g_cd.diagonal(dim1=1, dim2=2), w_cd.diagonal()),
        "within": outer_sum(dev.reshape(-1, prob.fn.p).T, prob.w.reshape(-1)),
        "paper_cross": outer_sum((g_cd - g_c[:, None, :])[:, off], w_cd[off]),  # g_{c'}
    }


def test_g_decomposition_is_exact(prob):
    ref = dense_components(prob)
    assert rel(ref["class"] + ref["cross"] + ref["within"] + ref["same"], prob.G) < TOL
    dec = g_decomposition(gauss_newton_operator(prob.fn, prob.data), prob.means)
    for name in ("class", "cross", "within", "same"):
        assert rel(dec.component(name).to_dense(), ref[name]) < TOL, name
    total = dec.class_ + dec.cross + dec.within + dec.same
    assert rel(total.to_dense(), prob.G) < TOL


def test_paper_cross_term_breaks_the_identity(prob):
    """The printed G_cross,c (with g_{c'}) leaves a residual of order 1 (docs/curvature.md)."""
    ref = dense_components(prob)
    printed = ref["class"] + ref["paper_cross"] + ref["within"] + ref["same"]
    assert rel(printed, prob.G) > 0.1  # of order 1 (about 0.8 for these models)


def test_component_ranks(prob):
    dec = prob.decomposition_of_dense_G
    bounds = {"class": C, "cross": C * (C - 2), "same": C}
    for name, bound in bounds.items():
        part = dec.component(name)
        dense_rank = int(torch.linalg.matrix_rank(part.to_dense(), hermitian=True))
        assert part.range_basis().shape[1] == dense_rank <= bound, name
    # G_cross has C(C-1) factor columns but C linear constraints: the bound is attained
    assert dec.cross.U.shape[1] == C * (C - 1) and dec.cross.range_basis().shape[1] == C * (C - 2)


def test_knockouts(prob):
    dec = prob.decomposition_of_dense_G
    eye = torch.eye(prob.fn.p, dtype=torch.float64)
    for name in ("class", "cross", "same"):
        B = dec.component(name).to_dense()
        assert rel(dec.knockout(name, "subtraction").to_dense(), prob.G - B) < TOL
        U, s, _ = torch.linalg.svd(B)
        U = U[:, s > 1e-12 * s[0]]  # independent rank-revealing basis of range(B)
        proj = eye - U @ U.T
        assert rel(dec.knockout(name, "projection").to_dense(), proj @ prob.G @ proj) < TOL
        # the knocked-out matrix no longer sees range(B)
        assert float(torch.linalg.norm(dec.knockout(name, "projection") @ U)) < TOL
    assert rel(dec.knockout("within").to_dense(), prob.G - dec.within.to_dense()) < TOL
    with pytest.raises(UserError, match="not low-rank"):
        dec.knockout("within", "projection")


def test_g_same_spans_the_class_means(prob):
    """sum_{c'} w_{i,c,c'} g_{i,c,c'} = J^T (p - p) / (nC) = 0 for every example, so
    w_c g_c = -w_{c,c} g_{c,c}: G_{c=c'} and G_class have the same range (rank C), and their
    projection knockouts are one matrix while both keep all C directions above the rank cut
    (here they do; a saturated softmax breaks it: test_claims)."""
    means = prob.means
    same = means.means.diagonal(dim1=1, dim2=2) * means.weights.diagonal()  # w_cc g_cc
    assert rel(means.class_means() * means.class_weights(), -same) < TOL
    dec = prob.decomposition_of_dense_G
    assert rel(dec.knockout("same", "projection").to_dense(),
               dec.knockout("class", "projection").to_dense()) < TOL


# ---- rank decisions against the scale of G (C = 2: G_cross is zero) ------------------------

def decomposition_for(num_classes: int):
    """(dense G, decomposition around it) for a tiny MLP with `num_classes` outputs (seed 4,
    7 examples per class: for C = 2 the G_cross factor is round-off of 1e-16, not exactly 0,
    and the factor's own scale gave it rank 1)."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(),
                                torch.nn.Linear(6, num_classes)).double()
    y = torch.arange(num_classes).repeat_interleave(7)
    data = LabeledData(torch.randn(len(y), 4, dtype=torch.float64), y, batch_size=BATCH)
    fn = ModelFunction(model)
    G = gauss_newton_operator(fn, data)
    return G.to_dense(), g_decomposition(G, extended_gradient_means(fn, data, progress=False))


@pytest.mark.parametrize("num_classes", [2, 3, 4])
def test_cross_rank_is_c_times_c_minus_2(num_classes):
    G, dec = decomposition_for(num_classes)
    scale = float(torch.linalg.matrix_norm(G, ord=2))
    assert dec.cross.range_basis(scale=scale).shape[1] == num_classes * (num_classes - 2)


@pytest.mark.parametrize("num_classes", [2, 3, 4])
def test_a_direct_rank_call_judges_against_g(num_classes):
    """A part's own range_basis(), no scale passed, judges its rank against ||G|| as the
    knockouts do: C = 2 gives G_cross rank 0 (C(C-2)), not the rank of its round-off factor
    (1 against the factor's own scale)."""
    _, dec = decomposition_for(num_classes)
    assert dec.cross.range_basis().shape[1] == num_classes * (num_classes - 2)
    assert dec.class_.range_basis().shape[1] == dec.same.range_basis().shape[1] == num_classes


def test_projection_knockouts_for_two_classes():
    """C = 2: G_cross is round-off, so its projection knockout leaves G unchanged; the other
    knockouts match their dense references."""
    G, dec = decomposition_for(2)
    assert rel(dec.knockout("cross", "projection").to_dense(), G) < TOL
    eye = torch.eye(G.shape[0], dtype=torch.float64)
    for name in ("class", "same"):
        B = dec.component(name).to_dense()
        lam, Z = torch.linalg.eigh(B)
        U = Z[:, lam.abs() > 1e-12 * float(torch.linalg.matrix_norm(G, ord=2))]
        assert 1 <= U.shape[1] <= 2, name
        proj = eye - U @ U.T
        assert rel(dec.knockout(name, "projection").to_dense(), proj @ G @ proj) < TOL, name
        assert rel(dec.knockout(name, "subtraction").to_dense(), G - B) < TOL, name
    assert rel(dec.knockout("cross", "subtraction").to_dense(), G) < TOL
    assert rel(dec.knockout("within").to_dense(), G - dec.within.to_dense()) < TOL


def dense_within_traces(prob: Problem) -> torch.Tensor:
    """Tr G_within,c (C,): the class-c terms of G_within, dense from per-example gradients."""
    g_cd, _ = dense_means(prob)
    dev = prob.g - g_cd.permute(1, 2, 0)[prob.y]  # (N, C', p)
    per_example = (prob.w[:, :, None] * dev.square()).sum(dim=(1, 2))  # (N,)
    return torch.zeros(C, dtype=torch.float64).index_add_(0, prob.y, per_example)


def test_per_class_within_traces_are_exact(prob):
    traces = class_gradient_traces(prob.fn, prob.data, progress=False)
    got = prob.means.within_traces(traces)
    want = dense_within_traces(prob)
    assert rel(got, want) < TOL
    assert abs(float(got.sum()) - float(torch.trace(dense_components(prob)["within"]))) < (
        TOL * float(want.sum()))
    # chunks of one example give the same numbers
    one = class_gradient_traces(prob.fn, prob.data, max_floats=1, progress=False)
    assert rel(one, traces) < TOL


@pytest.mark.parametrize(("classes", "per_class"), [(2, 1), (2, 3), (3, 1)])
def test_within_traces_for_two_classes_and_one_sample_per_class(classes, per_class):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, classes)).double()
    X = torch.randn(classes * per_class, 3, dtype=torch.float64)
    y = torch.arange(classes).repeat_interleave(per_class)
    fn, data = ModelFunction(model), LabeledData(X, y, batch_size=2)
    means = extended_gradient_means(fn, data, progress=False)
    traces = class_gradient_traces(fn, data, progress=False)
    got = means.within_traces(traces)
    g = jacrev(lambda t: -torch.log_softmax(fn(t, X), dim=-1))(fn.theta)  # (N, C', p)
    w = torch.softmax(fn(fn.theta, X), dim=-1).detach() / len(y)
    g_cd = means.means.permute(1, 2, 0)[y]  # (N, C', p): g_{c,c'} of each example's class
    want = torch.zeros(classes, dtype=torch.float64).index_add_(
        0, y, (w[:, :, None] * (g - g_cd).square()).sum(dim=(1, 2)))
    scale = float(traces.max())  # round-off of the difference T_c - sum w ||g_{c,c'}||^2
    assert float((got - want).abs().max()) < TOL * scale
    if per_class == 1:  # one example per class: it is its own mean, G_within = 0
        assert float(got.abs().max()) < TOL * scale
