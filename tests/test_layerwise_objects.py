"""Dense float64 checks of the layer-wise objects of a tiny MLP (docs/layerwise.md).

References are built independently of crossclass.layerwise: per-example errors by torch.func.jacrev
of the network tail, the full-model Jacobian by jacrev over the parameters, and every moment by
explicit loops over (i, c, c'). Exact identities are checked at 1e-10 relative (Frobenius).
"""

import pytest
import torch
from crossclass.curvature import LabeledData
from crossclass.errors import UserError
from crossclass.layerwise import (
    analyse,
    capture,
    cfac,
    error_stats,
    feature_stats,
    kfac,
    khatri_rao_quality,
    layer_dataset,
    layer_g,
    weight_stats,
)
from crossclass.stores import read_store, write_store
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

C, N_PER, D_IN = 3, 4, 5
CASES = [(False, True), (True, False), (True, True)]  # (batchnorm, bias)


def rel(a, b):
    return float((torch.linalg.norm(a - b) / torch.linalg.norm(b)).detach())


def make_mlp(bn: bool, bias: bool, seed: int = 0) -> nn.Sequential:
    """5 -> 6 -> 4 -> C, ReLU, optional eval-mode BatchNorm with random statistics."""
    g = torch.Generator().manual_seed(seed)
    widths, mods = [D_IN, 6, 4], []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        mods.append(nn.Linear(a, b, bias=bias))
        if bn:
            norm = nn.BatchNorm1d(b)
            norm.running_mean = torch.randn(b, generator=g)
            norm.running_var = torch.rand(b, generator=g) + 0.5
            mods.append(norm)
        mods.append(nn.ReLU())
    mods.append(nn.Linear(widths[-1], C, bias=bias))
    model = nn.Sequential(*mods).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.6 * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return model.eval()


