"""Every layer's section-7 statistics in one store.

Each nn.Linear layer's `layerwise.layer_dataset` (dims feature, feature_b (d_in), error,
error_b (d_out), kfac_eig, class, class_b) is renamed `<layer>:<variable>` on dims
`<layer>:<dim>`, except the shared class dims. The coordinate `layer` lists the layers in
module order and the scalar statistics (NC metrics, grad_norm, d_in, d_out) are also stacked
on it for plotting across depth. `read_layer(ds, name)` undoes the renaming.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from crossclass.errors import UserError

SHARED_DIMS = ("class", "class_b")
SEP = ":"


def _prefixed(name: str, item: str) -> str:
    return item if item in SHARED_DIMS else f"{name}{SEP}{item}"


def layers_dataset(per_layer: list[xr.Dataset]) -> xr.Dataset:
    """Merge `layer_dataset`s (attrs["layer"] = module name), in module order, into one."""
    if not per_layer:
        raise UserError("no layer to store")
    renamed, scalars = [], {}
    names = [ds.attrs["layer"] for ds in per_layer]
    for name, ds in zip(names, per_layer, strict=True):
        if SEP in name:
            raise UserError(f"layer name {name!r} contains {SEP!r}")
        renamed.append(ds.rename({k: _prefixed(name, k) for k in [*ds.data_vars, *ds.dims]
                                  if k not in SHARED_DIMS}).drop_attrs())
        for var in [v for v in ds.data_vars if ds[v].ndim == 0]:
            scalars.setdefault(var, {})[name] = float(ds[var])
        scalars.setdefault("d_in", {})[name] = ds.sizes["feature"]
        scalars.setdefault("d_out", {})[name] = ds.sizes["error"]
    out = xr.merge(renamed, combine_attrs="drop")
    for var, values in scalars.items():
        out[var] = ("layer", np.array([values.get(n, np.nan) for n in names]))
    return out.assign_coords(layer=("layer", np.array(names, dtype=str)))


def layer_names(ds: xr.Dataset) -> list[str]:
    """The layer names of a layers store, in module order."""
    if "layer" not in ds.coords:
        raise UserError("not a layers store (no 'layer' coordinate); write it with "
                        "`crossclass extract`")
    return [str(n) for n in ds["layer"].values]


def read_layer(ds: xr.Dataset, name: str) -> xr.Dataset:
    """One layer of a layers store with the names of `layerwise.layer_dataset`."""
    if name not in layer_names(ds):
        raise UserError(f"layer {name!r} is not in the store; it has {layer_names(ds)}")
    prefix = f"{name}{SEP}"
    keep = [v for v in ds.data_vars if v.startswith(prefix)]
    one = ds[keep]
    one = one.drop_vars([c for c in one.coords if c not in SHARED_DIMS])
    renames = {k: k[len(prefix):] for k in [*one.data_vars, *one.dims] if k.startswith(prefix)}
    return one.rename(renames).assign_attrs(layer=name)
