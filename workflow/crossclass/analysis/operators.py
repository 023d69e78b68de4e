"""Named network operators (p x p symmetric LinearOperators) for spectra and knockouts.

The names are crossclass.operator_names (whole network: hess, G, E, the parts of G and their
knockouts; layer:<name>:<kind>: an nn.Linear's or nn.Conv2d's weight block G^l, its parts,
KFAC, CFAC and the feature / error moments). G parts reuse given means (sliced to the
layer's parameters for G^l: the gradient of a parameter block is the block of the gradient),
else compute them; layer moments come from a layers store when given, else from streaming
that layer (`layerwise.streaming`).
"""

from __future__ import annotations

import torch
import xarray as xr

from crossclass.analysis.layer_store import SEP, read_layer
from crossclass.analysis.network import Network
from crossclass.curvature import (
    ExtendedMeans,
    extended_gradient_means,
    g_decomposition,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.layerwise.kronecker import cfac, kfac
from crossclass.layerwise.streaming import analysed_layer, stream_layer
from crossclass.linalg import DenseOperator, LinearOperator
from crossclass.operator_names import parse_operator

MOMENTS = {"KFAC": ("H", "Delta"), "CFAC": ("H_c", "Delta_c")}  # else the kind's own matrix


def layers_store_inputs(name: str) -> list[str]:
    """The layers-store variables operator `name` reads (a layer moment's matrices)."""
    layer, kind = parse_operator(name)
    if layer is None or kind == "G" or kind.startswith("G_"):
        return []
    return [f"{layer}{SEP}{v}" for v in MOMENTS.get(kind, (kind,))]


def network_operator(net: Network, name: str, *, means: ExtendedMeans | None = None,
                     layers: xr.Dataset | None = None, progress: bool = False) -> LinearOperator:
    """The operator `name` of `net` on its split. means: of all parameters (p, C, C), e.g.
    from `read_means`; layers: a layers store of the same checkpoint and split."""
    layer, kind = parse_operator(name)
    if layer is None:
        return _whole(net, kind, means, progress)
    if kind == "G" or kind.startswith("G_"):
        return _layer_g(net, layer, kind, means, progress)
    return _layer_moment(net, layer, kind, layers, progress)


def _decomposed(net: Network, fn, kind: str, means: ExtendedMeans | None,
                progress: bool) -> LinearOperator:
    """G of `fn`, or its eq. 6.4 part / knockout named by kind (G, G_<p>, G-minus-<p>, ...)."""
    G = gauss_newton_operator(fn, net.data, accumulate_float64=True, progress=progress)
    if kind == "G":
        return G
    if means is None:
        means = extended_gradient_means(fn, net.data, accumulate_float64=True,
                                        progress=progress)
    dec = g_decomposition(G, means)
    if kind.startswith("G_"):
        return dec.component(kind[2:])
    how, _, part = kind[2:].partition("-")
    return dec.knockout(part, "subtraction" if how == "minus" else "projection")


def _whole(net: Network, kind: str, means: ExtendedMeans | None,
           progress: bool) -> LinearOperator:
    fn = net.function()
    if kind.startswith("G"):
        return _decomposed(net, fn, kind, means, progress)
    ops = {"hess": hessian_operator, "G": gauss_newton_operator, "E": residual_operator}

    def build(key: str) -> LinearOperator:
        return ops[key](fn, net.data, accumulate_float64=True, progress=progress)

    if kind in ops:
        return build(kind)
    return build("hess") - build(kind.removeprefix("hess-minus-"))


def _layer_g(net: Network, layer: str, kind: str, means: ExtendedMeans | None,
             progress: bool) -> LinearOperator:
    weight = f"{layer}.weight"
    analysed_layer(net.model, layer)
    if means is not None:
        sl = net.function().slices()[weight]
        means = ExtendedMeans(means=means.means[sl], weights=means.weights)
    return _decomposed(net, net.function([weight]), kind, means, progress)


def _layer_moment(net: Network, layer: str, kind: str, layers: xr.Dataset | None,
                  progress: bool) -> LinearOperator:
    analysed_layer(net.model, layer)
    var = MOMENTS.get(kind, (kind,))
    if layers is not None:
        ds = read_layer(layers, layer)
        values = [ds[v].values for v in var]
    else:
        # the whole split, not reduced over processes: each rank streams all of it
        a = stream_layer(net.model, net.data.whole, layer, device=net.device,
                         progress=progress)
        values = [getattr(a.features if v.startswith("H") else a.errors, v) for v in var]
    mats = [torch.as_tensor(v, dtype=torch.float64, device=net.device) for v in values]
    if kind == "KFAC":
        return kfac(*mats)
    if kind == "CFAC":
        return cfac(*mats)
    return DenseOperator(mats[0], symmetric=True)
