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
gradients are never formed. On a shard of the data (curvature.distributed) n and C are the
whole split's and the sums S and weights are added over the processes before the division.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import vjp

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
