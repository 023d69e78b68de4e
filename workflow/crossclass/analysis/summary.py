"""Loss, error and gradient norm of a network on a split (eval mode), as a scalar Dataset.

loss = Ave_i CE(f(x_i), y_i); error = fraction of argmax f(x_i) != y_i;
grad_norm = ||grad_theta loss|| over all parameters; objective_grad_norm = ||grad loss + eta
theta||, the gradient of the training objective loss + (eta/2)||theta||^2 (weight decay eta).
Sums are accumulated in float64 (and added over the processes for a shard of the data). The
store also carries the training history's eval-mode train_loss, train_error, test_loss,
test_error at the checkpoint's epoch (both splits, whatever split the store is of), so a figure
can print them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import xarray as xr

from crossclass.analysis.network import Network
from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('loss', 'error'), '()',
         'mean cross-entropy and fraction misclassified on the split, eval mode'),
        (('grad_norm',), '()', '|grad of the mean loss| over all parameters'),
        (('objective_grad_norm',), '()', 'the same with the weight-decay term eta theta'),
        (('num_params', 'num_examples'), '()', 'p and N'),
        (('train_loss', 'train_error', 'test_loss', 'test_error'), '()',
         "the checkpoint's epoch in the training history, eval mode (NaN at epoch 0)"),
    ),
    notes=('Keys as the means store. Figures print these in their subtitles.'),
)


def summary_dataset(net: Network, *, progress: bool = True) -> xr.Dataset:
    """Scalars loss, error, grad_norm, objective_grad_norm, num_params, num_examples and the
    checkpoint's train/test metrics (`Network.metrics`)."""
    params = [p for p in net.model.parameters()]
    grads = [torch.zeros_like(p, dtype=torch.float64) for p in params]
    loss_sum = torch.zeros((), dtype=torch.float64, device=net.device)
    wrong = torch.zeros((), dtype=torch.float64, device=net.device)
    with torch.enable_grad():
        for Xb, yb in net.data.batches(net.device, net.dtype, progress=progress,
                                       desc="summary"):
            logits = net.model(Xb)
            loss = F.cross_entropy(logits, yb, reduction="sum")
            for acc, g in zip(grads, torch.autograd.grad(loss, params), strict=True):
                acc += g.double()
            loss_sum += loss.detach().double()
            wrong += (logits.detach().argmax(dim=-1) != yb).sum()
    # one all_reduce over the processes when net.data is a shard (curvature.distributed)
    sums = net.data.all_sum(torch.cat([*(g.reshape(-1) for g in grads), loss_sum[None],
                                       wrong[None]]))
    N = net.data.whole.N
    grad, loss_sum, wrong = sums[:-2] / N, sums[-2], sums[-1]
    theta = torch.cat([p.detach().reshape(-1).double() for p in params])
    values = {
        "loss": float(loss_sum) / N,
        "error": float(wrong) / N,
        "grad_norm": float(torch.linalg.norm(grad)),
        "objective_grad_norm": float(torch.linalg.norm(grad + net.eta * theta)),
        "num_params": theta.numel(),
        "num_examples": N,
        **net.metrics,
    }
    return xr.Dataset({k: ((), v) for k, v in values.items()})
