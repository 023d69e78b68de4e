"""Matrix-free curvature operators of the average cross-entropy loss (paper section 5).

With z_i = f(theta; x_i) (C,), p_i = softmax(z_i), r_i = p_i - e_{y_i} and J_i = dz_i/dtheta:
  Hess = Ave_i d^2 loss_i / dtheta^2                       (forward-over-reverse)
  G    = Ave_i J_i^T (diag p_i - p_i p_i^T) J_i             (eq. 5.1; jvp, then vjp)
  E    = Hess - G = Ave_i sum_c r_{i,c} d^2 z_{i,c}/dtheta^2 (eq. 5.2)
E is applied in one fused pass: it is the Hessian of Ave_i <z_i(theta), stop_grad(r_i)>, so one
forward-over-reverse product per batch, the same cost as Hess (the residual r_i is frozen at the
current theta). Each operator is symmetric of shape (p, p). A block (p, k) of vectors is one
batched pass per batch: for Hess and E the forward-over-reverse product is vmapped over the k
vectors (benchmarks/peers.py: 0.5 of ten single products on the MLP); for G one vjp is shared
and the k jvps run under torch.func.vmap. A model with convolutions on the CPU instead
linearises once per batch (torch.func.linearize) and applies the linearisation to the k
vectors one at a time (`ModelFunction.vectorize_blocks`: there vmapped conv tangents cost
more than single products). Per-batch sums are accumulated in float64 when accumulate_float64 is
set, else in the model's dtype. On a shard of the data (curvature.distributed) the sums divide
by the whole split's N and one all_reduce per block product adds them over the processes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch.func import grad, jvp, linearize, vjp, vmap

from crossclass.curvature.data import LabeledData
from crossclass.curvature.functional import ModelFunction
from crossclass.linalg import LinearOperator

# (theta (p,), X_b, y_b, V (k, p), N) -> sum over the batch of the product rows, divided by N
BatchProduct = Callable[
    [ModelFunction, torch.Tensor, torch.Tensor, torch.Tensor, int], torch.Tensor
]


def _loss_sum(fn: ModelFunction, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
              N: int) -> torch.Tensor:
    """Sum of cross-entropies / N, written as logsumexp(z) - z_y: F.cross_entropy's
    forward-over-reverse derivative is decomposed through a much slower path."""
    z = fn(theta, X)
    return (torch.logsumexp(z, dim=-1) - z.gather(1, y[:, None]).squeeze(1)).sum() / N


def _residual_sum(fn: ModelFunction, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                  N: int) -> torch.Tensor:
    """Ave-part of <z, stop_grad(p - e_y)>: its Hessian is E (eq. 5.2)."""
    z = fn(theta, X)
    onehot = torch.eye(z.shape[-1], dtype=z.dtype, device=z.device)[y]  # no data-dependent check
    r = (torch.softmax(z, dim=-1) - onehot).detach()
    return (z * r).sum() / N


def _hessian_of(scalar: Callable) -> BatchProduct:
    """Hessian products of a batch scalar: forward-over-reverse, vmapped over the k vectors of
    a block (one batched pass: on CPU 0.15 of ten single products for the MLP, against 0.55
    for k reverse-over-reverse passes through a shared linearisation; level on a CNN)."""
    def product(fn, X, y, V, N):
        def gradient(t):
            return grad(lambda t: scalar(fn, t, X, y, N))(t)

        def hvp(v):
            return jvp(gradient, (fn.theta,), (v,))[1]

        if V.shape[0] == 1:
            return hvp(V[0])[None]
        if fn.vectorize_blocks:
            return vmap(hvp)(V)
        tangent = _linearized(gradient, fn.theta)
        return torch.stack([tangent(v) for v in V])
    return product


def _linearized(f: Callable, theta: torch.Tensor) -> Callable:
    """v -> J_f(theta) v from one linearisation of f at theta (torch.func.linearize): the k
    vectors of a block then share the primal pass instead of repeating it in k jvps."""
    with warnings.catch_warnings():  # torch.fx's constant folding warns about its own nodes
        warnings.filterwarnings("ignore", message="Attempted to insert a get_attr Node")
        return linearize(f, theta)[1]


def _gauss_newton(fn: ModelFunction, X: torch.Tensor, y: torch.Tensor, V: torch.Tensor,
                  N: int) -> torch.Tensor:
    def logits(t):
        return fn(t, X)

    z, vjp_fn = vjp(logits, fn.theta)
    if fn.vectorize_blocks or V.shape[0] == 1:
        JV = vmap(lambda v: jvp(logits, (fn.theta,), (v,))[1])(V)  # (k, B, C)
    else:
        tangent = _linearized(logits, fn.theta)
        JV = torch.stack([tangent(v) for v in V])
    p = torch.softmax(z, dim=-1)
    pJV = p * JV
    Q = (pJV - p * pJV.sum(dim=-1, keepdim=True)) / N  # (diag p - p p^T) J v, per example
    if fn.vectorize_blocks:
        return vmap(vjp_fn)(Q)[0]
    return torch.stack([vjp_fn(q)[0] for q in Q])


def _operator(fn: ModelFunction, data: LabeledData, product: BatchProduct, *,
              accumulate_float64: bool, progress: bool, desc: str) -> LinearOperator:
    data.check_labels(fn.num_outputs(data.X))
    out_dtype = torch.float64 if accumulate_float64 else fn.dtype

    def matmat(V: torch.Tensor) -> torch.Tensor:
        Vt = V.T.to(device=fn.device, dtype=fn.dtype).contiguous()  # (k, p)
        acc = torch.zeros(Vt.shape, dtype=out_dtype, device=fn.device)
        for Xb, yb in data.batches(fn.device, fn.dtype, progress=progress, desc=desc):
            acc += product(fn, Xb, yb, Vt, data.whole.N).to(out_dtype)
        return data.all_sum(acc).T

    return LinearOperator((fn.p, fn.p), matmat, dtype=out_dtype, device=fn.device)


def hessian_operator(fn: ModelFunction, data: LabeledData, *, accumulate_float64: bool = False,
                     progress: bool = False) -> LinearOperator:
    """Hess (p, p): Hessian of the average cross-entropy loss over `data` at fn.theta."""
    return _operator(fn, data, _hessian_of(_loss_sum), accumulate_float64=accumulate_float64,
                     progress=progress, desc="Hess products")


def gauss_newton_operator(fn: ModelFunction, data: LabeledData, *,
                          accumulate_float64: bool = False,
                          progress: bool = False) -> LinearOperator:
    """G (p, p) of eq. 5.1: Ave_i J_i^T (diag p_i - p_i p_i^T) J_i, Jacobians never formed."""
    return _operator(fn, data, _gauss_newton, accumulate_float64=accumulate_float64,
                     progress=progress, desc="G products")


def residual_operator(fn: ModelFunction, data: LabeledData, *, accumulate_float64: bool = False,
                      progress: bool = False) -> LinearOperator:
    """E = Hess - G (p, p) of eq. 5.2, in one fused forward-over-reverse pass per batch."""
    return _operator(fn, data, _hessian_of(_residual_sum), accumulate_float64=accumulate_float64,
                     progress=progress, desc="E products")
