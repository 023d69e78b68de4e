"""Atomic Zarr stores, their key coordinates, provenance, and the plugin registry's errors."""

import numpy as np
import pytest
import xarray as xr
from crossclass import plugins
from crossclass.errors import UserError
from crossclass.provenance import code_version
from crossclass.stores import open_stores, read_store, store_params, write_store


def dataset(value: float) -> xr.Dataset:
    return xr.Dataset({"density": ("grid", np.full(50, value)),
                       "matrix": (("sample", "feature"), np.arange(60.0).reshape(10, 6))})


def test_round_trip_keys_params_code_version_and_chunks(tmp_path):
    path = write_store(dataset(1.0), tmp_path / "a.zarr",
                       keys={"dataset": "digits", "n_per_class": 10, "epoch": 3},
                       params={"M": 128, "seed": 0}, chunks={"sample": 4, "feature": 3})
    ds = read_store(path)
    assert ds["dataset"].item() == "digits" and int(ds["n_per_class"]) == 10
    assert store_params(ds) == {"M": 128, "seed": 0}
    assert ds.attrs["code_version"] == code_version()
    assert ds["matrix"].encoding["chunks"] == (4, 3)
    np.testing.assert_array_equal(ds["matrix"].values, np.arange(60.0).reshape(10, 6))


def test_a_failed_write_leaves_neither_the_store_nor_a_temporary(tmp_path, monkeypatch):
    target = tmp_path / "b.zarr"
    write_store(dataset(1.0), target)

    def broken(self, store, **kwargs):
        (store / "partial").mkdir(parents=True)
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_zarr", broken)
    with pytest.raises(OSError, match="disk full"):
        write_store(dataset(2.0), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zarr"]
    assert float(read_store(target)["density"][0]) == 1.0  # the old, complete store is intact


def test_rewrite_replaces_the_whole_store(tmp_path):
    target = tmp_path / "c.zarr"
    write_store(dataset(1.0), target)
    write_store(dataset(2.0).drop_vars("matrix"), target)
    ds = read_store(target)
    assert "matrix" not in ds and float(ds["density"][0]) == 2.0


def test_open_stores_stacks_by_key_coordinates(tmp_path):
    paths = [write_store(dataset(float(n + e)), tmp_path / f"n{n}_e{e}.zarr",
                         keys={"n_per_class": n, "epoch": e})
             for n in (10, 20) for e in (1, 5)]
    combined = open_stores(paths)
    assert set(combined["density"].dims) == {"n_per_class", "epoch", "grid"}
    assert float(combined["density"].sel(n_per_class=20, epoch=5)[0]) == 25.0


def test_missing_stores_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_store(tmp_path / "nope.zarr")
    with pytest.raises(UserError, match="1 store\\(s\\) missing"):
        open_stores([tmp_path / "nope.zarr"])


def test_unknown_plugin_names_the_choices():
    with pytest.raises(UserError, match="unknown dataset 'imagenet'; available: .*digits"):
        plugins.load(plugins.DATASETS, "imagenet")
    assert {"mlp", "vgg11", "resnet18"} <= set(plugins.available(plugins.NETWORKS))
