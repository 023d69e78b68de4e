"""Second moments of the layer-input features and their class decomposition (section 7.4).

From h (C, n, d) grouped by class (unweighted averages):
  H        = Ave_{i,c} h h^T                                   (d, d)
  h_c      = Ave_i h_{i,c}                                     (C, d)
  H_class  = Ave_c h_c h_c^T                                   (d, d)
  H_within = Ave_{i,c} (h - h_c)(h - h_c)^T                    (d, d)
  H_c      = Ave_i h_{i,c} h_{i,c}^T                           (C, d, d)
Exact: H = H_class + H_within and H = Ave_c H_c.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class FeatureStats:
    """Feature second moments of one layer's input; shapes as in the module docstring."""

    H: torch.Tensor
    means: torch.Tensor
    H_class: torch.Tensor
    H_within: torch.Tensor
    H_c: torch.Tensor


def feature_stats(h: torch.Tensor) -> FeatureStats:
    """All feature moments of h (C, n, d)."""
    C, n, _ = h.shape
    H_c = torch.einsum("cni,cnj->cij", h, h) / n
    means = h.mean(dim=1)
    centred = h - means[:, None, :]
    return FeatureStats(
        H=torch.einsum("cni,cnj->ij", h, h) / (n * C),
        means=means,
        H_class=means.T @ means / C,
        H_within=torch.einsum("cni,cnj->ij", centred, centred) / (n * C),
        H_c=H_c,
    )
