"""The spectrum store of one named network operator, and the trace it implies.

`operator_spectrum` builds the operator (`operators.network_operator`, reusing a means store
and a layers store when given) and runs `linalg.estimate_spectrum` with the given keywords;
the result is `SpectrumEstimate.to_dataset()` with its grid coordinate (`lambda` or
`log_lambda`) turned into a data variable on `grid` (grids differ between stores, so that
`open_stores` stacks them), plus the scalar `num_params` (p).

`mean_eigenvalue(ds)` = Tr(A) / p from the quadrature already in the store: for unit start
vectors v, v^T A v = sum_m y_m[1]^2 theta_m exactly (Gauss quadrature of degree 1), and
E[v^T A v] = Tr(A) / p (Hutchinson), averaged over the n_vec start vectors; with deflation the
deflated eigenvalues add sum(top) / p. For method="exact" it is the exact mean eigenvalue.
"""

from __future__ import annotations

import os

import torch
import xarray as xr

from crossclass.analysis.means_store import read_means
from crossclass.analysis.network import Network
from crossclass.analysis.operators import needs_means, network_operator
from crossclass.linalg import estimate_spectrum
from crossclass.stores import read_store


def operator_spectrum(net: Network, name: str, *, estimator: dict,
                      means: str | os.PathLike | None = None,
                      layers: str | os.PathLike | None = None,
                      progress: bool = False) -> tuple[xr.Dataset, dict]:
    """(spectrum Dataset, params) of operator `name` of `net`; estimator: estimate_spectrum
    keywords (method, M, n_vec, K, kappa, M0, tau, log, eps, deflate, deflate_iters, seed)."""
    loaded = None
    if means is not None and needs_means(name):
        fn = net.function()
        loaded = read_means(means, p=fn.p, device=net.device, dtype=torch.float64)
    layer_store = read_store(layers) if layers is not None else None
    op = network_operator(net, name, means=loaded, layers=layer_store, progress=progress)
    estimate = estimate_spectrum(op, **estimator, progress=progress)
    ds = estimate.to_dataset()
    # the grid differs per store: a data variable (not a coordinate) so stores stack
    ds = ds.reset_coords("log_lambda" if estimate.log else "lambda")
    ds["num_params"] = ((), op.shape[0])
    params = {**net.params, **estimate.params, "operator": name, "p": op.shape[0],
              "num_classes": net.num_classes,
              "means": None if means is None else str(means),
              "layers": None if layers is None else str(layers)}
    return ds.drop_attrs(), params


def mean_eigenvalue(ds: xr.Dataset) -> xr.DataArray:
    """Tr(A) / p estimated from a spectrum store (any leading key dims are kept)."""
    quadrature = (ds["ritz_values"] * ds["ritz_weights"]).sum("ritz").mean("start_vector")
    if "top_eigenvalues" in ds:
        quadrature = quadrature + ds["top_eigenvalues"].sum("top") / ds["num_params"]
    return quadrature
