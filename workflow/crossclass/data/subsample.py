"""Balanced subsampling (Appendix D) and the index store every later step loads.

`subsample` draws n examples of every class: for each class c, in order, numpy's
default_rng(seed) permutes that class's indices and the first n are kept (sorted). The result
is class-major (block c holds the n indices of class c) and nested: for one seed, the subset of
size n lies inside the subset of any size m > n.

Index store (crossclass.stores.write_store), keys dataset, n_per_class:
  train_index (train_sample) int64   rows of the plugin's train split, class-major
  train_label (train_sample) int64   their labels (checked again on load)
  test_index  (test_sample)  int64   rows of the test split: all of it (stably sorted by class)
                                     or test_per_class per class
  test_label  (test_sample)  int64
  attrs params: dataset, options, n_per_class, test_per_class, seed, num_classes
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from crossclass import plugins
from crossclass.data.base import ArraySplits
from crossclass.errors import UserError
from crossclass.stores import StoreSchema, read_store, store_params, write_store

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('train_index', 'train_label'), '(train_sample,)',
         "rows of the plugin's train split (class-major, C n) and labels"),
        (('test_index', 'test_label'), '(test_sample,)',
         'rows of the test split (all, or C test_per_class) and labels'),
    ),
    intro=('The balanced subset\'s indices (docs/data.md, "Index store"):'),
    notes=('Keys: `dataset`, `n_per_class`. params: `dataset, options, n_per_class, '
           'test_per_class, seed, num_classes`.'),
)


def subsample(y: torch.Tensor | np.ndarray, n_per_class: int, seed: int,
              num_classes: int | None = None) -> torch.Tensor:
    """Indices (C * n_per_class,) int64 of n_per_class examples of each class of labels y (N,).

    Classes are 0..num_classes-1 (default max(y) + 1); error if one has fewer examples.
    """
    labels = np.asarray(y, dtype=np.int64)
    classes = int(labels.max()) + 1 if num_classes is None else num_classes
    if n_per_class < 1:
        raise UserError(f"n_per_class must be a positive integer, got {n_per_class}")
    rng = np.random.default_rng(seed)
    blocks = []
    for c in range(classes):
        members = np.flatnonzero(labels == c)
        if members.size < n_per_class:
            raise UserError(f"class {c} has {members.size} examples, fewer than "
                            f"n_per_class = {n_per_class}")
        blocks.append(np.sort(rng.permutation(members)[:n_per_class]))
    return torch.as_tensor(np.concatenate(blocks))


def _class_major(y: torch.Tensor) -> torch.Tensor:
    """All indices of y, stably sorted by label."""
    return torch.as_tensor(np.argsort(np.asarray(y), kind="stable"))


def write_subset(path: str | os.PathLike, dataset: str, splits: ArraySplits, n_per_class: int,
                 seed: int, test_per_class: int | None = None,
                 options: Mapping[str, Any] | None = None) -> Path:
    """Draw the balanced subset of `splits` (made by plugin `dataset` with `options`) and write
    its index store at `path` (schema in the module docstring)."""
    train = subsample(splits.y_train, n_per_class, seed, splits.num_classes)
    test = (_class_major(splits.y_test) if test_per_class is None
            else subsample(splits.y_test, test_per_class, seed, splits.num_classes))
    ds = xr.Dataset({
        "train_index": ("train_sample", train.numpy()),
        "train_label": ("train_sample", splits.y_train[train].numpy()),
        "test_index": ("test_sample", test.numpy()),
        "test_label": ("test_sample", splits.y_test[test].numpy()),
    })
    params = {"dataset": dataset, "options": dict(options or {}), "n_per_class": n_per_class,
              "test_per_class": test_per_class, "seed": seed, "num_classes": splits.num_classes}
    return write_store(ds, path, keys={"dataset": dataset, "n_per_class": n_per_class},
                       params=params)


def load_subset(store_path: str | os.PathLike, root: str | os.PathLike) -> ArraySplits:
    """The ArraySplits of an index store: its plugin called with its options (files under
    root), restricted to the stored indices. Error if the labels no longer match."""
    ds = read_store(store_path, ("train_index", "train_label", "test_index", "test_label"))
    params = store_params(ds)
    plugin = plugins.load(plugins.DATASETS, params["dataset"])
    splits = plugin(Path(root), download=False, **params["options"])
    train = torch.as_tensor(ds["train_index"].values, dtype=torch.int64)
    test = torch.as_tensor(ds["test_index"].values, dtype=torch.int64)
    if (int(train.max()) >= splits.y_train.numel() or int(test.max()) >= splits.y_test.numel()
            or not np.array_equal(splits.y_train[train].numpy(), ds["train_label"].values)
            or not np.array_equal(splits.y_test[test].numpy(), ds["test_label"].values)):
        raise UserError(f"{store_path}: dataset {params['dataset']!r} under {root} no longer "
                        "matches the stored labels; rerun `crossclass data subsample`")
    return splits.select(train, test)
