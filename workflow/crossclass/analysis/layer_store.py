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
from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('nc_nc1', 'nc_equinorm', 'nc_equiangular_std', 'nc_equiangular_shift',
          'nc_self_duality', 'nc_ncc_agreement'), '(layer,)',
         "neural-collapse metrics of the layer's class means"),
        (('grad_norm',), '(layer,)', "norm of the layer's weight gradient"),
        (('kfac_rel_err', 'cfac_rel_err'), '(layer,)',
         '|G^l - KFAC^l|_F / |G^l|_F and the same for CFAC'),
        (('d_in', 'd_out'), '(layer,)', "the layer's input and output sizes"),
    ),
    intro=("Every analysed layer's `layer_dataset` (docs/layerwise.md) in one Dataset, its "
           'variables and own dimensions renamed `<layer>:<name>` (e.g. `classifier.7:H` on '
           '`classifier.7:feature`, `classifier.7:feature_b`); `class` and `class_b` are shared.'
           ' Coordinate `layer` (dim `layer`): the layer names in module order (nn.Linear, and '
           'nn.Conv2d with `--conv-layers`), with the per-layer scalars stacked on it:'),
    notes=("Without matrices (`extract --no-layer-matrices`: the checkpoints no layer-wise "
           "figure or layer operator reads, when `analysis.layer_matrices: figures`) only the "
           "per-layer scalars and the class-indexed values are kept (no variable on a feature, "
           "error or kfac_eig dimension). "
           "`read_layer(ds, name)` gives one layer's Dataset back with its own names. Keys as "
           "the means store; params add `eta` (the checkpoint's weight decay, for the weight "
           'decomposition).'),
)

SHARED_DIMS = ("class", "class_b")
SEP = ":"


def _prefixed(name: str, item: str) -> str:
    return item if item in SHARED_DIMS else f"{name}{SEP}{item}"


MATRIX_DIMS = {"feature", "feature_b", "error", "error_b", "kfac_eig"}


def layers_dataset(per_layer: list[xr.Dataset], matrices: bool = True) -> xr.Dataset:
    """Merge `layer_dataset`s (attrs["layer"] = module name), in module order, into one.
    matrices False: keep only the per-layer scalars and the class-indexed values (no variable
    on a feature, error or kfac_eig dimension: O(L C^2) instead of O(L C d^2) values)."""
    if not per_layer:
        raise UserError("no layer to store")
    renamed, scalars = [], {}
    names = [ds.attrs["layer"] for ds in per_layer]
    for name, ds in zip(names, per_layer, strict=True):
        if SEP in name:
            raise UserError(f"layer name {name!r} contains {SEP!r}")
        kept = ds if matrices else ds.drop_vars(
            [v for v in ds.data_vars if MATRIX_DIMS & set(ds[v].dims)])
        renamed.append(kept.rename({k: _prefixed(name, k) for k in [*kept.data_vars, *kept.dims]
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
