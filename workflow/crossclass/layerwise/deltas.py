"""Weighted second moments of the backpropagated errors and their class / cross-class
decomposition (section 7.7, with the errata of docs/layerwise.md).

Weights w_{i,c,c'} = p_{i,c,c'} / (nC) (they sum to 1); from delta (C, n, C, d):
  Delta        = sum_{i,c,c'} w delta delta^T   (no extra 1/(nC))            (d, d)
  w_cc         = w_{c,c'} = sum_i w_{i,c,c'}                                 (C, C)
  delta_cc     = delta_{c,c'} = sum_i pi_{i,c,c'} delta_{i,c,c'}, pi = w / w_{c,c'}  (C, C, d)
  w_c          = sum_{c' != c} w_{c,c'}                                      (C,)
  delta_c      = sum_{c' != c} (w_{c,c'} / w_c) delta_{c,c'}  (c' = c excluded)  (C, d)
  Delta_class  = sum_c w_c delta_c delta_c^T                                 (d, d)
  Delta_cross  = sum_c sum_{c' != c} w_{c,c'} (delta_{c,c'} - delta_c)(...)^T  (uses delta_c)
  Delta_within = sum_{i,c,c'} w (delta - delta_{c,c'})(...)^T (all c')        (d, d)
  Delta_same   = Delta_{c=c'} = sum_c w_{c,c} delta_{c,c} delta_{c,c}^T       (d, d)
  Delta_c      = Ave_i sum_{c'} p delta delta^T = C sum_{i,c'} w delta delta^T (class c)  (C, d, d)
Exact: Delta = Delta_class + Delta_cross + Delta_within + Delta_same, Ave_c Delta_c = Delta.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ErrorStats:
    """Error second moments of one layer; shapes as in the module docstring."""

    Delta: torch.Tensor
    w_cc: torch.Tensor
    delta_cc: torch.Tensor
    w_c: torch.Tensor
    delta_c: torch.Tensor
    Delta_class: torch.Tensor
    Delta_cross: torch.Tensor
    Delta_within: torch.Tensor
    Delta_same: torch.Tensor
    Delta_c: torch.Tensor


def weights(p: torch.Tensor) -> torch.Tensor:
    """w_{i,c,c'} = p_{i,c,c'} / (nC) for p (C, n, C)."""
    C, n, _ = p.shape
    return p / (n * C)


def class_means(w_cc: torch.Tensor, v_cc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(w_c (C,), v_c (C, ...)): w_c = sum_{c' != c} w_{c,c'} and the w-weighted mean of the
    v_{c,c'} (C, C, ...) over c' != c."""
    C = w_cc.shape[0]
    w_off = w_cc * (1 - torch.eye(C, dtype=w_cc.dtype, device=w_cc.device))
    w_c = w_off.sum(dim=1)
    return w_c, torch.einsum("ck,ck...->c...", w_off / w_c[:, None], v_cc)


def cross_class_means(w: torch.Tensor, v: torch.Tensor):
    """(w_{c,c'} (C, C), v_{c,c'} (C, C, ...), w_c (C,), v_c (C, ...)) of per-example vectors
    v (C, n, C, ...) under weights w (C, n, C), with c' = c excluded from the class mean v_c."""
    C = w.shape[0]
    w_cc = w.sum(dim=1)
    extra = v.ndim - 3
    wv = w.reshape(*w.shape, *(1,) * extra) * v
    v_cc = wv.sum(dim=1) / w_cc.reshape(C, C, *(1,) * extra)
    return (w_cc, v_cc, *class_means(w_cc, v_cc))


def error_stats_from(Delta_c: torch.Tensor, w_cc: torch.Tensor, delta_cc: torch.Tensor,
                     Delta_within: torch.Tensor) -> ErrorStats:
    """ErrorStats from the per-class moments Delta_c (C, d, d), the pair weights w_cc (C, C),
    means delta_cc (C, C, d) and Delta_within: the class, cross-class and c = c' parts."""
    C = w_cc.shape[0]
    w_c, delta_c = class_means(w_cc, delta_cc)
    off = 1 - torch.eye(C, dtype=w_cc.dtype, device=w_cc.device)
    cross = delta_cc - delta_c[:, None, :]
    diag = torch.arange(C, device=w_cc.device)
    same = delta_cc[diag, diag]
    return ErrorStats(
        Delta=Delta_c.mean(dim=0),
        w_cc=w_cc,
        delta_cc=delta_cc,
        w_c=w_c,
        delta_c=delta_c,
        Delta_class=torch.einsum("c,cd,ce->de", w_c, delta_c, delta_c),
        Delta_cross=torch.einsum("ck,ckd,cke->de", w_cc * off, cross, cross),
        Delta_within=Delta_within,
        Delta_same=torch.einsum("c,cd,ce->de", w_cc[diag, diag], same, same),
        Delta_c=Delta_c,
    )


def error_stats(delta: torch.Tensor, p: torch.Tensor) -> ErrorStats:
    """All error moments of delta (C, n, C, d) with softmax outputs p (C, n, C)."""
    C = p.shape[0]
    w = weights(p)
    w_cc, delta_cc, _, _ = cross_class_means(w, delta)
    centred = delta - delta_cc[:, None]
    return error_stats_from(C * torch.einsum("cik,cikd,cike->cde", w, delta, delta), w_cc,
                            delta_cc, torch.einsum("cik,cikd,cike->de", w, centred, centred))
