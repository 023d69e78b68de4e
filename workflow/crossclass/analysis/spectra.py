"""Spectrum stores of named network operators.

`operator_spectra` builds each operator (`operators.network_operator`, reusing a means store
and a layers store when given) and runs `linalg.estimate_spectrum` with the given keywords;
the result is `SpectrumEstimate.to_dataset()` with its grid coordinate (`lambda` or
`log_lambda`) turned into a data variable on `grid` (grids differ between stores, so that
`open_stores` stacks them), plus the scalar `num_params` (p).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import torch
import xarray as xr

from crossclass.analysis.means_store import holds_means, read_means
from crossclass.analysis.network import Network
from crossclass.analysis.operators import layers_store_inputs, network_operator
from crossclass.curvature import extended_gradient_means
from crossclass.linalg import estimate_spectrum
from crossclass.operator_names import needs_means
from crossclass.progress import context
from crossclass.stores import read_store


def operator_spectra(net: Network, names: Sequence[str], *, estimator: dict,
                     means: str | os.PathLike | None = None,
                     layers: str | os.PathLike | None = None,
                     progress: bool = True) -> Iterator[tuple[str, xr.Dataset, dict]]:
    """(name, spectrum Dataset, params) of each operator in `names` of `net`, in order; the
    model and data are loaded once (in `net`) and the means and layers stores read once for all
    of them (the means computed once in memory when the store did not keep them).
    estimator: estimate_spectrum keywords (method, M, n_vec, K, kappa, M0, tau, log, eps,
    deflate, deflate_iters, seed)."""
    loaded = None
    if any(needs_means(name) for name in names):
        if means is not None and holds_means(means):
            loaded = read_means(means, p=net.function().p, device=net.device,
                                dtype=torch.float64)
        else:  # once in memory for every G part of this job
            loaded = extended_gradient_means(net.function(), net.data, accumulate_float64=True,
                                             progress=progress)
    for name in names:
        layer_store = None if layers is None else read_store(layers, layers_store_inputs(name))
        with context(f"operator {name}"):  # named in the bars and log lines of its loops
            op = network_operator(net, name, means=loaded, layers=layer_store,
                                  progress=progress)
            estimate = estimate_spectrum(op, **estimator, progress=progress)
        ds = estimate.to_dataset()
        # the grid differs per store: a data variable (not a coordinate) so stores stack
        ds = ds.reset_coords("log_lambda" if estimate.log else "lambda")
        ds["num_params"] = ((), op.shape[0])
        params = {**net.params, **estimate.params, "operator": name, "p": op.shape[0],
                  "num_classes": net.num_classes,
                  "means": None if means is None else str(means),
                  "layers": None if layers is None else str(layers)}
        yield name, ds.drop_attrs(), params


def operator_spectrum(net: Network, name: str, **kwargs) -> tuple[xr.Dataset, dict]:
    """(spectrum Dataset, params) of the one operator `name` (keywords of operator_spectra)."""
    _, ds, params = next(operator_spectra(net, [name], **kwargs))
    return ds, params

