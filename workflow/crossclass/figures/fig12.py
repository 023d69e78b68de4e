"""Figure 12 (section 7.11): spectra of G^l with KFAC^l and CFAC^l, every layer and dataset.

Inputs: layers stores (one per dataset), then spectrum stores of layer:<name>:G, :KFAC, :CFAC
(any order; matched by their dataset key and operator). Rows are layers (of the first store),
and every dataset has two columns: G^l vs KFAC^l, G^l vs CFAC^l, each with the stored relative
error ||G^l - A|| / ||G^l||. A missing spectrum leaves its curve out.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis import layer_names
from crossclass.figures.layergrid import (
    curvature_panel,
    label,
    read_layer_spectra,
    read_layers_stores,
    rel_error,
)
from crossclass.figures.plotting import save
from crossclass.stores import read_store


def draw(inputs: list[str], output: str) -> plt.Figure:
    """inputs: layers stores, then layer:<name>:G/KFAC/CFAC spectrum stores."""
    count = sum(1 for p in inputs if "layer" in read_store(p).coords)
    stores = read_layers_stores(inputs[:count])
    spectra = read_layer_spectra(inputs[count:])
    rows = max(len(layer_names(ds)) for ds in stores)
    fig, axes = plt.subplots(rows, 2 * len(stores), figsize=(5 * 2 * len(stores), 3.2 * rows),
                             squeeze=False)
    for col, ds in enumerate(stores):
        dataset = ds["dataset"].item()
        for row in range(rows):
            names = layer_names(ds)
            for j, kind in enumerate(("KFAC", "CFAC")):
                ax = axes[row, 2 * col + j]
                if row >= len(names):
                    ax.set_axis_off()
                    continue
                layer = names[row]
                curvature_panel(ax, spectra.get((dataset, layer, "G")),
                                spectra.get((dataset, layer, kind)), kind,
                                rel_error(ds, layer, kind))
                ax.set_title(f"{dataset}: layer {row + 1} ({layer}), $G^l$ vs {kind}",
                             fontsize="small")
    fig.suptitle("Figure 12: spectra of G^l (blue) with KFAC^l (orange) and CFAC^l (gold); "
                 + "; ".join(label(ds) for ds in stores))
    save(fig, output)
    return fig
