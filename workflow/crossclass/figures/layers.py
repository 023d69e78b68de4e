"""Layer-wise figures (sections 7.5-7.11): features, errors, KFAC vs CFAC vs G^l, collapse.

Inputs: one layers store (`crossclass extract`), then optional spectrum stores of
`layer:<name>:G`, `layer:<name>:KFAC` and `layer:<name>:CFAC`. One row per layer:
(a) scree plot of the top eigenvalues of H^{l-1} (blue) and H_class (orange);
(b) the same for Delta^l (blue), Delta_class (orange), Delta_class + Delta_cross (gray), as in
Fig. 10; (c) G^l (blue) vs KFAC^l (orange); (d) G^l (blue) vs CFAC^l (gold) densities (Figs. 11-12),
when the spectrum stores are given. Last row: the neural-collapse metrics across depth.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from crossclass.analysis import layer_names, read_layer
from crossclass.errors import UserError
from crossclass.figures.fig5 import density_panel, title_of
from crossclass.figures.plotting import save
from crossclass.linalg.spectrum import read_spectrum
from crossclass.operator_names import parse_operator
from crossclass.stores import read_store, store_params

COLORS = {"G": "tab:blue", "KFAC": "tab:orange", "CFAC": "gold"}
SCREE = ("H", "H_class", "Delta", "Delta_class", "Delta_cross")  # per layer, checked finite
NC = (("nc_nc1", r"NC1 tr$(\Sigma_W\Sigma_B^+)/C$", True),
      ("nc_equinorm", "equinorm (std/mean of norms)", False),
      ("nc_equiangular_std", "std of cosines", False),
      ("nc_ncc_agreement", "NCC agreement", False))


def _scree(ax, curves, top):
    """Top `top` eigenvalues of symmetric matrices, log y (floored at 1e-12 of the largest)."""
    for matrix, color, label in curves:
        values = np.sort(np.linalg.eigvalsh(matrix))[::-1]
        floor = values[0] * 1e-12  # round-off level: exact zeros are drawn there
        ax.plot(np.arange(1, min(top, values.size) + 1), np.maximum(values[:top], floor), ".-",
                ms=3, lw=0.8, color=color, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("index")
    ax.set_ylabel("eigenvalue")
    ax.legend(fontsize="x-small")


def draw(inputs: list[str], output: str, *, top: int = 40) -> plt.Figure:
    """inputs: a layers store, then spectrum stores of layer:<name>:{G,KFAC,CFAC} (optional)."""
    if not inputs:
        raise UserError("the layers figure needs a layers store")
    names = layer_names(read_store(inputs[0]))
    layers = read_store(inputs[0], [f"{name}:{var}" for name in names for var in SCREE])
    spectra = {}
    for path in inputs[1:]:
        ds = read_spectrum(path)
        op = ds["operator"].item() if "operator" in ds.coords else ""
        layer, kind = parse_operator(op) if op.startswith("layer:") else (None, "")
        if layer is None or kind not in COLORS:
            raise UserError(f"{path} is not a layer:<name>:G/KFAC/CFAC spectrum store")
        spectra[(layer, kind)] = ds
    fig, axes = plt.subplots(len(names) + 1, 4, figsize=(16, 3 * (len(names) + 1)),
                             squeeze=False)
    for row, name in enumerate(names):
        lay = read_layer(layers, name)
        a, b, c, d = axes[row]
        _scree(a, [(lay["H"].values, "tab:blue", r"$H$"),
                   (lay["H_class"].values, "tab:orange", r"$H_{class}$")], top)
        a.set_title(f"layer {name}: input features ({lay.sizes['feature']})")
        _scree(b, [(lay["Delta"].values, "tab:blue", r"$\Delta$"),
                   (lay["Delta_class"].values, "tab:orange", r"$\Delta_{class}$"),
                   (lay["Delta_class"].values + lay["Delta_cross"].values, "tab:gray",
                    r"$\Delta_{class} + \Delta_{cross}$")], top)
        b.set_title(f"layer {name}: backpropagated errors ({lay.sizes['error']})")
        for ax, other in ((c, "KFAC"), (d, "CFAC")):
            shown = [k for k in ("G", other) if (name, k) in spectra]
            for kind in shown:
                ds = spectra[(name, kind)]
                density_panel(ax, ds, store_params(ds).get("eps", 0.0), color=COLORS[kind],
                              label=r"$G^l$" if kind == "G" else kind,
                              lw=2.6 if kind == "G" else 1.2)
            if shown:
                ax.legend(fontsize="x-small")
                ax.set_title(f"layer {name}: $G^l$ vs {other}")
            else:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"no $G^l$ / {other} spectra given", ha="center",
                        transform=ax.transAxes, color="gray")
    depth = np.arange(1, len(names) + 1)
    for ax, (var, label, log) in zip(axes[-1], NC, strict=True):
        ax.plot(depth, layers[var].values, "o-", color="tab:purple")
        ax.set_xticks(depth, names, rotation=45, fontsize="small")
        ax.set_xlabel("layer (input features of)")
        ax.set_title(label, fontsize="medium")
        if log:
            ax.set_yscale("log")
    fig.suptitle(f"Layer-wise structure — {title_of(layers)}\n"
                 "input-feature and error second moments, curvature blocks, neural collapse",
                 fontsize="x-large")
    save(fig, output)
    return fig
