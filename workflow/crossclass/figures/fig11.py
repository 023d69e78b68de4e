"""Figure 11 (section 7.11): spectra of G^l with KFAC^l (left) and CFAC^l (right), one layer.

Inputs: a layers store, then the spectrum stores of layer:<name>:G, :KFAC, :CFAC of one layer
(the paper's: the last). Each panel prints ||G^l - A|| / ||G^l|| from the layers store.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.errors import UserError
from crossclass.figures.layergrid import (
    curvature_panel,
    label,
    read_layer_spectra,
    read_layers_stores,
    rel_error,
)
from crossclass.figures.plotting import save


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: a layers store, then spectra of layer:<name>:G, :KFAC, :CFAC."""
    layers = read_layers_stores(inputs[:1])[0]
    spectra = read_layer_spectra(inputs[1:])
    found = {(d, layer) for d, layer, _ in spectra}
    if len(found) != 1:
        raise UserError(f"figure 11 shows one layer of one dataset; given {sorted(found)}")
    dataset, layer = found.pop()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, kind in zip(axes, ("KFAC", "CFAC"), strict=True):
        curvature_panel(ax, spectra.get((dataset, layer, "G")),
                        spectra.get((dataset, layer, kind)), kind, rel_error(layers, layer, kind))
        ax.set_title(f"$G^l$ vs {kind}")
    fig.suptitle(f"Figure 11: layer {layer}, {label(layers)}")
    save(fig, output)
    return fig