def make_data(n_per: int = N_PER, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat(n_per)[torch.randperm(C * n_per, generator=g)]
    X = torch.randn(C * n_per, D_IN, generator=g, dtype=torch.float64) + y[:, None]
    return X, y


def grouped(X, y):
    """Examples of class c in input order: X_c (C, n, D_IN)."""
    return torch.stack([X[y == c] for c in range(C)])


def reference_layer(model, k, Xc):
    """h^{l-1} (C, n, d_in) and delta^l (C, n, C, d_out) of the Linear at index k, per example:
    delta[c, i, t] = d(-log softmax(tail(z))_t)/dz by jacrev of the network tail."""
    head, lin, tail = model[:k], model[k], model[k + 1:]
    h = head(Xc.reshape(-1, D_IN)).detach()
    z = lin(h).detach()

    def losses(zz):
        return -torch.log_softmax(tail(zz[None])[0], dim=-1)      # loss for every target t

    d = vmap(jacrev(losses))(z).detach()
    return h.reshape(C, Xc.shape[1], -1), d.reshape(C, Xc.shape[1], C, -1)


def linear_indices(model):
    return [k for k, m in enumerate(model) if isinstance(m, nn.Linear)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"bn{int(c[0])}-bias{int(c[1])}")
def setup(request):
    bn, bias = request.param
    model = make_mlp(bn, bias)
    X, y = make_data()
    cap = capture(model, LabeledData(X, y, batch_size=5), progress=False)
    refs = {str(k): reference_layer(model, k, grouped(X, y)) for k in linear_indices(model)}
    return model, X, y, cap, refs


def test_capture_matches_per_example_jacrev(setup):
    model, X, y, cap, refs = setup
    assert list(cap.layers) == list(refs)
    p_ref = torch.softmax(model(grouped(X, y).reshape(-1, D_IN)), -1).reshape(C, N_PER, C)
    for name, (h, d) in refs.items():
        lc = cap.layers[name]
        assert rel(lc.h, h) < 1e-12 and rel(lc.delta, d) < 1e-10
        assert rel(lc.p, p_ref.detach()) < 1e-12


def test_feature_moments_match_definitions_and_identities(setup):
    *_, cap, refs = setup
    for name, (h, _) in refs.items():
        fs = feature_stats(cap.layers[name].h)
        d = h.shape[-1]
        H, H_c = torch.zeros(d, d, dtype=h.dtype), torch.zeros(C, d, d, dtype=h.dtype)
        means = h.mean(1)
        H_class, H_within = torch.zeros_like(H), torch.zeros_like(H)
        for c in range(C):
            H_class += torch.outer(means[c], means[c]) / C
            for i in range(N_PER):
                H += torch.outer(h[c, i], h[c, i]) / (N_PER * C)
                H_c[c] += torch.outer(h[c, i], h[c, i]) / N_PER
                H_within += torch.outer(h[c, i] - means[c], h[c, i] - means[c]) / (N_PER * C)
        for got, want in [(fs.H, H), (fs.H_c, H_c), (fs.H_class, H_class),
                          (fs.H_within, H_within), (fs.means, means)]:
            assert rel(got, want) < 1e-12
        assert rel(fs.H_class + fs.H_within, fs.H) < 1e-10       # exact: H = H_class + H_within
        assert rel(fs.H_c.mean(0), fs.H) < 1e-10                 # exact: H = Ave_c H_c


def test_error_moments_match_definitions_and_identities(setup):
    *_, cap, refs = setup
    for name, (_, dl) in refs.items():
        lc = cap.layers[name]
        es = error_stats(lc.delta, lc.p)
        w = lc.p / (N_PER * C)
        d = dl.shape[-1]
        Delta, Dclass, Dcross, Dwithin, Dsame = (torch.zeros(d, d, dtype=torch.float64)
                                                for _ in range(5))
        Delta_c = torch.zeros(C, d, d, dtype=torch.float64)
        w_cc = torch.zeros(C, C, dtype=torch.float64)
        m_cc = torch.zeros(C, C, d, dtype=torch.float64)
        for c in range(C):
            for t in range(C):
                for i in range(N_PER):
                    w_cc[c, t] += w[c, i, t]
                    m_cc[c, t] += w[c, i, t] * dl[c, i, t]
                    Delta += w[c, i, t] * torch.outer(dl[c, i, t], dl[c, i, t])
                    Delta_c[c] += C * w[c, i, t] * torch.outer(dl[c, i, t], dl[c, i, t])
                m_cc[c, t] /= w_cc[c, t]
        w_c = torch.stack([sum(w_cc[c, t] for t in range(C) if t != c) for c in range(C)])
        m_c = torch.stack([sum(w_cc[c, t] / w_c[c] * m_cc[c, t] for t in range(C) if t != c)
                           for c in range(C)])
        for c in range(C):
            Dclass += w_c[c] * torch.outer(m_c[c], m_c[c])
            Dsame += w_cc[c, c] * torch.outer(m_cc[c, c], m_cc[c, c])
            for t in range(C):
                if t != c:   # ERRATUM: centred on delta_c, not delta_{c'}
                    Dcross += w_cc[c, t] * torch.outer(m_cc[c, t] - m_c[c], m_cc[c, t] - m_c[c])
                for i in range(N_PER):
                    e = dl[c, i, t] - m_cc[c, t]
                    Dwithin += w[c, i, t] * torch.outer(e, e)
        for got, want in [(es.Delta, Delta), (es.Delta_c, Delta_c), (es.w_cc, w_cc),
                          (es.delta_cc, m_cc), (es.w_c, w_c), (es.delta_c, m_c),
                          (es.Delta_class, Dclass), (es.Delta_cross, Dcross),
                          (es.Delta_within, Dwithin), (es.Delta_same, Dsame)]:
            assert rel(got, want) < 1e-10
        parts = es.Delta_class + es.Delta_cross + es.Delta_within + es.Delta_same
        assert rel(parts, es.Delta) < 1e-10                      # exact 4-term decomposition
        assert rel(es.Delta_c.mean(0), es.Delta) < 1e-10         # exact: Ave_c Delta_c = Delta
    # last layer: sum_{c'} p delta delta^T = diag(p) - p p^T for every example
    last = cap.layers[list(cap.layers)[-1]]
    lhs = torch.einsum("cik,cikd,cike->cide", last.p, last.delta, last.delta)
    rhs = torch.diag_embed(last.p) - torch.einsum("cid,cie->cide", last.p, last.p)
    assert rel(lhs, rhs) < 1e-10


def dense_G_blocks(model, X, y):
    """Weight blocks of G = Ave J^T (diag p - p p^T) J (row-major vec of each W)."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    Xs = grouped(X, y).reshape(-1, D_IN)

    def logits(ps):
        return functional_call(model, ps, (Xs,))

    J = jacrev(logits)(params)
    p = torch.softmax(logits(params), -1).detach()
    A = torch.diag_embed(p) - torch.einsum("nc,nd->ncd", p, p)
    blocks = {}
    for k in linear_indices(model):
        Jw = J[f"{k}.weight"].reshape(Xs.shape[0], C, -1)
        blocks[str(k)] = torch.einsum("ncp,ncd,ndq->pq", Jw, A, Jw) / Xs.shape[0]
    return blocks, J, p


def test_layer_g_is_the_layer_block_of_G(setup):
    model, X, y, cap, _ = setup
    blocks, *_ = dense_G_blocks(model, X, y)
    for name, block in blocks.items():
        G = layer_g(cap.layers[name]).to_dense(chunk=7)
        assert rel(G, block) < 1e-10
        assert rel(G, G.T) < 1e-12


def test_cfac_exact_with_one_example_per_class():
    """n = 1: H_c = h h^T and Delta_c = sum_{c'} p delta delta^T, so Ave_c H_c (x) Delta_c is
    G^l term by term; KFAC mixes features of one class with errors of another and differs."""
    model = make_mlp(True, True, seed=3)
    X, y = make_data(n_per=1, seed=4)
    cap = capture(model, LabeledData(X, y, batch_size=256), progress=False)
    for lc in cap.layers.values():
        fs, es = feature_stats(lc.h), error_stats(lc.delta, lc.p)
        G = layer_g(lc).to_dense()
        assert rel(cfac(fs.H_c, es.Delta_c).to_dense(), G) < 1e-10
        assert rel(kfac(fs.H, es.Delta).to_dense(), G) > 1e-3


def test_weights_stationarity_and_class_split(setup):
    model, X, y, cap, refs = setup
    eta = 0.37
    params = {k: v.detach() for k, v in model.named_parameters()}

    def objective(ps):
        loss = nn.functional.cross_entropy(functional_call(model, ps, (X,)), y)
        return loss + eta / 2 * sum((v ** 2).sum() for v in ps.values())

    grads = grad(objective)(params)
    for name, (h, dl) in refs.items():
        ws = weight_stats(cap.layers[name], eta)
        diag = torch.arange(C)
        d_true = dl[diag, :, diag]                                   # (C, n, d_out)
        W_stat = -sum(torch.outer(d_true[c, i], h[c, i]) for c in range(C)
                      for i in range(N_PER)) / (N_PER * C * eta)
        assert rel(ws.W_stat, W_stat) < 1e-10
        assert rel(ws.W, ws.W_stat + grads[f"{name}.weight"] / eta) < 1e-10   # exact
        assert rel(ws.residual, grads[f"{name}.weight"] / eta) < 1e-10
        assert abs(float(ws.grad_norm) - float(torch.linalg.norm(grads[f"{name}.weight"]))) \
            < 1e-10 * float(ws.grad_norm)
        assert rel(ws.W_class + ws.W_within, ws.W_stat) < 1e-10                # exact
        if ws.b is not None:
            assert rel(ws.b, ws.b_stat + grads[f"{name}.bias"] / eta) < 1e-10
        else:
            assert f"{name}.bias" not in grads


def test_khatri_rao_quality_against_jacobian_gradient_means(setup):
    model, X, y, cap, _ = setup
    _, J, p = dense_G_blocks(model, X, y)
    p = p.reshape(C, N_PER, C)
    w = p / (N_PER * C)
    for name, lc in cap.layers.items():
        Jw = J[f"{name}.weight"].reshape(C, N_PER, C, *lc.weight.shape)
        # g_{i,c,c'} = J^T (p - e_{c'}) for the weight block, (C, n, C, d_out, d_in)
        g_true = torch.einsum("cik,cikoj->cioj", p, Jw)[:, :, None] - Jw
        w_cc = w.sum(1)
        g_cc = torch.einsum("cik,cikoj->ckoj", w, g_true) / w_cc[..., None, None]
        fs, es = feature_stats(lc.h), error_stats(lc.delta, lc.p)
        kr = khatri_rao_quality(lc)
        for c in range(C):
            others = [t for t in range(C) if t != c]
            w_c = w_cc[c, others].sum()
            g_c = sum(w_cc[c, t] / w_c * g_cc[c, t] for t in others)
            B = torch.outer(es.delta_c[c], fs.means[c])
            assert abs(float(kr.cos_c[c]) - float((g_c * B).sum() / g_c.norm() / B.norm())) < 1e-10
            assert abs(float(kr.rel_err_c[c]) - rel(B, g_c)) < 1e-10
            for t in range(C):
                B = torch.outer(es.delta_cc[c, t], fs.means[c])
                A = g_cc[c, t]
                assert abs(float(kr.cos_cc[c, t]) - float((A * B).sum() / A.norm() / B.norm())) \
                    < 1e-10
                assert abs(float(kr.rel_err_cc[c, t]) - float((A - B).norm() / A.norm())) < 1e-10


def test_analyse_and_layer_dataset(setup, tmp_path):
    model, X, y, cap, _ = setup
    results = analyse(cap, eta=0.1, progress=False)
    assert list(results) == list(cap.layers)
    for name, a in results.items():
        ds = layer_dataset(a)
        lc = cap.layers[name]
        d_out, d_in = lc.weight.shape
        assert ds.sizes["feature"] == ds.sizes["feature_b"] == d_in
        assert ds.sizes["error"] == ds.sizes["error_b"] == d_out
        assert ds.sizes["class"] == C and ds.sizes["kfac_eig"] == d_in * d_out
        assert ds["Delta_c"].dims == ("class", "error", "error_b")
        assert ds["W"].dims == ("error", "feature")
        assert torch.allclose(torch.from_numpy(ds["H"].values), a.features.H)
        assert ("b" in ds) == (lc.bias is not None)
    back = read_store(write_store(ds, tmp_path / "layer.zarr", keys={"layer": name}))
    assert torch.allclose(torch.from_numpy(back["Delta_c"].values), a.errors.Delta_c)
    # self-duality only where the layer produces the logits
    assert cap.logits_layer == list(cap.layers)[-1]
    *first, last = results.values()
    assert all(torch.isnan(a.collapse.self_duality) for a in first)
    assert torch.isfinite(last.collapse.self_duality)


def test_bad_input_is_a_user_error():
    model = make_mlp(False, True)
    X, y = make_data()
    with pytest.raises(UserError, match="balanced"):
        capture(model, LabeledData(X[1:], y[1:], batch_size=256), progress=False)
    with pytest.raises(UserError, match="eval mode"):
        capture(model.train(), LabeledData(X, y, batch_size=256), progress=False)
    model.eval()
    with pytest.raises(UserError, match="no nn.Linear layer named"):
        capture(model, LabeledData(X, y, batch_size=256), layers=["nope"], progress=False)
    with pytest.raises(UserError, match="positive"):
        cap = capture(model, LabeledData(X, y, batch_size=256), progress=False)
        weight_stats(cap.layers["0"], 0.0)
