"""Conv2d layers (KFC view): the exact G^l block against torch.func, the pooled statistics'
identities, and KFAC / CFAC exact when the independence and spatial assumptions hold by
construction (and not when spatial correlation breaks them)."""

import itertools

import pytest
import torch
from crossclass.curvature import LabeledData
from crossclass.layerwise import cfac, error_stats, feature_stats, kfac
from crossclass.layerwise.conv import ConvCapture, capture_conv, conv_g, pooled
from torch import nn
from torch.func import functional_call, jacrev

C = 3


def dense(op):
    return op.matmat(torch.eye(op.shape[0], dtype=torch.float64))


def rel(a, b):
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def tiny_net(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=True), nn.ReLU(),
                        nn.Conv2d(3, 2, 2, stride=2, bias=False), nn.ReLU(), nn.Flatten(),
                        nn.Linear(2 * 2 * 2, C))
    return net.double().eval()


def data(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat_interleave(n)
    return torch.randn(C * n, 2, 4, 4, generator=g, dtype=torch.float64), y


def dense_layer_g(net, layer, X):
    """G^l = Ave_i J_i^T (diag p_i - p_i p_i^T) J_i for the weight of `layer`, by torch.func."""
    params = dict(net.named_parameters())
    name = f"{layer}.weight"

    def logits(w, x):
        return functional_call(net, {**params, name: w}, (x[None],))[0]

    G = torch.zeros(params[name].numel(), params[name].numel(), dtype=torch.float64)
    for x in X:
        out = logits(params[name].detach(), x)
        J = jacrev(logits)(params[name].detach(), x).reshape(out.numel(), -1).detach()
        p = torch.softmax(out, dim=0).detach()
        G += J.T @ (torch.diag(p) - torch.outer(p, p)) @ J / X.shape[0]
    return G


@pytest.mark.parametrize("layer", ["0", "2"])
def test_conv_g_is_the_weight_block_of_G(layer):
    net, (X, y) = tiny_net(), data()
    cap = capture_conv(net, LabeledData(X, y, batch_size=256), layers=[layer],
                       progress=False)[layer]
    assert rel(dense(conv_g(cap)), dense_layer_g(net, layer, X)) < 1e-10


@pytest.mark.parametrize("layer", ["stem.0", "layers.2.conv1", "layers.2.shortcut.0"])
def test_resnet18_conv_blocks_are_the_weight_blocks_of_G(layer):
    """ResNet18 (width 1/16, BatchNorm in eval mode): the stem, a strided 3x3 conv and a 1x1
    strided shortcut; G^l of the capture and of the streamed probes both equal torch.func's."""
    from crossclass.layerwise.streaming import stream_layer
    from crossclass.nets import resnet18

    torch.manual_seed(0)
    net = resnet18((1, 32, 32), 2, width=1 / 16).double().eval()
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4, 1, 32, 32, generator=g, dtype=torch.float64)
    split = LabeledData(X, torch.tensor([0, 1, 0, 1]), batch_size=3)
    G = dense_layer_g(net, layer, X)
    cap = capture_conv(net, split, layers=[layer], progress=False)[layer]
    assert rel(dense(conv_g(cap)), G) < 1e-10
    a = stream_layer(net, split, layer, probes=G.shape[0], progress=False)  # probes V = I
    assert a.kfac_rel_err == pytest.approx(rel(dense(kfac(a.features.H, a.errors.Delta)), G),
                                           rel=1e-9)


def test_capture_gives_the_loss_gradient_and_shapes():
    net, (X, y) = tiny_net(1), data(n=1, seed=1)            # one example per class
    cap = capture_conv(net, LabeledData(X, y, batch_size=256), layers=["2"], progress=False)["2"]
    assert cap.h.shape == (C, 1, 4, 12) and cap.delta.shape == (C, 1, C, 4, 2)
    loss = nn.functional.cross_entropy(net(X), y)
    grad = torch.autograd.grad(loss, net[2].weight)[0].reshape(2, -1)
    diag = torch.arange(C)
    g = torch.einsum("cnlo,cnli->oi", cap.delta[diag, :, diag], cap.h) / C
    assert rel(g, grad) < 1e-12


def test_pooled_statistics_are_the_kfc_factors_with_exact_identities():
    net, (X, y) = tiny_net(2), data(n=3, seed=2)
    cap = capture_conv(net, LabeledData(X, y, batch_size=256), layers=["0"], progress=False)["0"]
    L = cap.h.shape[2]
    fs, es = feature_stats(pooled(cap).h), error_stats(pooled(cap).delta, pooled(cap).p)
    H = torch.einsum("cnli,cnlj->ij", cap.h, cap.h) / (C * cap.h.shape[1])
    w = cap.p / cap.p[..., :1].numel()
    Delta = torch.einsum("cnj,cnjlo,cnjlq->oq", w, cap.delta, cap.delta) / L
    assert rel(fs.H, H) < 1e-12 and rel(es.Delta, Delta) < 1e-12
    assert rel(fs.H_class + fs.H_within, fs.H) < 1e-12
    assert rel(es.Delta_class + es.Delta_cross + es.Delta_within + es.Delta_same, es.Delta) < 1e-12
    assert rel(es.Delta_c.mean(0), es.Delta) < 1e-12


