"""How well layer-gradient means factor as Khatri-Rao products (section 7.12).

Layer gradients g_{i,c,c'} = delta_{i,c,c'} h_{i,c}^T (as (d_out, d_in) matrices, i.e. the
row-major vec kron(delta, h)). Their means under the G weights (docs/layerwise.md):
  g_{c,c'} = sum_i pi_{i,c,c'} delta_{i,c,c'} h_{i,c}^T,   g_c = sum_{c' != c} pi_{c,c'} g_{c,c'}
are compared with the products delta_{c,c'} h_c^T and delta_c h_c^T (h_c the unweighted feature
class mean) by cosine <A, B> / (|A| |B|) and relative error |A - B| / |A| (Frobenius).
Each mean is built one at a time: memory O(d_out d_in).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crossclass.layerwise.capture import LayerCapture
from crossclass.layerwise.deltas import cross_class_means, weights


@dataclass
class KhatriRaoQuality:
    """cos_c, rel_err_c: (C,) for g_c; cos_cc, rel_err_cc: (C, C) for g_{c,c'}."""

    cos_c: torch.Tensor
    rel_err_c: torch.Tensor
    cos_cc: torch.Tensor
    rel_err_cc: torch.Tensor


def _compare(A: torch.Tensor, B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    nA = torch.linalg.norm(A)
    return (A * B).sum() / (nA * torch.linalg.norm(B)), torch.linalg.norm(A - B) / nA


def khatri_rao_quality(cap: LayerCapture) -> KhatriRaoQuality:
    """Cosines and relative errors of g_c vs delta_c h_c^T and g_{c,c'} vs delta_{c,c'} h_c^T."""
    C = cap.num_classes
    w = weights(cap.p)
    w_cc, delta_cc, w_c, delta_c = cross_class_means(w, cap.delta)
    h_c = cap.h.mean(dim=1)
    kw = dict(dtype=cap.h.dtype, device=cap.h.device)
    cos_c, err_c = torch.empty(C, **kw), torch.empty(C, **kw)
    cos_cc, err_cc = torch.empty(C, C, **kw), torch.empty(C, C, **kw)
    for c in range(C):
        h, d = cap.h[c], cap.delta[c]                         # (n, d_in), (n, C, d_out)
        pi = w[c] / w_cc[c]                                     # (n, C)
        g_c = torch.zeros(d.shape[-1], h.shape[-1], **kw)
        for k in range(C):
            g_ck = (pi[:, k, None] * d[:, k]).T @ h
            cos_cc[c, k], err_cc[c, k] = _compare(g_ck, torch.outer(delta_cc[c, k], h_c[c]))
            if k != c:
                g_c += (w_cc[c, k] / w_c[c]) * g_ck
        cos_c[c], err_c[c] = _compare(g_c, torch.outer(delta_c[c], h_c[c]))
    return KhatriRaoQuality(cos_c=cos_c, rel_err_c=err_c, cos_cc=cos_cc, rel_err_cc=err_cc)
