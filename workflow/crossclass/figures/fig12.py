"""Figure 12 (section 7.11): spectra of G^l with KFAC^l and CFAC^l, every layer and dataset.

Inputs: layers stores (one per dataset), then spectrum stores of layer:<name>:G, :KFAC, :CFAC
(any order; matched by their dataset key and operator). Rows are the layers given a spectrum
(in the stores' layer order), and every dataset has two columns: G^l vs KFAC^l, G^l vs CFAC^l,
each with the stored relative error ||G^l - A|| / ||G^l||. A missing spectrum leaves its curve
out; a layer with none has no row.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from crossclass.analysis import layer_names
from crossclass.errors import UserError
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
    shown = {layer for _, layer, _ in spectra}
    names = {ds["dataset"].item(): [(i + 1, n) for i, n in enumerate(layer_names(ds))
                                    if n in shown] for ds in stores}
    rows = max(len(layers) for layers in names.values())
    if rows == 0:
        raise UserError("figure 12 needs a spectrum of layer:<name>:G, :KFAC or :CFAC of a "
                        "layer of the given layers stores")
    fig, axes = plt.subplots(rows, 2 * len(stores), figsize=(5 * 2 * len(stores), 3.2 * rows),
                             squeeze=False)
    for col, ds in enumerate(stores):
        dataset = ds["dataset"].item()
        for row in range(rows):
            for j, kind in enumerate(("KFAC", "CFAC")):
                ax = axes[row, 2 * col + j]
                if row >= len(names[dataset]):
                    ax.set_axis_off()
                    continue
                depth, layer = names[dataset][row]
                curvature_panel(ax, spectra.get((dataset, layer, "G")),
                                spectra.get((dataset, layer, kind)), kind,
                                rel_error(ds, layer, kind))
                ax.set_title(f"{dataset}: layer {depth} ({layer}), $G^l$ vs {kind}",
                             fontsize="small")
    fig.suptitle("Figure 12: spectra of G^l (blue) with KFAC^l (orange) and CFAC^l (gold); "
                 + "; ".join(label(ds) for ds in stores))
    save(fig, output)
    return fig
