"""G^l, KFAC^l and CFAC^l on constructed captures where the Kronecker factorisations are exact.

Row-major vec of W[out, in]: g = kron(delta, h), so H (x) Delta (paper order) is kron(Delta, H).
Construction ("product grid"): within a class, example i = (a, b) with h_i = u_a and
(delta_{i,.}, p_i) = (v_b, q_b). Then sum_{i,c'} w (h h^T) kron (delta delta^T) splits into
(Ave_a u_a u_a^T) kron (sum_{b,c'} q v v^T / n_b): h and delta are uncorrelated under w.
 * the same grid in every class: independence under all of w, so KFAC = CFAC = G^l exactly;
 * a different grid per class: independence only within each class, so CFAC = G^l exactly
   while KFAC pairs features of one class with errors of another and is not G^l.
"""

import torch
from crossclass.layerwise import (
    LayerCapture,
    cfac,
    error_stats,
    feature_stats,
    kfac,
    kfac_spectrum,
    layer_g,
    relative_errors,
)
from crossclass.linalg import DenseOperator

C, A, B, D_IN, D_OUT = 3, 3, 2, 4, 5


def rel(a, b):
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def grid_capture(shared: bool, seed: int = 0) -> LayerCapture:
    g = torch.Generator().manual_seed(seed)
    kw = dict(generator=g, dtype=torch.float64)
    k = 1 if shared else C
    u = torch.randn(k, A, D_IN, **kw)                      # features, one set per class
    v = torch.randn(k, B, C, D_OUT, **kw)                  # errors for every target c'
    q = torch.softmax(torch.randn(k, B, C, **kw), dim=-1)  # softmax outputs
    u, v, q = (t.expand(C, *t.shape[1:]) for t in (u, v, q))
    h = u[:, :, None].expand(C, A, B, D_IN).reshape(C, A * B, D_IN)
    delta = v[:, None].expand(C, A, B, C, D_OUT).reshape(C, A * B, C, D_OUT)
    p = q[:, None].expand(C, A, B, C).reshape(C, A * B, C)
    return LayerCapture(h=h.contiguous(), delta=delta.contiguous(), p=p.contiguous(),
                        weight=torch.zeros(D_OUT, D_IN, dtype=torch.float64), bias=None)


def dense_G(cap: LayerCapture) -> torch.Tensor:
    """sum_{i,c,c'} w kron(delta delta^T, h h^T) by explicit loops."""
    C_, n, _ = cap.h.shape
    G = torch.zeros(D_OUT * D_IN, D_OUT * D_IN, dtype=torch.float64)
    for c in range(C_):
        for i in range(n):
            hh = torch.outer(cap.h[c, i], cap.h[c, i])
            for t in range(C_):
                dd = torch.outer(cap.delta[c, i, t], cap.delta[c, i, t])
                G += cap.p[c, i, t] / (n * C_) * torch.kron(dd, hh)
    return G


def factors(cap):
    return feature_stats(cap.h), error_stats(cap.delta, cap.p)


def test_layer_g_matches_explicit_kronecker_sum():
    cap = grid_capture(shared=False)
    assert rel(layer_g(cap).to_dense(chunk=6), dense_G(cap)) < 1e-12


def test_kfac_and_cfac_exact_when_independent_under_all_weights():
    cap = grid_capture(shared=True)
    fs, es = factors(cap)
    G = layer_g(cap).to_dense()
    assert rel(kfac(fs.H, es.Delta).to_dense(), G) < 1e-10
    assert rel(cfac(fs.H_c, es.Delta_c).to_dense(), G) < 1e-10


def test_cfac_exact_when_independent_within_classes_only():
    cap = grid_capture(shared=False)
    fs, es = factors(cap)
    G = layer_g(cap).to_dense()
    assert rel(cfac(fs.H_c, es.Delta_c).to_dense(), G) < 1e-10
    assert rel(kfac(fs.H, es.Delta).to_dense(), G) > 1e-2


def test_operators_match_dense_kronecker_products():
    g = torch.Generator().manual_seed(5)
    kw = dict(generator=g, dtype=torch.float64)
    Hc = torch.randn(C, D_IN, D_IN, **kw)
    Hc = Hc @ Hc.transpose(1, 2)
    Dc = torch.randn(C, D_OUT, D_OUT, **kw)
    Dc = Dc @ Dc.transpose(1, 2)
    V = torch.randn(D_IN * D_OUT, 3, **kw)
    dense_cfac = sum(torch.kron(Dc[c], Hc[c]) for c in range(C)) / C
    assert rel(cfac(Hc, Dc).matmat(V), dense_cfac @ V) < 1e-12
    assert rel(cfac(Hc, Dc) @ V[:, 0], dense_cfac @ V[:, 0]) < 1e-12
    assert rel(kfac(Hc[0], Dc[0]).matmat(V), torch.kron(Dc[0], Hc[0]) @ V) < 1e-12


def test_kfac_spectrum_is_products_of_factor_eigenvalues():
    cap = grid_capture(shared=False, seed=2)
    fs, es = factors(cap)
    dense = torch.linalg.eigvalsh(torch.kron(es.Delta, fs.H)).flip(0)
    # eigvalsh of the dense product is backward stable: error <= ~p eps |lambda|_max
    assert float((kfac_spectrum(fs.H, es.Delta) - dense).abs().max()) < 1e-12 * float(dense[0])


def test_relative_errors_exact_for_small_blocks_and_zero_when_exact():
    cap = grid_capture(shared=False, seed=3)
    fs, es = factors(cap)
    G = dense_G(cap)
    K = torch.kron(es.Delta, fs.H)
    errs = relative_errors(layer_g(cap), {"KFAC": kfac(fs.H, es.Delta),
                                          "CFAC": cfac(fs.H_c, es.Delta_c)}, probes=G.shape[0])
    assert abs(errs["KFAC"] - rel(K, G)) < 1e-12
    assert errs["KFAC"] > 1e-3 and errs["CFAC"] < 1e-12


def test_relative_errors_hutchinson_estimate_is_unbiased_in_the_squares():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 300, generator=g, dtype=torch.float64)
    G = X @ X.T / 300
    A = G + torch.diag(torch.linspace(0, 1, 300, dtype=torch.float64))
    exact = rel(A, G)
    est = relative_errors(DenseOperator(G), {"A": DenseOperator(A)}, probes=250)["A"]
    assert abs(est - exact) / exact < 0.1
    again = relative_errors(DenseOperator(G), {"A": DenseOperator(A)}, probes=8)["A"]
    assert again == relative_errors(DenseOperator(G), {"A": DenseOperator(A)}, probes=8)["A"]
