"""Training multinomial logistic regression f(x) = W x (no bias, as in section 8.1).

Full-batch, deterministic L-BFGS (strong-Wolfe line search) from W = 0 on
    L(W) = Ave_n CE(W x_n, y_n) + (weight_decay / 2) ||W||_F^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from crossclass.errors import UserError
from crossclass.progress import track


@dataclass(frozen=True)
class MLRFit:
    """A trained MLR: W (C, D), final objective `loss`, its gradient norm, L-BFGS iterations."""

    W: torch.Tensor
    loss: float
    grad_norm: float
    iterations: int


def mlr_probabilities(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities p_n = softmax(W x_n): W (C, D), X (N, D) -> (N, C)."""
    return torch.softmax(X @ W.T, dim=1)


def train_mlr(
    X: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    weight_decay: float = 0.0,
    max_iter: int = 500,
    tol: float = 1e-8,
    progress: bool = True,
) -> MLRFit:
    """Fit W (num_classes, D) by full-batch L-BFGS until ||grad L|| <= tol, W stops moving
    (float round-off), or max_iter iterations; check `grad_norm` of the result.

    X: (N, D) float; y: (N,) int64 in 0..num_classes-1. Runs on X's device and dtype; W starts at
    0, so the result is deterministic. On separable data with weight_decay = 0 the loss tends to
    0 while ||W|| grows, so max_iter is the stopping rule there.
    """
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise UserError(f"need X (N, D) and y (N,), got {tuple(X.shape)} and {tuple(y.shape)}")
    if y.numel() == 0 or int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise UserError(f"labels must be non-empty and lie in 0..{num_classes - 1}")
    if weight_decay < 0 or max_iter < 1:
        raise UserError(f"need weight_decay >= 0 and max_iter >= 1, got {weight_decay}, {max_iter}")
    W = torch.zeros(num_classes, X.shape[1], dtype=X.dtype, device=X.device, requires_grad=True)
    opt = torch.optim.LBFGS([W], lr=1.0, max_iter=1, history_size=20,
                            tolerance_grad=0.0, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(X @ W.T, y)
        loss = loss + 0.5 * weight_decay * W.square().sum()
        loss.backward()
        return loss

    iterations = 0
    for _ in track(range(max_iter), "train MLR", progress=progress, unit="iteration"):
        before = W.detach().clone()
        opt.step(objective)
        iterations += 1
        if float(W.grad.norm()) <= tol or torch.equal(before, W.detach()):
            break  # converged, or the line search can no longer move W (round-off floor)
    loss = objective()
    return MLRFit(W.detach().clone(), float(loss.detach()), float(W.grad.norm()), iterations)
