"""nn.Conv2d layers as in KFC (Grosse & Martens, 2016): unfolded patches and per-location errors.

For a convolution z = W * x (groups = 1), W (C_out, C_in, kh, kw) is the matrix
W (d_out, d_in) = W.reshape(C_out, -1) with d_in = C_in kh kw, and at each of the L output
locations l, z_l = W h_l (+ b) with h_l the unfolded input patch (`torch.nn.functional.unfold`,
the same channel-major order). Per example x_{i,c} the pass records
  h_{i,c,l}         (d_in,)  patch l of the layer input,
  delta_{i,c,c',l}  (d_out,) d loss(f(x_{i,c}), y_{c'}) / d z_l (true gradient sign),
so the weight gradient is g_{i,c,c'} = sum_l delta_{i,c,c',l} h_{i,c,l}^T (d_out, d_in).

Exact: G^l = sum_{i,c,c'} w vec_r(g) vec_r(g)^T (`conv_g`, the weight block of G).
Pooled (KFC) statistics: `pooled(cap)` is the LayerCapture whose samples are (example, location)
pairs with h scaled by sqrt(L) and p repeated over l, so that its (exact) feature and error
statistics are
  H     = Ave_{i,c} sum_l h_l h_l^T,     H_c, H_class (class means pooled over i and l), H_within
  Delta = sum_{i,c,c'} w (1/L) sum_l delta_l delta_l^T,  Delta_c and the class / cross-class parts
with every linear-layer identity (H = H_class + H_within, the four-part split of Delta,
Ave_c Delta_c = Delta) holding exactly. KFAC^l = H (x) Delta is KFC's Omega (x) Gamma and CFAC^l
= Ave_c H_c (x) Delta_c its class-wise version. Unlike for nn.Linear, G^l = KFAC^l needs beyond
the independence of h and delta under w (IAD) two spatial assumptions: spatially uncorrelated
derivatives (sum w delta_l delta_l'^T = 0 for l != l', SUD) and spatial homogeneity
(sum w delta_l delta_l^T the same at every l, SH); CFAC^l = G^l needs them within each class.

Weights (`conv_weight_stats`): W_stat = -(1/eta) Ave_{i,c} sum_l delta_{i,c,c,l} h_l^T and the
residual W - W_stat = grad_W / eta are exact; the class part uses class means pooled over
examples and locations, W_class = -(L/eta) Ave_c dbar_c hbar_c^T, and W_within = W_stat - W_class
(exact by construction); the bias the same with h = 1 (b_stat = -(1/eta) Ave_i sum_l delta).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from crossclass.curvature.data import LabeledData
from crossclass.errors import UserError
from crossclass.layerwise.capture import LayerCapture, error_passes, num_outputs
from crossclass.layerwise.kronecker import g_operator
from crossclass.layerwise.weights import WeightStats, weight_stats
from crossclass.linalg import LinearOperator


@dataclass
class ConvCapture:
    """Patches and per-location errors of one Conv2d layer, grouped by class.

    h: (C, n, L, d_in); delta: (C, n, C, L, d_out) with delta[c, i, c', l] = delta_{i,c,c',l};
    p: (C, n, C); weight: (d_out, d_in) = W.reshape(C_out, -1); bias: (d_out,) or None.
    """

    h: torch.Tensor
    delta: torch.Tensor
    p: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None


def conv_layers(model: nn.Module, names: list[str] | None = None) -> dict[str, nn.Conv2d]:
    """The model's nn.Conv2d modules by qualified name (all, or those in `names`)."""
    found = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    chosen = found if names is None else {n: found[n] for n in names if n in found}
    missing = sorted(set(names or []) - set(found))
    if missing:
        raise UserError(f"no nn.Conv2d layer named {missing}; the model has {list(found)}")
    for name, m in chosen.items():
        if m.groups != 1 or m.padding_mode != "zeros" or isinstance(m.padding, str):
            raise UserError(f"conv layer {name}: only groups = 1 with numeric zero padding")
    return chosen


