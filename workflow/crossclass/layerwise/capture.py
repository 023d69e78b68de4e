"""One data pass capturing, for every nn.Linear layer l, its input features and extended errors.

For z^l = W^l h^{l-1} (+ b^l) the pass records, per example x_{i,c},
  h^{l-1}_{i,c}           the layer input (forward hook),                     shape (d_in,)
  delta^l_{i,c,c'}        d loss(f(x_{i,c}), y_{c'}) / d z^l for all C targets c'
                          (true gradient sign: J_z^T (p_{i,c} - e_{c'})),      shape (C, d_out)
  p_{i,c}                 the softmax of the logits,                          shape (C,)
with loss the cross-entropy on the logits. Examples are regrouped by class, so every array has
leading dims (class c, example i): h (C, n, d_in), delta (C, n, C, d_out), p (C, n, C).
Storage is O(N (d_in + C d_out)) per layer, never d x d.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from crossclass.curvature.data import LabeledData
from crossclass.errors import UserError
from crossclass.progress import track


@dataclass
class LayerCapture:
    """Per-example inputs and extended errors of one Linear layer, grouped by class.

    h: (C, n, d_in); delta: (C, n, C, d_out) with delta[c, i, c'] = delta_{i,c,c'};
    p: (C, n, C) softmax outputs; weight: (d_out, d_in) = W^l; bias: (d_out,) or None.
    """

    h: torch.Tensor
    delta: torch.Tensor
    p: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None

    @property
    def num_classes(self) -> int:
        return self.p.shape[0]

    @property
    def per_class(self) -> int:
        return self.p.shape[1]


@dataclass
class Capture:
    """Result of one pass: `layers` maps the Linear module's name to its capture (in module
    registration order); logits: (C, n, C) network outputs grouped by class like the layer
    arrays; logits_layer: the layer whose output z is the logits itself (the classifier), or
    None."""

    layers: dict[str, LayerCapture]
    logits: torch.Tensor
    logits_layer: str | None


def class_order(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Indices that sort a balanced label vector y (N,) by class, shaped (C, n).

    Raises UserError unless y is 1-D, integer, in [0, C) and every class has the same count.
    """
    if y.ndim != 1 or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise UserError(f"labels must be a 1-D integer tensor, got shape {tuple(y.shape)} "
                        f"and dtype {y.dtype}")
    if y.numel() == 0 or int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise UserError(f"labels must lie in [0, {num_classes}), the number of network outputs")
    counts = torch.bincount(y, minlength=num_classes)
    if bool((counts != counts[0]).any()) or int(counts[0]) == 0:
        raise UserError(f"classes must be balanced with every class present; counts per class "
                        f"are {counts.tolist()}")
    return torch.argsort(y, stable=True).reshape(num_classes, int(counts[0]))


def linear_layers(model: nn.Module, names: list[str] | None = None) -> dict[str, nn.Linear]:
    """The model's nn.Linear modules by qualified name (all of them, or those in `names`)."""
    found = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    if names is None:
        if not found:
            raise UserError("the model has no nn.Linear layer")
        return found
    missing = [n for n in names if n not in found]
    if missing:
        raise UserError(f"no nn.Linear layer named {missing}; the model has {list(found)}")
    return {n: found[n] for n in names}


def num_outputs(model: nn.Module, data: LabeledData) -> int:
    """C, the number of logits of `model` (one example, no hooks should be registered)."""
    param = next(model.parameters())
    with torch.no_grad():
        return int(model(data.X[:1].to(param.device, param.dtype)).shape[-1])


