"""`extract`: the per-checkpoint statistics of one split, written as three stores.

(a) means: the C^2 extended-gradient means g_{c,c'} (p, C, C) and weights w_{c,c'}, plus the
    eigenvalues of G_class, G_cross, G_{c=c'} and the per-class traces of G_within
    (means_store);
(b) layers: per nn.Linear layer (and with conv, per nn.Conv2d layer in the KFC view) the
    section-7 objects of `layerwise.streaming.stream_layer` (layer_store), in module order,
    with the weight decomposition at the run's weight decay eta;
(c) summary: loss, error, ||grad|| (summary).
Layers are streamed one at a time, two data passes each (a forward-only one for the feature
means): memory is one layer's moments, O(C (d_in^2 + d_out^2 + d_in d_out)), never O(N).
With `net.data` one process's shard (curvature.distributed), the means and the summary are
reduced over the processes; rank 0 then writes the stores and streams the layers over the
whole split alone.
"""

from __future__ import annotations

import os

from crossclass.analysis.layer_store import layers_dataset
from crossclass.analysis.means_store import means_chunks, means_dataset
from crossclass.analysis.network import Network
from crossclass.analysis.summary import summary_dataset
from crossclass.curvature import (
    class_gradient_traces,
    extended_gradient_means,
    g_decomposition,
    gauss_newton_operator,
)
from crossclass.curvature.distributed import is_main
from crossclass.layerwise import layer_dataset
from crossclass.layerwise.capture import linear_layers
from crossclass.layerwise.conv import conv_layers
from crossclass.layerwise.streaming import stream_layer
from crossclass.progress import track
from crossclass.stores import write_store


def extract(net: Network, *, out_means: str | os.PathLike, out_layers: str | os.PathLike,
            out_summary: str | os.PathLike, keys: dict, conv: bool = False,
            keep_means: bool = True, layer_matrices: bool = True,
            progress: bool = True) -> None:
    """Compute and write the means, layers and summary stores of `net` keyed by `keys`
    (conv: also every nn.Conv2d layer; keep_means / layer_matrices: store the p C^2 means /
    the layers' matrices)."""
    fn = net.function()
    means = extended_gradient_means(fn, net.data, accumulate_float64=True, progress=progress)
    within = means.within_traces(class_gradient_traces(fn, net.data, accumulate_float64=True,
                                                       progress=progress))
    G = gauss_newton_operator(fn, net.data, accumulate_float64=True, progress=progress)
    params = {**net.params, "p": fn.p, "num_classes": net.num_classes,
              "n": net.data.samples_per_class(net.num_classes)}
    summary = summary_dataset(net, progress=progress)
    if not is_main():
        return
    write_store(means_dataset(means, g_decomposition(G, means), within, net.data.whole.N,
                              keep_means), out_means,
                keys=keys, params=params, chunks=means_chunks(net.num_classes))
    del means

    per_layer, data = [], net.data.whole  # the whole split, also on a data shard
    linear = linear_layers(net.model)
    convs = conv_layers(net.model) if conv else {}
    names = [n for n, _ in net.model.named_modules() if n in linear or n in convs]
    for name in track(names, "layers", progress=progress, unit="layer", leave=True):
        per_layer.append(layer_dataset(stream_layer(net.model, data, name, eta=net.eta,
                                                    device=net.device, progress=progress)))
    write_store(layers_dataset(per_layer, layer_matrices), out_layers, keys=keys,
                params={**params, "eta": net.eta}, chunks={"class": 1})

    write_store(summary, out_summary, keys=keys, params={**params, "eta": net.eta})