def unfold_patches(module: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """Input patches of `module` for x (B, C_in, H, W): (B, L, C_in kh kw)."""
    return F.unfold(x, module.kernel_size, dilation=module.dilation, padding=module.padding,
                    stride=module.stride).transpose(1, 2)


def capture_conv(model: nn.Module, data: LabeledData, *, layers: list[str] | None = None,
                 dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
                 progress: bool = True) -> dict[str, ConvCapture]:
    """One pass (eval mode) over the balanced split `data` (capture.error_passes): per batch a
    forward with hooks on the chosen Conv2d layers and C vector-Jacobian products with
    cotangents p - e_c'. Memory O(N L (d_in + C d_out)) per layer."""
    if model.training:
        raise UserError("the model must be in eval mode (call model.eval())")
    modules = conv_layers(model, layers)
    if not modules:
        raise UserError("the model has no nn.Conv2d layer")
    param = next(model.parameters())
    store = torch.device(device) if device is not None else param.device
    num_classes = num_outputs(model, data)
    seen: dict[str, list[torch.Tensor]] = {n: [] for n in modules}
    deltas: dict[str, list[torch.Tensor]] = {n: [] for n in modules}
    zs: dict[str, torch.Tensor] = {}
    p_all = []

    def hook_for(name, module):
        def hook(mod, inputs, output):
            seen[name].append(unfold_patches(module, inputs[0].detach()).to(store, dtype))
            zs[name] = output
        return hook

    handles = [m.register_forward_hook(hook_for(n, m)) for n, m in modules.items()]
    try:
        for _, _, p, errors in error_passes(model, data, zs, list(modules), num_classes,
                                         desc="conv pass", progress=progress):
            for n in modules:  # (B, C, C_out, H', W') -> (B, C, L, C_out)
                deltas[n].append(errors[n].flatten(3).transpose(2, 3).to(store, dtype))
            p_all.append(p.to(store, dtype))
    finally:
        for handle in handles:
            handle.remove()
    C = num_classes
    n = data.N // C
    p = torch.cat(p_all).reshape(C, n, C)
    out = {}
    for name, m in modules.items():
        h = torch.cat(seen[name])
        d = torch.cat(deltas[name])
        out[name] = ConvCapture(
            h=h.reshape(C, n, *h.shape[1:]), delta=d.reshape(C, n, C, *d.shape[2:]), p=p,
            weight=m.weight.detach().reshape(m.out_channels, -1).to(store, dtype).clone(),
            bias=None if m.bias is None else m.bias.detach().to(store, dtype).clone())
    return out


def pooled(cap: ConvCapture) -> LayerCapture:
    """The (example, location)-sample LayerCapture of KFC: h (C, n L, d_in) scaled by sqrt(L),
    delta (C, n L, C, d_out), p repeated over locations (module docstring)."""
    C, n, L, d_in = cap.h.shape
    h = (cap.h * L ** 0.5).reshape(C, n * L, d_in)
    delta = cap.delta.transpose(2, 3).reshape(C, n * L, C, -1)
    p = cap.p[:, :, None].expand(C, n, L, C).reshape(C, n * L, C)
    return LayerCapture(h=h, delta=delta, p=p, weight=cap.weight, bias=cap.bias)


def conv_g(cap: ConvCapture) -> LinearOperator:
    """The exact G^l: for V = vec_r(X), G^l V = vec_r(sum w <g, X> g), g = sum_l delta_l h_l^T,
    from the stored patches and errors (`kronecker.g_operator`)."""
    return g_operator(cap.h, cap.delta, cap.p)


def conv_weight_stats(cap: ConvCapture, eta: float) -> WeightStats:
    """`weights.weight_stats` of the pooled samples with h scaled by L (so that every average
    over (example, location) is L times the per-example sum over locations), the bias part
    rescaled likewise: b_stat = -(1/eta) Ave_i sum_l delta_{i,c,c,l}."""
    L = cap.h.shape[2]
    p = pooled(cap)
    ws = weight_stats(LayerCapture(h=p.h * L ** 0.5, delta=p.delta, p=p.p, weight=cap.weight,
                                   bias=cap.bias), eta)
    if cap.bias is None:
        return ws
    b_stat = ws.b_stat * L
    return dataclasses.replace(ws, b_stat=b_stat, b_residual=cap.bias - b_stat)

