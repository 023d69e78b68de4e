"""Weights versus the class structure of features and errors (section 7.13).

With the training objective Ave_{i,c} loss(f(x_{i,c}), y_c) + (eta/2)||theta||^2 and
delta_{i,c,c} the error for the true label (shape (d_out,)), h the layer input (d_in,):
  W_stat   = -(1/eta) Ave_{i,c} delta_{i,c,c} h^T                              (d_out, d_in)
  W_class  = -(1/eta) Ave_c dbar_c hbar_c^T,  dbar_c = Ave_i delta_{i,c,c}, hbar_c = Ave_i h
  W_within = -(1/eta) Ave_{i,c} (delta_{i,c,c} - dbar_c)(h - hbar_c)^T
  residual = W - W_stat = (1/eta) grad_W (objective)   (exact at any theta; zero when stationary)
Exact: W = W_stat + grad_W / eta and W_stat = W_class + W_within.
Bias (when present), the same with h = 1: b_stat = -(1/eta) Ave delta_{i,c,c} (its class part
is b_stat itself, its within part zero) and b_residual = b - b_stat = grad_b / eta.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crossclass.errors import UserError
from crossclass.layerwise.capture import LayerCapture


@dataclass
class WeightStats:
    """Weight decomposition of one layer; grad_norm = ||grad_W|| = eta ||residual|| (scalar)."""

    W: torch.Tensor
    W_stat: torch.Tensor
    W_class: torch.Tensor
    W_within: torch.Tensor
    residual: torch.Tensor
    grad_norm: torch.Tensor
    b: torch.Tensor | None
    b_stat: torch.Tensor | None
    b_residual: torch.Tensor | None


def true_label_errors(delta: torch.Tensor) -> torch.Tensor:
    """delta_{i,c,c} (C, n, d) from delta (C, n, C, d)."""
    C = delta.shape[0]
    diag = torch.arange(C, device=delta.device)
    return delta[diag, :, diag]


def check_decay(eta: float) -> None:
    """Raise UserError unless the weight decay eta is positive."""
    if not eta > 0:
        raise UserError(f"the weight decay eta must be positive, got {eta}")


def weight_stats_from(weight: torch.Tensor, bias: torch.Tensor | None, W_stat: torch.Tensor,
                      W_class: torch.Tensor, W_within: torch.Tensor,
                      b_stat: torch.Tensor | None, eta: float) -> WeightStats:
    """WeightStats of W^l (and b^l) from its stationary parts: residuals and ||grad_W||."""
    residual = weight - W_stat
    return WeightStats(W=weight, W_stat=W_stat, W_class=W_class, W_within=W_within,
                       residual=residual, grad_norm=eta * torch.linalg.norm(residual),
                       b=bias, b_stat=b_stat,
                       b_residual=None if bias is None else bias - b_stat)


def weight_stats(cap: LayerCapture, eta: float) -> WeightStats:
    """Decompose W^l (and b^l) of a layer trained with weight decay eta > 0."""
    check_decay(eta)
    C, n, _ = cap.h.shape
    d = true_label_errors(cap.delta)                  # (C, n, d_out)
    dbar, hbar = d.mean(dim=1), cap.h.mean(dim=1)
    d_cen, h_cen = d - dbar[:, None], cap.h - hbar[:, None]
    return weight_stats_from(
        cap.weight, cap.bias, W_stat=-torch.einsum("cno,cni->oi", d, cap.h) / (n * C * eta),
        W_class=-dbar.T @ hbar / (C * eta),
        W_within=-torch.einsum("cno,cni->oi", d_cen, h_cen) / (n * C * eta),
        b_stat=None if cap.bias is None else -d.mean(dim=(0, 1)) / eta, eta=eta)