def grid(shared: bool, spatial_corr: bool = False, seed: int = 0) -> ConvCapture:
    """Example i = (a, s, k): patches u_a (L, d_in); errors eps_{s,l} f_{k,c'} with s every sign
    pattern over the L locations (SUD: sum_s eps_l eps_l' = 0, SH: eps_l^2 = 1) and p = q_k.
    spatial_corr: eps_{s,l} = eps_{s,1} for every l (SUD fails). Per class (shared=False) or
    one grid for all classes."""
    L, d_in, d_out, A, K = 2, 3, 2, 2, 2
    g = torch.Generator().manual_seed(seed)
    kw = dict(generator=g, dtype=torch.float64)
    k = 1 if shared else C
    u = torch.randn(k, A, L, d_in, **kw)
    f = torch.randn(k, K, C, d_out, **kw)
    q = torch.softmax(torch.randn(k, K, C, **kw), dim=-1)
    signs = torch.tensor(list(itertools.product([1.0, -1.0], repeat=L)), dtype=torch.float64)
    if spatial_corr:
        signs = signs[:, :1].expand(-1, L)
    S = signs.shape[0]
    u, f, q = (t.expand(C, *t.shape[1:]) for t in (u, f, q))
    h = u[:, :, None, None].expand(C, A, S, K, L, d_in).reshape(C, A * S * K, L, d_in)
    delta = torch.einsum("sl,ckjo->cskjlo", signs, f)             # (C, S, K, C, L, d_out)
    delta = delta[:, None].expand(C, A, S, K, C, L, d_out).reshape(C, A * S * K, C, L, d_out)
    p = q[:, None, None].expand(C, A, S, K, C).reshape(C, A * S * K, C)
    return ConvCapture(h=h.contiguous(), delta=delta.contiguous(), p=p.contiguous(),
                       weight=torch.zeros(d_out, d_in, dtype=torch.float64), bias=None)


def approximations(cap):
    pc = pooled(cap)
    fs, es = feature_stats(pc.h), error_stats(pc.delta, pc.p)
    return dense(kfac(fs.H, es.Delta)), dense(cfac(fs.H_c, es.Delta_c))


def test_kfac_and_cfac_exact_under_iad_sud_sh():
    cap = grid(shared=True)
    K, Cf = approximations(cap)
    G = dense(conv_g(cap))
    assert rel(K, G) < 1e-12 and rel(Cf, G) < 1e-12


def test_cfac_exact_within_classes_only():
    cap = grid(shared=False, seed=1)
    K, Cf = approximations(cap)
    G = dense(conv_g(cap))
    assert rel(Cf, G) < 1e-12 and rel(K, G) > 1e-2


def test_spatially_correlated_errors_break_kfac():
    cap = grid(shared=True, spatial_corr=True, seed=2)
    K, Cf = approximations(cap)
    G = dense(conv_g(cap))
    assert rel(K, G) > 1e-2 and rel(Cf, G) > 1e-2


def test_conv_weights_residual_is_the_regularised_gradient():
    from crossclass.layerwise.conv import conv_weight_stats

    net, (X, y) = tiny_net(3), data(n=2, seed=3)
    eta = 0.01
    cap = capture_conv(net, LabeledData(X, y, batch_size=256), layers=["0"], progress=False)["0"]
    ws = conv_weight_stats(cap, eta)
    conv = net[0]
    loss = nn.functional.cross_entropy(net(X), y) + eta / 2 * (
        conv.weight.square().sum() + conv.bias.square().sum())
    gw, gb = torch.autograd.grad(loss, [conv.weight, conv.bias])
    assert rel(ws.residual, gw.reshape(3, -1).detach() / eta) < 1e-10
    assert rel(ws.b_residual, gb.detach() / eta) < 1e-10
    assert rel(ws.W_class + ws.W_within, ws.W_stat) < 1e-12


def test_analyse_conv_layer_dataset():
    from crossclass.layerwise import analyse_conv, layer_dataset

    net, (X, y) = tiny_net(4), data(n=2, seed=4)
    cap = capture_conv(net, LabeledData(X, y, batch_size=256), layers=["2"], progress=False)["2"]
    ds = layer_dataset(analyse_conv("2", cap, eta=5e-4, probes=24))   # p = 24: exact errors
    assert ds.sizes["feature"] == 12 and ds.sizes["error"] == 2
    K, Cf = approximations(cap)
    G = dense(conv_g(cap))
    assert abs(float(ds["kfac_rel_err"]) - rel(K, G)) < 1e-10
    assert abs(float(ds["cfac_rel_err"]) - rel(Cf, G)) < 1e-10
    assert float(ds["grad_norm"]) > 0 and ds["W"].shape == (2, 12)
