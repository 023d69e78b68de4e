"""The FIM (= GGN G = Hessian) of multinomial logistic regression, section 8.1 and Lemma 8.1.

Model f(x) = W x with W of shape (C, D) and theta = vec(W), the paper's COLUMN-stacking vec:
theta[d * C + c] = W[c, d] (note: PyTorch's W.reshape(-1) is the row-major order c * D + d; the
two differ by a fixed permutation and have identical spectra). Then J^T = x (x) I_C and

    G = Ave_n J_n^T U_n J_n = Ave_n (x_n x_n^T) (x) U_n,   U_n = diag(p_n) - p_n p_n^T,

of size (DC, DC). U(p) has rank C - 1 (U 1 = 0) when p > 0 (docs/mlr.md; the paper says C).
Since f is linear in theta, G is also exactly the Hessian of the mean cross-entropy.
"""

from __future__ import annotations

import torch

from crossclass.errors import UserError
from crossclass.linalg import LinearOperator
from crossclass.mlr.ccm import check_alpha, check_ccm_shape, symmetric_probabilities


def class_block(p: torch.Tensor) -> torch.Tensor:
    """U = diag(p) - p p^T for probability vectors p of shape (..., C) -> (..., C, C)."""
    return torch.diag_embed(p) - p[..., :, None] * p[..., None, :]


def _check_inputs(X: torch.Tensor, probs: torch.Tensor) -> None:
    if X.ndim != 2 or probs.ndim != 2 or X.shape[0] != probs.shape[0]:
        raise UserError(f"need X (N, D) and probabilities (N, C) with the same N, got "
                        f"{tuple(X.shape)} and {tuple(probs.shape)}")


def fim_dense(X: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Dense G = Ave_n (x_n x_n^T) (x) U(p_n), shape (DC, DC), column-stacking vec order.

    X: (N, D) inputs; probs: (N, C) predicted probabilities. Small D * C only (builds DC x DC).
    """
    _check_inputs(X, probs)
    (N, D), C = X.shape, probs.shape[1]
    XX = (X[:, :, None] * X[:, None, :]).reshape(N, D * D)
    UU = class_block(probs.to(X.dtype)).reshape(N, C * C)
    G = (XX.T @ UU / N).reshape(D, D, C, C)
    return G.permute(0, 2, 1, 3).reshape(D * C, D * C)


def fim_operator(X: torch.Tensor, probs: torch.Tensor) -> LinearOperator:
    """Matrix-free G (DC x DC) with O(N C k + D C k) memory per block of k vectors.

    G v = Ave_n x_n (x) U_n (V^T x_n), with V^T = v.reshape(D, C) (column-stacked vec(V)).
    """
    _check_inputs(X, probs)
    (N, D), C = X.shape, probs.shape[1]
    P = probs.to(X.dtype)

    def matmat(V: torch.Tensor) -> torch.Tensor:
        k = V.shape[1]
        Jv = torch.einsum("nd,dck->nck", X, V.reshape(D, C, k))  # logit directions (N, C, k)
        PJv = P[:, :, None] * Jv
        U_Jv = PJv - P[:, :, None] * PJv.sum(dim=1, keepdim=True)  # (diag p - p p^T) Jv
        return torch.einsum("nd,nck->dck", X, U_Jv).reshape(D * C, k) / N

    return LinearOperator((D * C, D * C), matmat, dtype=X.dtype, device=X.device)


def expected_fim(
    D: int, C: int, alpha: float, s: float, *, dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Lemma 8.1: E G = (s/C) blkdiag(U_1, ..., U_C, 0_{(D-C)C}) + I_D (x) Ubar, shape (DC, DC).

    U_c = diag(p_{.,c}) - p_{.,c} p_{.,c}^T for the symmetric probabilities with
    misclassification rate alpha; Ubar = Ave_c U_c; s = t^2 the squared signal-to-noise ratio of
    CCM(D, C). Block c (rows and columns c*C .. c*C + C - 1) is the c-th input coordinate.
    """
    check_ccm_shape(D, C)
    check_alpha(C, alpha)
    if not s >= 0:
        raise UserError(f"s = t^2 must be >= 0, got s={s}")
    U = class_block(symmetric_probabilities(C, alpha, dtype=dtype, device=device))
    G = torch.kron(torch.eye(D, dtype=dtype, device=device), U.mean(dim=0))
    G[: C * C, : C * C] += (s / C) * torch.block_diag(*U)
    return G


def monte_carlo_fim(X: torch.Tensor, y: torch.Tensor, C: int, alpha: float) -> torch.Tensor:
    """Dense G of sampled CCM data at Theorem 8.1's setting, shape (DC, DC).

    The probabilities are fixed by the symmetric model, p_n = p_{.,y_n} (misclassification rate
    alpha), so G = Ave_n (x_n x_n^T) (x) U_{y_n} and E G = expected_fim(D, C, alpha, t^2).
    X: (N, D), y: (N,) labels in 0..C-1. Matrix-free: fim_operator(X, symmetric_probabilities(C,
    alpha)[y]).
    """
    check_ccm_shape(X.shape[1], C)
    if y.numel() and not (0 <= int(y.min()) and int(y.max()) < C):
        raise UserError(f"labels must lie in 0..{C - 1}")
    return fim_dense(X, symmetric_probabilities(C, alpha, dtype=X.dtype, device=X.device)[y])
