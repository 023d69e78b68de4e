"""Extended gradients and their class / cross-class means (section 6, docs/curvature.md).

For example i of class c (n per class, C classes, true gradient sign):
  g_{i,c,c'} = d loss(f(x_{i,c}), y_{c'}) / dtheta = J_{i,c}^T (p_{i,c} - e_{c'})   (p,)
  w_{i,c,c'} = p_{i,c,c'} / (nC)                    (sum to 1 over i, c, c')
  w_{c,c'}   = sum_i w_{i,c,c'};  g_{c,c'} = sum_i w_{i,c,c'} g_{i,c,c'} / w_{c,c'}
  w_c        = sum_{c' != c} w_{c,c'};  g_c = sum_{c' != c} w_{c,c'} g_{c,c'} / w_c
The weighted sums S_{c,c'} = sum_i w_{i,c,c'} g_{i,c,c'} are vector-Jacobian products: for the
examples of class c in a batch, one forward pass and its vjp applied to the C cotangents
(w_{i,c,c'} (p_i - e_{c'}))_{c'} give all C columns S_{c,:} (a loop over the C cotangents: on
CPU a vmap over them is memory-bound and slower). Visiting the data sorted by class,
the whole computation costs one forward and C backward passes over the data; per-example
gradients are never formed (class_gradient_traces forms them, in chunks, for the exact
per-class traces of G_within). On a shard of the data (curvature.distributed) n and C are the
whole split's and the sums S and weights are added over the processes before the division.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import vjp, vmap

from crossclass.curvature.data import LabeledData
from crossclass.curvature.functional import ModelFunction


@dataclass(frozen=True)
class ExtendedMeans:
    """means (p, C, C): means[:, c, c'] = g_{c,c'}; weights (C, C): w_{c,c'}.

    means.reshape(p, C * C) is the p x C^2 matrix of cross-class means (column c * C + c'); it
    is a view of a (C, C, p) buffer, so each mean is a contiguous p-vector.
    """

    means: torch.Tensor
    weights: torch.Tensor

    @property
    def num_classes(self) -> int:
        return int(self.weights.shape[0])

    def class_weights(self) -> torch.Tensor:
        """w_c = sum_{c' != c} w_{c,c'}, shape (C,)."""
        return self.weights.sum(dim=1) - self.weights.diagonal()

    def class_means(self) -> torch.Tensor:
        """g_c = sum_{c' != c} w_{c,c'} g_{c,c'} / w_c, shape (p, C) (c' = c excluded)."""
        off = self.weights * (1 - torch.eye(self.num_classes, dtype=self.weights.dtype,
                                             device=self.weights.device))
        sums = torch.einsum("pcd,cd->pc", self.means, off)  # a new tensor
        return _divide(sums, self.class_weights())

    def within_traces(self, gradient_traces: torch.Tensor) -> torch.Tensor:
        """Tr G_within,c = T_c - sum_{c'} w_{c,c'} ||g_{c,c'}||^2, shape (C,), from the
        T_c of class_gradient_traces (G_within,c: the terms of G_within of class c)."""
        norms = self.means.square().sum(dim=0).to(gradient_traces.dtype)  # (C, C)
        return gradient_traces - (self.weights.to(gradient_traces.dtype) * norms).sum(dim=1)


def _divide(sums: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sums / weights in place, 0 where a weight underflowed to 0 (then the sum is 0 too)."""
    positive = weights > 0
    return sums.div_(torch.where(positive, weights, 1)).mul_(positive)


def extended_gradient_means(fn: ModelFunction, data: LabeledData, *,
                            accumulate_float64: bool = False,
                            progress: bool = True) -> ExtendedMeans:
    """All C^2 cross-class means g_{c,c'} and weights w_{c,c'} over a balanced split `data`."""
    C = fn.num_outputs(data.X)
    nC = data.samples_per_class(C) * C
    out_dtype = torch.float64 if accumulate_float64 else fn.dtype
    sums = torch.zeros(C, C, fn.p, dtype=out_dtype, device=fn.device)  # S_{c,c'} = sums[c, c']
    weights = torch.zeros(C, C, dtype=out_dtype, device=fn.device)
    eye = torch.eye(C, dtype=fn.dtype, device=fn.device)
    for Xb, yb in data.batches(fn.device, fn.dtype, by_class=True, progress=progress,
                               desc="extended gradient means"):
        for c in torch.unique(yb).tolist():
            Xc = Xb[yb == c]
            z, vjp_fn = vjp(lambda t, Xc=Xc: fn(t, Xc), fn.theta)
            p = torch.softmax(z, dim=-1)  # (B_c, C)
            w = p / nC  # w_{i,c,c'}
            cotangents = w.T[:, :, None] * (p[None, :, :] - eye[:, None, :])  # (C', B_c, C)
            for d in range(C):
                sums[c, d] += vjp_fn(cotangents[d])[0].to(out_dtype)
            weights[c] += w.sum(dim=0).to(out_dtype)
    data.all_sum(sums)
    data.all_sum(weights)
    return ExtendedMeans(means=_divide(sums, weights[:, :, None]).permute(2, 0, 1),
                         weights=weights)


def class_gradient_traces(fn: ModelFunction, data: LabeledData, *,
                          accumulate_float64: bool = False, max_floats: int = 1 << 27,
                          progress: bool = True) -> torch.Tensor:
    """T_c = sum_{i, c'} w_{i,c,c'} ||g_{i,c,c'}||^2 for every class c, shape (C,).

    T_c = (1/(nC)) sum_i ||J_i^T L_i||_F^2 with L_i L_i^T = diag(p_i) - p_i p_i^T,
    L_i = diag(sqrt p_i) - p_i sqrt(p_i)^T, so T_c = Tr of G restricted to class c's examples
    (exact, no probe). Per-example gradients (vmap of vjp) in chunks of at most `max_floats`
    values: C backward passes over the data, like the means. With the means,
    Tr G_within,c = T_c - sum_{c'} w_{c,c'} ||g_{c,c'}||^2 (ExtendedMeans.within_traces).
    """
    C = fn.num_outputs(data.X)
    nC = data.samples_per_class(C) * C
    out_dtype = torch.float64 if accumulate_float64 else fn.dtype
    traces = torch.zeros(C, dtype=out_dtype, device=fn.device)
    chunk = max(1, max_floats // fn.p)

    def row_norms(x: torch.Tensor, cotangent: torch.Tensor) -> torch.Tensor:
        _, vjp_fn = vjp(lambda t: fn(t, x[None])[0], fn.theta)
        return vjp_fn(cotangent)[0].to(out_dtype).square().sum()

    per_example = vmap(row_norms)
    for Xb, yb in data.batches(fn.device, fn.dtype, by_class=True, progress=progress,
                               desc="per-class gradient traces"):
        p = torch.softmax(fn(fn.theta, Xb), dim=-1)  # (B, C)
        root = p.sqrt()
        L = torch.diag_embed(root) - p[:, :, None] * root[:, None, :]  # (B, C, C)
        for start in range(0, Xb.shape[0], chunk):
            x, y, Lc = Xb[start:start + chunk], yb[start:start + chunk], L[start:start + chunk]
            total = sum(per_example(x, Lc[:, :, k]) for k in range(C))  # (b,)
            traces.index_add_(0, y, total)
    data.all_sum(traces)
    return traces / nC