def error_passes(model: nn.Module, data: LabeledData, outputs: dict[str, torch.Tensor],
                 names: list[str], num_classes: int, *, desc: str, progress: bool
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                     dict[str, torch.Tensor]]]:
    """The class-ordered pass both captures share: per batch of data (examples sorted by
    class, so that stacked results reshape to (C, n, ...)), one forward, whose hooks put the
    output z of every layer in `names` into `outputs`, and C vector-Jacobian products of the
    logits with cotangents p - e_{c'}. Yields (labels (B,), logits (B, C), p (B, C), {name:
    delta (B, C, *z.shape[1:])}) with delta[:, c'] = d loss(f(x), y_{c'}) / d z (true
    gradient sign)."""
    param = next(model.parameters())
    labels = data.y.to("cpu")
    order = class_order(labels, num_classes).reshape(-1)
    with torch.enable_grad():
        for start in track(range(0, order.numel(), data.batch_size), desc,
                           progress=progress, unit="batch", leave=True):
            idx = order[start:start + data.batch_size]
            outputs.clear()
            logits = model(data.X[idx.to(data.X.device)].to(param.device, param.dtype))
            p = torch.softmax(logits.detach(), dim=-1)
            unused = [n for n in names if n not in outputs]
            if unused:
                raise UserError(f"layers {unused} are not used in the forward pass")
            per_target = []
            for k in range(num_classes):
                cot = p.clone()
                cot[:, k] -= 1
                per_target.append(torch.autograd.grad(
                    logits, [outputs[n] for n in names], grad_outputs=cot,
                    retain_graph=k < num_classes - 1))
            yield labels[idx], logits, p, {n: torch.stack([g[j] for g in per_target], dim=1)
                              for j, n in enumerate(names)}


def capture(
    model: nn.Module,
    data: LabeledData,
    *,
    layers: list[str] | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> Capture:
    """Run the model (eval mode) over the balanced split `data` in one pass (its batch_size).

    Per batch: one forward with hooks on the chosen Linear layers, then C vector-Jacobian
    products of the logits with cotangents p - e_{c'}, which give delta^l for all layers.
    The model computes in its own dtype and device; captured arrays are stored (and every
    later statistic accumulated) in `dtype` on `device` (default: the model's device).
    """
    if model.training:
        raise UserError("the model must be in eval mode (call model.eval()); BatchNorm in train "
                        "mode would mix examples")
    modules = linear_layers(model, layers)
    param = next(model.parameters())
    store = torch.device(device) if device is not None else param.device
    C = num_outputs(model, data)

    seen: dict[str, list[torch.Tensor]] = {n: [] for n in modules}
    zs: dict[str, torch.Tensor] = {}

    def hook_for(name: str):
        def hook(module, inputs, output):
            if name in zs:
                raise UserError(f"layer {name} is applied more than once per forward pass; "
                                "shared layers are not supported")
            if output.ndim != 2:
                raise UserError(f"layer {name} sees input of shape {tuple(inputs[0].shape)}; "
                                "only (batch, features) inputs are supported")
            seen[name].append(inputs[0].detach().to(store, dtype))
            zs[name] = output
        return hook

    names = list(modules)
    handles = [m.register_forward_hook(hook_for(n)) for n, m in modules.items()]
    deltas: dict[str, list[torch.Tensor]] = {n: [] for n in modules}
    logits_all, p_all, logits_layer = [], [], None
    try:
        for _, logits, p, errors in error_passes(model, data, zs, names, C,
                                              desc="layerwise pass", progress=progress):
            logits_layer = next((n for n in names if zs[n] is logits), None)
            for n in names:
                deltas[n].append(errors[n].to(store, dtype))
            logits_all.append(logits.detach().to(store, dtype))
            p_all.append(p.to(store, dtype))
    finally:
        for h in handles:
            h.remove()

    n = data.N // C
    p = torch.cat(p_all).reshape(C, n, C)
    out = {}
    for name, m in modules.items():
        h = torch.cat(seen[name])
        out[name] = LayerCapture(
            h=h.reshape(C, n, h.shape[-1]),
            delta=torch.cat(deltas[name]).reshape(C, n, C, -1),
            p=p,
            weight=m.weight.detach().to(store, dtype).clone(),
            bias=None if m.bias is None else m.bias.detach().to(store, dtype).clone(),
        )
    return Capture(layers=out, logits=torch.cat(logits_all).reshape(C, n, C),
                   logits_layer=logits_layer)
