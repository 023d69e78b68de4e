"""How well layer-gradient means factor as Khatri-Rao products (section 7.12).

Layer gradients g_{i,c,c'} = delta_{i,c,c'} h_{i,c}^T (as (d_out, d_in) matrices, i.e. the
row-major vec kron(delta, h)). Their means under the G weights (docs/layerwise.md):
  g_{c,c'} = sum_i pi_{i,c,c'} delta_{i,c,c'} h_{i,c}^T,   g_c = sum_{c' != c} pi_{c,c'} g_{c,c'}
are compared with the products delta_{c,c'} h_c^T and delta_c h_c^T (h_c the unweighted feature
class mean) by cosine <A, B> / (|A| |B|) and relative error |A - B| / |A| (Frobenius).
The C means of one class are built together: memory O(C d_out d_in).
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


def class_quality(c: int, g: torch.Tensor, w_cc: torch.Tensor, delta_cc: torch.Tensor,
                  h_c: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(cos_c, rel_err_c, cos_cc (C,), rel_err_cc (C,)) of class c from its means g_{c,k}
    (C, d_out, d_in), weights w_{c,k} (C,), error means delta_{c,k} (C, d_out) and feature
    mean h_c (d_in,)."""
    C = g.shape[0]
    pairs = [_compare(g[k], torch.outer(delta_cc[k], h_c)) for k in range(C)]
    others = torch.arange(C, device=g.device) != c
    share = w_cc[others] / w_cc[others].sum()
    g_c = torch.einsum("k,koi->oi", share, g[others])
    cos_c, err_c = _compare(g_c, torch.outer(share @ delta_cc[others], h_c))
    return (cos_c, err_c, torch.stack([q[0] for q in pairs]), torch.stack([q[1] for q in pairs]))


def khatri_rao_quality(cap: LayerCapture) -> KhatriRaoQuality:
    """Cosines and relative errors of g_c vs delta_c h_c^T and g_{c,c'} vs delta_{c,c'} h_c^T."""
    C = cap.num_classes
    w = weights(cap.p)
    w_cc, delta_cc, _, _ = cross_class_means(w, cap.delta)
    h_c = cap.h.mean(dim=1)
    per_class = []
    for c in range(C):
        pi = w[c] / w_cc[c]                                     # (n, C)
        g = torch.einsum("nk,nko,ni->koi", pi, cap.delta[c], cap.h[c])
        per_class.append(class_quality(c, g, w_cc[c], delta_cc[c], h_c[c]))
    return quality_of(per_class)


def quality_of(per_class: list[tuple[torch.Tensor, ...]]) -> KhatriRaoQuality:
    """KhatriRaoQuality from the C results of `class_quality`, in class order."""
    cos_c, err_c, cos_cc, err_cc = (torch.stack(list(q)) for q in zip(*per_class, strict=True))
    return KhatriRaoQuality(cos_c=cos_c, rel_err_c=err_c, cos_cc=cos_cc, rel_err_cc=err_cc)
