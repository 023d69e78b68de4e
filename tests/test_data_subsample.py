"""Balanced subsampling, the paper's sizes, the index store, load_subset and `crossclass data`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from crossclass import plugins
from crossclass.cli import main
from crossclass.data import PAPER_SAMPLE_SIZES, load_subset, log_spaced_sizes
from crossclass.data.digits import digits
from crossclass.data.subsample import subsample, write_subset
from crossclass.errors import UserError
from crossclass.stores import read_store, store_params

BUILTIN = {"mnist": "crossclass.data.vision:mnist",
           "fashion_mnist": "crossclass.data.vision:fashion_mnist",
           "cifar10": "crossclass.data.vision:cifar10",
           "cifar100": "crossclass.data.vision:cifar100",
           "digits": "crossclass.data.digits:digits",
           "gmm": "crossclass.data.synthetic:gmm",
           "ccm": "crossclass.data.synthetic:ccm"}


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """The built-in dataset plugins declared through a distribution's entry_points.txt, exactly
    as pyproject.toml declares them (and as a third-party package would)."""
    info = tmp_path / "site" / "crossclass_test_plugins-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: crossclass-test-plugins\n"
                                   "Version: 0\n")
    lines = [f"{name} = {target}" for name, target in BUILTIN.items()]
    (info / "entry_points.txt").write_text("[crossclass.datasets]\n" + "\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert set(BUILTIN) <= set(plugins.available(plugins.DATASETS))


def labels(counts):
    """Shuffled labels with counts[c] examples of class c."""
    y = np.repeat(np.arange(len(counts)), counts)
    return torch.as_tensor(np.random.default_rng(7).permutation(y))


def test_subsample_is_balanced_and_class_major():
    y = labels([30, 25, 40])
    idx = subsample(y, 20, seed=0)
    assert idx.dtype == torch.int64 and idx.shape == (60,)
    assert torch.equal(y[idx], torch.arange(3).repeat_interleave(20))
    assert idx.unique().numel() == 60


def test_subsample_reproducible_seeded_and_nested():
    y = labels([50, 50, 50, 50])
    assert torch.equal(subsample(y, 10, seed=3), subsample(y, 10, seed=3))
    assert not torch.equal(subsample(y, 10, seed=3), subsample(y, 10, seed=4))
    small, large = subsample(y, 10, seed=3), subsample(y, 30, seed=3)
    assert set(small.tolist()) <= set(large.tolist())


def test_subsample_rejects_small_class():
    with pytest.raises(UserError, match="class 1 has 5 examples"):
        subsample(labels([10, 5, 10]), 6, seed=0)
    with pytest.raises(UserError, match="class 3 has 0 examples"):
        subsample(labels([10, 10, 10]), 2, seed=0, num_classes=4)


def test_paper_sample_sizes():
    sizes = np.asarray(PAPER_SAMPLE_SIZES)
    assert len(set(PAPER_SAMPLE_SIZES)) == 20 and np.all(np.diff(sizes) > 0)
    assert sizes[0] == 10 and sizes[-1] == 5000
    assert np.all(np.abs(sizes - np.geomspace(10, 5000, 20)) < 1)  # log-spaced, floored
    assert {136, 1351} <= set(PAPER_SAMPLE_SIZES)  # sizes named in Figs. 5, 16 and 17
    with pytest.raises(UserError, match="not distinct"):
        log_spaced_sizes(1, 5, 20)


def test_store_round_trip(tmp_path, registered):
    full = digits()
    path = write_subset(tmp_path / "s.zarr", "digits", full, n_per_class=12, seed=5,
                        options={"split_seed": 0})
    ds = read_store(path)
    assert ds["dataset"].item() == "digits" and int(ds["n_per_class"]) == 12
    params = store_params(ds)
    assert params["seed"] == 5 and params["test_per_class"] is None
    assert params["options"] == {"split_seed": 0} and params["num_classes"] == 10
    train_idx = subsample(full.y_train, 12, seed=5)
    assert np.array_equal(ds["train_index"].values, train_idx.numpy())
    sub = load_subset(path, tmp_path)
    assert torch.equal(sub.x_train, full.x_train[train_idx])
    assert torch.equal(sub.y_train, torch.arange(10).repeat_interleave(12))
    # the whole test split is kept, sorted by class
    assert sub.x_test.shape == full.x_test.shape
    assert torch.equal(sub.y_test, full.y_test.sort(stable=True).values)


def test_store_with_test_subsample(tmp_path, registered):
    path = write_subset(tmp_path / "s.zarr", "digits", digits(), 8, seed=1, test_per_class=4)
    sub = load_subset(path, tmp_path)
    assert torch.equal(sub.y_test, torch.arange(10).repeat_interleave(4))


def test_load_subset_detects_changed_data(tmp_path, registered):
    # indices drawn on a different split than the stored options reproduce
    path = write_subset(tmp_path / "s.zarr", "digits", digits(split_seed=1), 30, seed=0)
    with pytest.raises(UserError, match="no longer matches"):
        load_subset(path, tmp_path)


def test_cli_subsample_and_errors(tmp_path, registered, capsys):
    out = tmp_path / "gmm.zarr"
    code = main(["data", "subsample", "--dataset", "gmm", "--root", str(tmp_path),
                 "--n-per-class", "7", "--seed", "2", "--test-per-class", "3", "--out", str(out),
                 "--set", "dim=6", "--set", "num_classes=4", "--set", "separation=2.5"])
    assert code == 0
    sub = load_subset(out, tmp_path)
    assert sub.x_train.shape == (28, 6) and sub.x_test.shape == (12, 6)
    assert store_params(read_store(out))["options"] == {"dim": 6, "num_classes": 4,
                                                        "separation": 2.5}
    capsys.readouterr()
    for bad in (["--set", "colour=red"], ["--set", "dim"], ["--n-per-class", "999"]):
        args = ["data", "subsample", "--dataset", "gmm", "--root", str(tmp_path),
                "--n-per-class", "7", "--seed", "0", "--out", str(tmp_path / "x.zarr")] + bad
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("crossclass data: error:") and err.count("\n") == 1
    assert main(["data", "fetch", "--dataset", "nope", "--root", str(tmp_path)]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


def test_builtin_plugins_installed():
    """pyproject.toml declares every built-in dataset under crossclass.datasets."""
    assert set(BUILTIN) <= set(plugins.available(plugins.DATASETS))
