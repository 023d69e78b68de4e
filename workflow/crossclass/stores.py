"""Zarr (format 3) stores of xarray Datasets: one store per job, written atomically.

Every store carries scalar coordinates for its keys (dataset, net, n_per_class, epoch, ...)
so that `xarray.open_mfdataset(paths, engine="zarr", combine="by_coords")` stacks many of
them, and attrs recording the parameters (`params`, a JSON string) and code version that
produced it. A store is written to a temporary sibling folder and renamed into place, so a
store that exists is complete; a half-written one never has the final name. Every chunk is
written (even one equal to the fill value) and the store records the SHA-256 of every file it
holds (crossclass.digests), so a reader can tell a store damaged afterwards (a chunk deleted,
truncated or overwritten, a variable gone, unreadable bytes) and refuses it in one line.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import uuid
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import zarr
from zarr.errors import UnstableSpecificationWarning, ZarrUserWarning

from crossclass import digests
from crossclass.errors import UserError
from crossclass.provenance import code_version
from crossclass.run_layout import redo_run


@dataclass(frozen=True)
class StoreSchema:
    """A store's documented schema, kept beside the code that writes and reads it and rendered
    into docs/stores.md by crossclass.store_docs.

    variables: (names, dims, meaning) rows, names a tuple of variable names sharing the row;
    intro / notes: text before / after the table (keys and params)."""

    variables: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    intro: str = ""
    notes: str = ""

    @property
    def names(self) -> list[str]:
        """Every variable name of the table."""
        return [name for names, _, _ in self.variables for name in names]


def write_store(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    keys: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    chunks: Mapping[str, int] | None = None,
) -> Path:
    """Write `ds` to a Zarr v3 store at `path`, atomically.

    keys: scalar coordinates to attach (e.g. dataset="digits", net="mlp", n_per_class=50).
    params: every parameter that produced the data; stored as JSON in attrs["params"].
    chunks: chunk length per dimension name for the large arrays (others stay whole).
    """
    path = Path(path)
    ds = ds.assign_coords({k: v for k, v in (keys or {}).items()})
    ds.attrs = dict(ds.attrs)
    ds.attrs["params"] = json.dumps(dict(params or {}), sort_keys=True, default=str)
    ds.attrs["code_version"] = code_version()
    encoding = {}
    if chunks:
        for name, var in ds.data_vars.items():
            if var.ndim:
                sizes = zip(var.dims, var.shape, strict=True)
                encoding[name] = {"chunks": tuple(min(chunks.get(d, n), n) or 1 for d, n in sizes)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with warnings.catch_warnings():
            # Key coordinates are strings, whose Zarr v3 data type is not yet in the spec;
            # zarr-python reads them back exactly.
            warnings.simplefilter("ignore", UnstableSpecificationWarning)
            ds.to_zarr(tmp, mode="w", zarr_format=3, encoding=encoding, consolidated=False,
                       write_empty_chunks=True)
        digests.write_manifest(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def read_store(path: str | os.PathLike, require: Iterable[str] = (), *,
               optional: Iterable[str] = (), finite: bool = True,
               rebuild: str | None = None) -> xr.Dataset:
    """Open a store written by `write_store` (lazily), checked: every array has all its chunks,
    and each variable in `require` (and in `optional`, where the store has it) is present,
    loaded and, if `finite`, finite, with the coordinates it depends on; every file matches the
    digest recorded when it was written. Any problem is a one-line UserError naming the store,
    what is wrong and how to rebuild it (`rebuild`; by default: redo the training run a run's
    store belongs to, with every run sharing its files, else delete the store and rerun
    snakemake)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"store {path} does not exist; run the workflow step that writes it")
    advice = (rebuild or redo_run(path)
              or f"delete {shlex.quote(str(path))} and rerun snakemake to rebuild it")

    def damaged(what: str) -> UserError:
        return UserError(f"store {path} is damaged: {what}; {advice}")

    try:
        with warnings.catch_warnings():
            # the marker file Snakemake writes into a directory() output is no Zarr node
            warnings.filterwarnings("ignore", r"Object at (\.snakemake_timestamp|DIGESTS)",
                                    ZarrUserWarning)
            arrays = dict(zarr.open_group(path, mode="r", zarr_format=3).arrays())
            ds = xr.open_zarr(path, zarr_format=3, consolidated=False)
    except Exception as err:  # zarr and xarray raise many types for unreadable metadata
        raise damaged(f"unreadable ({_reason(err)})") from err
    for name, array in arrays.items():
        if array.nchunks_initialized < array.nchunks:
            raise damaged(f"{name} lacks {array.nchunks - array.nchunks_initialized} of its "
                          f"{array.nchunks} chunks")
    if (damage := digests.manifest_damage(path)) is not None:
        raise damaged(damage)
    for name in [*require, *(v for v in optional if v in ds.variables)]:
        if name not in ds.variables:
            raise UserError(f"store {path} lacks variable {name!r}; {advice}")
        for var in [name, *ds[name].coords]:
            try:
                values = ds.variables[var].load().values  # in place: the caller reads it once
            except Exception as err:  # a chunk's bytes that do not decode
                raise damaged(f"{var} is unreadable ({_reason(err)})") from err
            if (finite and np.issubdtype(values.dtype, np.inexact)
                    and not np.isfinite(values).all()):
                bad = int(values.size - np.isfinite(values).sum())
                raise damaged(f"{var} has {bad} non-finite of {values.size} values")
    return ds


def _reason(err: Exception) -> str:
    """The first line of an exception's message, or its type."""
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def store_params(ds: xr.Dataset) -> dict:
    """The parameters recorded in a store's attrs."""
    return json.loads(ds.attrs.get("params", "{}"))


def open_stores(paths: list[str | os.PathLike], require: Iterable[str] = (), *,
                optional: Iterable[str] = ()) -> xr.Dataset:
    """Combine many stores by their scalar key coordinates into one Dataset; each store is
    checked as by `read_store(path, require, optional=optional)`."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise UserError(f"{len(missing)} store(s) missing, first: {missing[0]}")
    sets = [read_store(p, require, optional=optional) for p in paths]
    keys = [k for k, c in sets[0].coords.items() if c.ndim == 0]
    return xr.combine_by_coords([s.expand_dims(keys) for s in sets], combine_attrs="drop_conflicts")
