"""All section-7 objects of every captured layer (nn.Linear, and nn.Conv2d through the pooled
KFC capture of `layerwise.conv`), and their xarray form for the workflow.

For layer l (input features h^{l-1}, errors delta^l) one LayerAnalysis holds the feature and
error moments, the weight decomposition (when the weight decay eta is known), the Khatri-Rao
quality of the gradient means, the neural-collapse metrics of h^{l-1} (self-duality for the
layer producing the logits), the exact KFAC^l spectrum and the relative Frobenius errors
||G^l - KFAC^l|| / ||G^l|| and ||G^l - CFAC^l|| / ||G^l|| (`kronecker.relative_errors`).
G^l, KFAC^l and CFAC^l as operators come from `crossclass.layerwise.kronecker`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import xarray as xr

from crossclass.collapse import CollapseMetrics, collapse_metrics
from crossclass.layerwise.capture import Capture, LayerCapture
from crossclass.layerwise.conv import ConvCapture, conv_g, conv_weight_stats, pooled
from crossclass.layerwise.deltas import ErrorStats, error_stats
from crossclass.layerwise.features import FeatureStats, feature_stats
from crossclass.layerwise.khatri_rao import KhatriRaoQuality, khatri_rao_quality
from crossclass.layerwise.kronecker import (
    cfac,
    errors_from_products,
    kfac,
    kfac_spectrum,
    layer_g,
    probe_block,
)
from crossclass.layerwise.weights import WeightStats, weight_stats
from crossclass.linalg import LinearOperator
from crossclass.progress import track


@dataclass
class LayerAnalysis:
    """The section-7 objects of one Linear layer (see the member modules for shapes)."""

    name: str
    features: FeatureStats
    errors: ErrorStats
    weights: WeightStats | None
    khatri_rao: KhatriRaoQuality
    collapse: CollapseMetrics
    kfac_eigenvalues: torch.Tensor
    kfac_rel_err: float
    cfac_rel_err: float


def layer_analysis(name: str, fs: FeatureStats, es: ErrorStats, *, weights: WeightStats | None,
                   khatri_rao: KhatriRaoQuality, collapse: CollapseMetrics, GV: torch.Tensor,
                   V: torch.Tensor) -> LayerAnalysis:
    """One layer's LayerAnalysis from its statistics and the products G^l V (p, k) of the
    probes V of `kronecker.probe_block` (the KFAC / CFAC relative errors)."""
    errors = errors_from_products(GV, V, {"KFAC": kfac(fs.H, es.Delta),
                                          "CFAC": cfac(fs.H_c, es.Delta_c)})
    return LayerAnalysis(
        name=name, features=fs, errors=es, weights=weights, khatri_rao=khatri_rao,
        collapse=collapse, kfac_eigenvalues=kfac_spectrum(fs.H, es.Delta),
        kfac_rel_err=errors["KFAC"], cfac_rel_err=errors["CFAC"])


def _layer_analysis(name: str, cap: LayerCapture, G: LinearOperator, *,
                    weights: WeightStats | None, collapse: CollapseMetrics, probes: int,
                    seed: int) -> LayerAnalysis:
    """The objects of one layer from its (pooled, for conv) capture and its exact G^l."""
    V = probe_block(G.shape[0], probes, seed, G.dtype, G.device)
    return layer_analysis(name, feature_stats(cap.h), error_stats(cap.delta, cap.p),
                          weights=weights, khatri_rao=khatri_rao_quality(cap),
                          collapse=collapse, GV=G.matmat(V), V=V)


def analyse(capture: Capture, *, eta: float | None = None, probes: int = 32, seed: int = 0,
            progress: bool = True) -> dict[str, LayerAnalysis]:
    """Analyse every layer of `capture`; eta: the training weight decay (None skips weights);
    probes, seed: of the KFAC / CFAC relative errors (exact when d_in d_out <= probes)."""
    predictions = capture.logits.argmax(dim=-1)
    out = {}
    for name, cap in track(capture.layers.items(), "layers", progress=progress, unit="layer",
                           leave=True):
        classifier = cap.weight if name == capture.logits_layer else None
        out[name] = _layer_analysis(
            name, cap, layer_g(cap), weights=None if eta is None else weight_stats(cap, eta),
            collapse=collapse_metrics(cap.h, classifier=classifier, predictions=predictions),
            probes=probes, seed=seed)
    return out


def analyse_conv(name: str, cap: ConvCapture, *, eta: float | None = None, probes: int = 32,
                 seed: int = 0) -> LayerAnalysis:
    """One Conv2d layer (`layerwise.conv`): feature, error and Khatri-Rao statistics of the
    pooled capture (KFC factors), the exact G^l for the relative errors, the weights of
    `conv_weight_stats`, and the collapse metrics of each example's flattened patches
    (C, n, L d_in) against the predictions argmax p."""
    C, n = cap.p.shape[:2]
    return _layer_analysis(
        name, pooled(cap), conv_g(cap),
        weights=None if eta is None else conv_weight_stats(cap, eta),
        collapse=collapse_metrics(cap.h.reshape(C, n, -1), predictions=cap.p.argmax(dim=-1)),
        probes=probes, seed=seed)


def layer_dataset(a: LayerAnalysis) -> xr.Dataset:
    """One layer's objects as an xarray.Dataset with dims feature, feature_b (d_in), error,
    error_b (d_out), class, class_b (C) and kfac_eig (d_in d_out); attrs["layer"] = name."""
    f, e, k, nc = a.features, a.errors, a.khatri_rao, a.collapse
    FF, EE, CC = ("feature", "feature_b"), ("error", "error_b"), ("class", "class_b")
    data = {
        "H": (FF, f.H), "H_class": (FF, f.H_class), "H_within": (FF, f.H_within),
        "H_c": (("class", *FF), f.H_c), "h_c": (("class", "feature"), f.means),
        "Delta": (EE, e.Delta), "Delta_class": (EE, e.Delta_class),
        "Delta_cross": (EE, e.Delta_cross), "Delta_within": (EE, e.Delta_within),
        "Delta_same": (EE, e.Delta_same), "Delta_c": (("class", *EE), e.Delta_c),
        "w_cc": (CC, e.w_cc), "delta_cc": ((*CC, "error"), e.delta_cc),
        "w_c": (("class",), e.w_c), "delta_c": (("class", "error"), e.delta_c),
        "kr_cos_c": (("class",), k.cos_c), "kr_rel_err_c": (("class",), k.rel_err_c),
        "kr_cos_cc": (CC, k.cos_cc), "kr_rel_err_cc": (CC, k.rel_err_cc),
        "kfac_eigenvalues": (("kfac_eig",), a.kfac_eigenvalues),
    }
    for field in ("nc1", "equinorm", "equiangular_std", "equiangular_shift", "self_duality",
                  "ncc_agreement"):
        data[f"nc_{field}"] = ((), getattr(nc, field))
    data["kfac_rel_err"] = ((), torch.tensor(a.kfac_rel_err, dtype=torch.float64))
    data["cfac_rel_err"] = ((), torch.tensor(a.cfac_rel_err, dtype=torch.float64))
    w = a.weights
    if w is not None:
        WE = ("error", "feature")
        data.update({"W": (WE, w.W), "W_stat": (WE, w.W_stat), "W_class": (WE, w.W_class),
                     "W_within": (WE, w.W_within), "W_residual": (WE, w.residual),
                     "grad_norm": ((), w.grad_norm)})
        if w.b is not None:
            data.update({"b": (("error",), w.b), "b_stat": (("error",), w.b_stat),
                         "b_residual": (("error",), w.b_residual)})
    C = e.w_cc.shape[0]
    return xr.Dataset(
        {name: (dims, t.detach().cpu().numpy()) for name, (dims, t) in data.items()},
        coords={"class": range(C), "class_b": range(C)},
        attrs={"layer": a.name},
    )
