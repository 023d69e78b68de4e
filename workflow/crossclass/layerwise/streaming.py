"""One layer's section-7 objects in O(d^2) memory: two streamed passes instead of a capture.

The capture path (`capture` / `capture_conv`, then `analysis.analyse` / `analyse_conv`) keeps
every example's features and C errors, O(N L (d_in + C d_out)) per layer; it is the reference
this module reproduces to round-off, batch by batch. For nn.Linear L = 1; for nn.Conv2d the
features are the unfolded patches h_l and the errors the per-location delta_l of
`layerwise.conv`, and the moments use its pooled samples s = (example, location) with
h_s = sqrt(L) h_l, delta_s = delta_l and weights w_s = p / (n L C).

Pass 1, forward only: the class means of the flattened layer input, mu (C, L, d_in).
Pass 2, one forward and C vector-Jacobian products per batch (`capture.error_passes`, examples
in class order) accumulates, with n' = n L samples per class,
  S_c  = sum_{s in c} h_s h_s^T                  H_c = S_c / n', H = Ave_c H_c,
                                                  H_within = H - H_class (raw minus means)
  A_c  = sum_{s in c, c'} w delta delta^T         Delta_c = C A_c, Delta = sum_c A_c
  w_cc, sum_{s in c} w delta_{c'}                 delta_cc; Delta_within = Delta -
                                                  sum_{c,c'} w_cc delta_cc delta_cc^T
  T = sum_s delta_{s,y,y} h_s^T, t_c              W_stat, W_class (W_within = W_stat - W_class)
  B_c = sum_{s in c} w delta_{c'} h_s^T (C, d_out, d_in), one class at a time (the
        examples arrive class by class), giving the Khatri-Rao quality of the g_{c,c'}
  G^l X_k for the fixed probes X_k (exact per-example g = sum_l delta_l h_l^T)
  Ave (v_k . (h - mu_c))^2 along range(Sigma_B) and the nearest-centre agreement (collapse).
Raw moments minus means lose about eps ||H|| / ||H_within|| of relative accuracy, harmless
with float64 accumulation. Memory O(C (d_in^2 + d_out^2 + d_out d_in) + k d_out d_in +
C L d_in) for k probes, never O(N); pass 2 shrinks the batch so that one batch's errors
(B, C, L, d_out) hold at most `sizes.STREAM_BATCH_ELEMENTS` values (1 GiB in float64).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from crossclass.collapse import from_class_means, nearest_centre_matches, range_basis
from crossclass.curvature.data import LabeledData
from crossclass.errors import UserError
from crossclass.layerwise.analysis import LayerAnalysis, layer_analysis
from crossclass.layerwise.capture import error_passes, num_outputs
from crossclass.layerwise.conv import conv_layers, unfold_patches
from crossclass.layerwise.deltas import error_stats_from
from crossclass.layerwise.features import FeatureStats
from crossclass.layerwise.khatri_rao import class_quality, quality_of
from crossclass.layerwise.kronecker import CHUNK_ELEMENTS, g_products, probe_block
from crossclass.layerwise.weights import WeightStats, check_decay, weight_stats_from
from crossclass.progress import track
from crossclass.sizes import STREAM_BATCH_ELEMENTS


def analysed_layer(model: nn.Module, name: str) -> nn.Linear | nn.Conv2d:
    """The nn.Linear or nn.Conv2d module `name` of `model` (UserError otherwise)."""
    module = dict(model.named_modules()).get(name)
    if isinstance(module, nn.Conv2d):
        return conv_layers(model, [name])[name]
    if not isinstance(module, nn.Linear):
        kinds = [n for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
        raise UserError(f"no nn.Linear or nn.Conv2d layer named {name!r}; the model has {kinds}")
    return module


def layer_inputs(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The features of one batch (B, L, d_in): the input itself (L = 1) or its patches."""
    if isinstance(module, nn.Conv2d):
        return unfold_patches(module, x)
    if x.ndim != 2:
        raise UserError(f"a linear layer sees input of shape {tuple(x.shape)}; only (batch, "
                        "features) inputs are supported")
    return x[:, None]


def layer_errors(module: nn.Module, delta: torch.Tensor) -> torch.Tensor:
    """Errors (B, C, *z.shape[1:]) as (B, C, L, d_out)."""
    if isinstance(module, nn.Conv2d):
        return delta.flatten(3).transpose(2, 3)
    return delta[:, :, None]


def weight_matrix(module: nn.Module) -> torch.Tensor:
    """W^l as (d_out, d_in), row-major like the parameter (a conv weight flattened)."""
    return module.weight.detach().reshape(module.weight.shape[0], -1)


