"""Out-of-tree plugins: a separate package (tests/plugin_pkg, with its own .dist-info and
entry_points.txt) adds a dataset and a network that train through plugins.load like built-ins."""

from pathlib import Path

import pytest
import torch
from crossclass import cli, plugins
from crossclass.data import write_subset
from crossclass.errors import UserError
from crossclass.training import load_checkpoint, load_trained

PLUGIN_PKG = Path(__file__).parent / "plugin_pkg"


@pytest.fixture(autouse=True)
def plugin_path(monkeypatch):
    """The toy plugin distribution on sys.path; one intra-op thread for the tiny tensors."""
    monkeypatch.syspath_prepend(str(PLUGIN_PKG))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_entry_points_are_discovered():
    assert "blobs" in plugins.available(plugins.DATASETS)
    assert "tiny" in plugins.available(plugins.NETWORKS)
    net = plugins.load(plugins.NETWORKS, "tiny")((3, 8, 8), 4, hidden=5)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 4)
    with pytest.raises(UserError, match="unknown network 'nope'.*tiny"):
        plugins.load(plugins.NETWORKS, "nope")


def test_train_out_of_tree_plugins_through_the_cli(tmp_path, capsys):
    splits = plugins.load(plugins.DATASETS, "blobs")(tmp_path, download=False)
    subset = write_subset(tmp_path / "subset.zarr", "blobs", splits, 16, seed=0)
    out = tmp_path / "run"
    args = ["train", "--subset", str(subset), "--root", str(tmp_path), "--net", "tiny",
            "--set", "hidden=12", "--lr", "0.05", "--epochs", "4", "--seed", "0",
            "--checkpoints", "0", "2", "--batch-size", "16", "--device", "cpu",
            "--no-progress", "--out", str(out)]
    assert cli.main(args) == 0
    assert "tiny on blobs (n=16)" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "epoch_0000.pt", "epoch_0002.pt", "epoch_0004.pt"]
    model, meta = load_trained(out / "checkpoints" / "epoch_0004.pt")
    assert meta["net"] == "tiny" and meta["net_options"] == {"hidden": 12}
    assert meta["in_shape"] == [3, 8, 8] and meta["num_classes"] == 4
    state = load_checkpoint(out / "last.pt")["model"]
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert not model.training

    choice = tmp_path / "choice.json"
    assert cli.main(["select-lr", "--stores", str(out / "metrics.zarr"), "--out",
                     str(choice)]) == 0
    assert '"lr": 0.05' in choice.read_text()

    bad = args[:-1] + [str(tmp_path / "other")]
    bad[bad.index("hidden=12")] = "depth=3"
    assert cli.main(bad) == 2
    err = capsys.readouterr().err.strip()
    assert "bad options" in err and "\n" not in err
