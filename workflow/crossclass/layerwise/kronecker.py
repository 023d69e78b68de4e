"""The layer block G^l and its Kronecker approximations KFAC^l and CFAC^l (section 7.10).

Vectorisation: PyTorch's row-major vec of W[out, in], so the layer gradient is
g^l = kron(delta^l, h^{l-1}) and every paper-order Kronecker product A (x) B (A on features,
B on errors) appears here as kron(B, A); the two differ by a fixed permutation (same spectra).
  G^l    = sum_{i,c,c'} w (delta delta^T) kron (h h^T)        (p, p), p = d_out d_in
  KFAC^l = H^{l-1} (x) Delta^l      ->  vec_r(X) |-> vec_r(Delta X H)
  CFAC^l = Ave_c H_c (x) Delta_c    ->  vec_r(X) |-> vec_r(Ave_c Delta_c X H_c)
All three are matrix-free LinearOperators on blocks (p, k); memory O(p k) beyond the inputs.
`relative_errors` gives ||G^l - A|| / ||G^l|| (Frobenius) for approximations A, exactly for
small blocks and by Hutchinson probes otherwise.
"""

from __future__ import annotations

import torch

from crossclass.layerwise.capture import LayerCapture
from crossclass.layerwise.deltas import weights
from crossclass.linalg import LinearOperator


def _as_matrices(V: torch.Tensor, d_out: int, d_in: int) -> torch.Tensor:
    """(p, k) block of row-major vecs -> (k, d_out, d_in) matrices."""
    return V.T.reshape(V.shape[1], d_out, d_in)


def _as_block(M: torch.Tensor) -> torch.Tensor:
    """(k, d_out, d_in) matrices -> (p, k) block of row-major vecs."""
    return M.reshape(M.shape[0], -1).T


CHUNK_ELEMENTS = 2 ** 24  # bound on the (examples, L, k, d_out) intermediates of g_products


def g_products(h: torch.Tensor, delta: torch.Tensor, w: torch.Tensor,
               X: torch.Tensor) -> torch.Tensor:
    """sum_{i,c'} w_{i,c'} <g_{i,c'}, X_k> g_{i,c'} (k, d_out, d_in) for the per-example layer
    gradients g_{i,c'} = sum_l delta_{i,c',l} h_{i,l}^T of h (m, L, d_in), delta (m, C, L,
    d_out), weights w (m, C) and matrices X (k, d_out, d_in) (L = 1 for nn.Linear), in
    chunks of examples."""
    m, L, d_in = h.shape
    k, d_out = X.shape[0], X.shape[1]
    step = max(1, CHUNK_ELEMENTS // (L * k * max(d_out, d_in)))
    out = torch.zeros_like(X)
    for a in range(0, m, step):
        hh, dd = h[a:a + step], delta[a:a + step]
        Xh = torch.einsum("koi,nli->nlko", X, hh)                       # (m', L, k, d_out)
        s = torch.einsum("nlko,njlo->njk", Xh, dd) * w[a:a + step, :, None]   # w <g, X>
        out += torch.einsum("nlko,nli->koi", torch.einsum("njk,njlo->nlko", s, dd), hh)
    return out


def g_operator(h: torch.Tensor, delta: torch.Tensor, p: torch.Tensor) -> LinearOperator:
    """The exact G^l of per-example features h (C, n, L, d_in), errors delta (C, n, C, L,
    d_out) and softmax outputs p (C, n, C) (L = 1 for nn.Linear, the locations of a conv):
    G^l vec_r(X) = vec_r(sum w <g, X> g), g = sum_l delta_l h_l^T, one class at a time."""
    C, _, _, d_in = h.shape
    d_out = delta.shape[-1]
    w = weights(p)

    def matmat(V: torch.Tensor) -> torch.Tensor:
        X = _as_matrices(V, d_out, d_in)
        return _as_block(sum(g_products(h[c], delta[c], w[c], X) for c in range(C)))

    return LinearOperator((d_out * d_in,) * 2, matmat, dtype=h.dtype, device=h.device)


def layer_g(cap: LayerCapture) -> LinearOperator:
    """G^l of a Linear layer's capture, h (C, n, d_in), delta (C, n, C, d_out): for
    V = vec_r(X), G^l V = vec_r(sum w (delta^T X h) delta h^T)."""
    return g_operator(cap.h[:, :, None], cap.delta[:, :, :, None], cap.p)


def kfac(H: torch.Tensor, Delta: torch.Tensor) -> LinearOperator:
    """KFAC^l = H (d_in, d_in) (x) Delta (d_out, d_out), applied as X |-> Delta X H."""
    d_in, d_out = H.shape[0], Delta.shape[0]

    def matmat(V: torch.Tensor) -> torch.Tensor:
        return _as_block(Delta @ _as_matrices(V, d_out, d_in) @ H)

    return LinearOperator((d_out * d_in,) * 2, matmat, dtype=H.dtype, device=H.device)


def cfac(H_c: torch.Tensor, Delta_c: torch.Tensor) -> LinearOperator:
    """CFAC^l = Ave_c H_c (C, d_in, d_in) (x) Delta_c (C, d_out, d_out), a sum of C Kronecker
    products applied as X |-> Ave_c Delta_c X H_c."""
    C, d_in, d_out = H_c.shape[0], H_c.shape[1], Delta_c.shape[1]

    def matmat(V: torch.Tensor) -> torch.Tensor:
        X = _as_matrices(V, d_out, d_in)
        out = torch.zeros_like(X)
        for c in range(C):
            out += Delta_c[c] @ X @ H_c[c]
        return _as_block(out / C)

    return LinearOperator((d_out * d_in,) * 2, matmat, dtype=H_c.dtype, device=H_c.device)


def kfac_spectrum(H: torch.Tensor, Delta: torch.Tensor) -> torch.Tensor:
    """All d_in d_out eigenvalues of H (x) Delta, the products of the factors' eigenvalues,
    in descending order."""
    products = torch.outer(torch.linalg.eigvalsh(Delta), torch.linalg.eigvalsh(H)).reshape(-1)
    return torch.sort(products, descending=True).values


def probe_block(p: int, probes: int, seed: int, dtype: torch.dtype,
                device: torch.device | str) -> torch.Tensor:
    """The probes V (p, k) of `relative_errors`: I (exact) when p <= probes, else k = probes
    Rademacher columns from `seed` (Hutchinson: E ||M v||^2 = ||M||_F^2)."""
    if p <= probes:
        return torch.eye(p, dtype=dtype, device=device)
    gen = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 2, (p, probes), generator=gen) * 2 - 1).to(dtype).to(device)


def errors_from_products(GV: torch.Tensor, V: torch.Tensor,
                         approximations: dict[str, LinearOperator]) -> dict[str, float]:
    """sqrt(sum ||G V - A V||^2 / sum ||G V||^2) for each named A, from G V (p, k)."""
    norm = torch.linalg.norm(GV)
    return {name: float(torch.linalg.norm(GV - A.matmat(V)) / norm)
            for name, A in approximations.items()}


def relative_errors(G: LinearOperator, approximations: dict[str, LinearOperator], *,
                    probes: int = 32, seed: int = 0) -> dict[str, float]:
    """||G - A||_F / ||G||_F for each named A, from one block of probes V (`probe_block`, the
    same V for every A)."""
    V = probe_block(G.shape[0], probes, seed, G.dtype, G.device)
    return errors_from_products(G.matmat(V), V, approximations)