class LayerStream:
    """The pass-2 sums of one layer (module docstring), fed class-ordered batches by `update`.

    mu: (C, L, d_in) class means of the input; n: examples per class; d_out: outputs;
    V: probes (d_out d_in, k) of the relative errors.
    """

    def __init__(self, mu: torch.Tensor, n: int, d_out: int, V: torch.Tensor):
        C, L, d_in = mu.shape
        kw = dict(dtype=mu.dtype, device=mu.device)
        self.mu, self.n, self.V = mu, n, V
        self.hbar = mu.mean(dim=1) * L ** 0.5            # pooled class means (C, d_in)
        self.basis, self.singular = range_basis(mu.reshape(C, -1))
        self.X = V.T.reshape(V.shape[1], d_out, d_in)
        self.GX = torch.zeros_like(self.X)
        self.S_c = torch.zeros(C, d_in, d_in, **kw)
        self.A_c = torch.zeros(C, d_out, d_out, **kw)
        self.w_cc = torch.zeros(C, C, **kw)
        self.D_cc = torch.zeros(C, C, d_out, **kw)
        self.T = torch.zeros(d_out, d_in, **kw)
        self.t_c = torch.zeros(C, d_out, **kw)
        self.within = torch.zeros(self.basis.shape[0], **kw)
        self.matches = torch.zeros((), **kw)
        self.B = torch.zeros(C, d_out, d_in, **kw)
        self.current: int | None = None
        self.quality: list[tuple[torch.Tensor, ...]] = []

    def update(self, h: torch.Tensor, delta: torch.Tensor, p: torch.Tensor,
               labels: torch.Tensor, predictions: torch.Tensor) -> None:
        """One batch: h (m, L, d_in), delta (m, C, L, d_out), p (m, C), labels and
        predictions (m,), examples sorted by class (continuing the previous batch)."""
        m, L, d_in = h.shape
        C, d_out = p.shape[1], delta.shape[-1]
        step = max(1, CHUNK_ELEMENTS // (L * C * max(d_in, d_out)))
        for c in torch.unique_consecutive(labels).tolist():
            rows = torch.nonzero(labels == c).reshape(-1)
            for a in range(0, rows.numel(), step):
                sel = rows[a:a + step].to(h.device)
                self._class_chunk(c, h[sel], delta[sel], p[sel], predictions[sel])

    def _class_chunk(self, c: int, h, delta, p, predictions) -> None:
        if c != self.current:
            self._close_class()
            self.current = c
        m, L, d_in = h.shape
        C, d_out = p.shape[1], delta.shape[-1]
        w = p / (self.n * C)                                       # G weights (m, C)
        self.GX += g_products(h, delta, w, self.X)
        hs = (h * L ** 0.5).reshape(m * L, d_in)                   # pooled samples
        ds = delta.transpose(1, 2).reshape(m * L, C, d_out)
        wd = (w / L).repeat_interleave(L, dim=0)[..., None] * ds   # w_s delta_s (s, C, d_out)
        self.S_c[c] += hs.T @ hs
        self.A_c[c] += torch.einsum("sjd,sje->de", wd, ds)
        self.w_cc[c] += w.sum(dim=0)
        self.D_cc[c] += wd.sum(dim=0)
        self.T += ds[:, c].T @ hs
        self.t_c[c] += ds[:, c].sum(dim=0)
        self.B += torch.einsum("sjo,si->joi", wd, hs)
        flat, mu = h.reshape(m, -1), self.mu.reshape(C, -1)
        self.within += ((flat - mu[c]) @ self.basis.T).pow(2).sum(dim=0)
        self.matches += nearest_centre_matches(flat, mu, predictions)

    def _close_class(self) -> None:
        """The Khatri-Rao quality of the finished class (its sums are complete)."""
        c = self.current
        if c is None:
            return
        w = self.w_cc[c]
        self.quality.append(class_quality(c, self.B / w[:, None, None],
                                          w, self.D_cc[c] / w[:, None], self.hbar[c]))
        self.B.zero_()

    def result(self, name: str, weight: torch.Tensor, bias: torch.Tensor | None,
               eta: float | None, classifier: torch.Tensor | None) -> LayerAnalysis:
        """The LayerAnalysis once every class has streamed (weights skipped when eta is None)."""
        self._close_class()
        C, L, _ = self.mu.shape
        if len(self.quality) != C:
            raise UserError(f"layer {name}: {len(self.quality)} of {C} classes streamed")
        n_s = self.n * L
        H_c = self.S_c / n_s
        H = H_c.mean(dim=0)
        H_class = self.hbar.T @ self.hbar / C
        fs = FeatureStats(H=H, means=self.hbar, H_class=H_class, H_within=H - H_class, H_c=H_c)
        delta_cc = self.D_cc / self.w_cc[..., None]
        Delta = self.A_c.sum(dim=0)
        means_part = torch.einsum("ck,ckd,cke->de", self.w_cc, delta_cc, delta_cc)
        es = error_stats_from(C * self.A_c, self.w_cc, delta_cc, Delta - means_part)
        ws = None if eta is None else self._weights(weight, bias, eta)
        N = self.n * C
        collapse = from_class_means(self.mu.reshape(C, -1), self.within / N, self.singular,
                                    classifier=classifier, ncc_agreement=self.matches / N)
        GV = self.GX.reshape(self.X.shape[0], -1).T
        return layer_analysis(name, fs, es, weights=ws, khatri_rao=quality_of(self.quality),
                              collapse=collapse, GV=GV, V=self.V)

    def _weights(self, weight, bias, eta: float) -> WeightStats:
        check_decay(eta)
        C, L, _ = self.mu.shape
        scale, n_s = L ** 0.5, self.n * L            # h scaled by sqrt(L) once more: sum over l
        W_stat = -scale * self.T / (n_s * C * eta)
        W_class = -scale * (self.t_c / n_s).T @ self.hbar / (C * eta)
        b_stat = None if bias is None else -L * self.t_c.sum(dim=0) / (n_s * C * eta)
        return weight_stats_from(weight, bias, W_stat, W_class, W_stat - W_class, b_stat, eta)


def input_class_means(model: nn.Module, data: LabeledData, module: nn.Module, num_classes: int,
                      *, dtype: torch.dtype, device: torch.device,
                      progress: bool) -> torch.Tensor:
    """Pass 1: the class means (C, L, d_in) of the features of `module` (forward only)."""
    param = next(model.parameters())
    found: list[torch.Tensor] = []
    handle = module.register_forward_hook(
        lambda mod, inputs, output: found.append(layer_inputs(mod, inputs[0].detach())))
    sums, y = None, data.y.to("cpu")
    try:
        with torch.no_grad():
            for a in track(range(0, data.N, data.batch_size), "layer means",
                           progress=progress, unit="batch", leave=True):
                found.clear()
                model(data.X[a:a + data.batch_size].to(param.device, param.dtype))
                h = found[0].to(device, dtype)
                if sums is None:
                    sums = torch.zeros(num_classes, *h.shape[1:], dtype=dtype, device=device)
                sums.index_add_(0, y[a:a + data.batch_size].to(device), h)
    finally:
        handle.remove()
    return sums / (data.N // num_classes)


def stream_layer(model: nn.Module, data: LabeledData, name: str, *, eta: float | None = None,
                 probes: int = 32, seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None,
                 progress: bool = True) -> LayerAnalysis:
    """The LayerAnalysis of the nn.Linear or nn.Conv2d layer `name` over the balanced split
    `data` (eval mode), equal to the capture path's, in two passes (module docstring).
    eta: the training weight decay (None skips weights); probes, seed: of the relative errors
    (`kronecker.probe_block`); statistics accumulate in `dtype` on `device` (default: the
    model's device)."""
    if model.training:
        raise UserError("the model must be in eval mode (call model.eval())")
    module = analysed_layer(model, name)
    store = torch.device(device) if device is not None else next(model.parameters()).device
    C = num_outputs(model, data)
    mu = input_class_means(model, data, module, C, dtype=dtype, device=store, progress=progress)
    weight = weight_matrix(module).to(store, dtype)
    bias = None if module.bias is None else module.bias.detach().to(store, dtype)
    stream = LayerStream(mu, data.N // C, weight.shape[0],
                         probe_block(weight.numel(), probes, seed, dtype, store))
    per_example = C * mu.shape[1] * weight.shape[0]         # errors of one example: C L d_out
    data = dataclasses.replace(
        data, batch_size=max(1, min(data.batch_size, STREAM_BATCH_ELEMENTS // per_example)))
    found: dict[str, torch.Tensor] = {}
    inputs: list[torch.Tensor] = []

    def hook(mod, args, output):
        if found:
            raise UserError(f"layer {name} is applied more than once per forward pass; shared "
                            "layers are not supported")
        inputs.append(layer_inputs(mod, args[0].detach()))
        found[name] = output

    handle = module.register_forward_hook(hook)
    is_logits = False
    try:
        for labels, logits, p, errors in error_passes(model, data, found, [name], C,
                                                      desc=f"layer {name}", progress=progress):
            is_logits = found[name] is logits
            stream.update(inputs.pop().to(store, dtype),
                          layer_errors(module, errors[name]).to(store, dtype), p.to(store, dtype),
                          labels.to(store), logits.detach().argmax(dim=-1).to(store))
    finally:
        handle.remove()
    return stream.result(name, weight, bias, eta, weight if is_logits else None)
