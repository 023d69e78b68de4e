"""Training loop, schedule, checkpoints and learning-rate selection on tiny random data."""

import json
import math

import numpy as np
import pytest
import torch
from crossclass.data import ArraySplits
from crossclass.errors import UserError
from crossclass.sweep import lr_grid
from crossclass.training import (
    TrainConfig,
    checkpoint_epochs,
    final_metrics,
    fit,
    load_checkpoint,
    log_spaced_epochs,
    lr_at,
    milestone_epochs,
    select_lr,
    write_choice,
)
from crossclass.training.loop import batches
from torch import nn

pytestmark = pytest.mark.usefixtures("one_thread")


def blobs(n=24, classes=3, dim=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    means = 3 * torch.randn(classes, dim, generator=gen)
    y = torch.arange(classes).repeat(n)
    yt = torch.arange(classes).repeat(8)
    return ArraySplits("blobs", means[y] + torch.randn(len(y), dim, generator=gen), y,
                       means[yt] + torch.randn(len(yt), dim, generator=gen), yt, classes)


def build():
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def config(**kw):
    return TrainConfig(**{"lr": 0.05, "epochs": 6, "batch_size": 16, "progress": False,
                          "device": "cpu", **kw})


def test_paper_schedule_values():
    cfg = TrainConfig(lr=0.1, epochs=200)
    assert milestone_epochs(cfg) == [67, 133]
    assert [lr_at(cfg, e) for e in (1, 67, 68, 133, 134, 200)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rel=1e-12)
    assert milestone_epochs(TrainConfig(lr=1, epochs=350)) == [117, 233]
    assert (cfg.momentum, cfg.weight_decay, cfg.batch_size) == (0.9, 5e-4, 128)


def test_recorded_lr_follows_the_schedule(tmp_path):
    cfg = config()
    result = fit(build, blobs(), cfg, tmp_path)
    assert milestone_epochs(cfg) == [2, 4]
    np.testing.assert_allclose(result.history.lr.values,
                               [lr_at(cfg, e) for e in range(1, 7)], rtol=1e-15)
    np.testing.assert_allclose(result.history.lr.values, 0.05 * np.array([1, 1, .1, .1, .01, .01]),
                               rtol=1e-12)


def test_training_learns_and_writes_outputs(tmp_path):
    result = fit(build, blobs(), config(keep=(0, 2)), tmp_path, keys={"net": "toy"})
    h = result.history
    assert h.train_loss[-1] < h.train_loss[0]
    assert float(h.test_error[-1]) <= 0.25  # well-separated blobs; chance is 2/3
    assert sorted(result.checkpoints) == [0, 2, 6]
    assert all(p.is_file() for p in result.checkpoints.values())
    assert load_checkpoint(result.checkpoints[2])["epoch"] == 2
    final = load_checkpoint(tmp_path / "last.pt")
    assert final["epoch"] == 6 and final["history"]["test_error"][-1] == float(h.test_error[-1])
    metrics = final_metrics(result.metrics_path)
    assert metrics["lr"] == 0.05 and metrics["test_error"] == float(h.test_error[-1])


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    a = fit(build, blobs(), config(seed=3), tmp_path / "a").model.state_dict()
    b = fit(build, blobs(), config(seed=3), tmp_path / "b").model.state_dict()
    c = fit(build, blobs(), config(seed=4), tmp_path / "c").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["0.weight"], c["0.weight"])


def test_completed_run_is_not_retrained(tmp_path):
    first = fit(build, blobs(), config(), tmp_path)
    again = fit(build, blobs(), config(), tmp_path)
    assert first.resumed_from is None and again.resumed_from == 6
    assert all(torch.equal(v, again.model.state_dict()[k])
               for k, v in first.model.state_dict().items())


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign"])
def test_damaged_checkpoint_is_an_error_not_a_restart(tmp_path, damage):
    fit(build, blobs(), config(epochs=2), tmp_path)
    last = tmp_path / "last.pt"
    data = last.read_bytes()
    if damage == "truncate":
        last.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        last.write_bytes(b"\x00not a checkpoint" * 10)
    else:
        torch.save({"weights": torch.zeros(2)}, last)
    match = "not a crossclass" if damage == "foreign" else "corrupt or truncated"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(UserError, match=match):
        fit(build, blobs(), config(epochs=4), tmp_path)
    # nothing was started over: every file, the damaged one too, is as it was
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_resume_refuses_a_different_run(tmp_path):
    fit(build, blobs(), config(epochs=2), tmp_path)
    with pytest.raises(UserError, match="different run"):
        fit(build, blobs(), config(epochs=2, lr=0.01), tmp_path)


def test_config_validation():
    for bad in [{"lr": 0}, {"epochs": 0}, {"milestones": (1.5,)}, {"keep": (9,)},
                {"momentum": 1.0}, {"batch_size": 0}]:
        with pytest.raises(UserError):
            config(**bad)
    assert config(keep=(3, 0, 3)).keep == (0, 3, 6)


def test_checkpoint_epoch_grids():
    grid = log_spaced_epochs(10, 200)
    assert len(grid) == 10 and grid[0] == 1 and grid[-1] == 200
    assert all(a < b for a, b in zip(grid, grid[1:], strict=False))
    ratios = np.diff(np.log(grid[3:]))
    assert ratios.max() < 2.5 * ratios.min()  # roughly geometric once past rounding
    assert log_spaced_epochs(50, 5) == (1, 2, 3, 4, 5)
    assert checkpoint_epochs([5, 1, 5], 10) == (1, 5)
    assert checkpoint_epochs(3, 100) == log_spaced_epochs(3, 100)


def test_batches_drop_only_a_singleton_tail():
    assert [len(b) for b in batches(torch.arange(10), 4)] == [4, 4, 2]
    assert [len(b) for b in batches(torch.arange(9), 4)] == [4, 4]
    assert [len(b) for b in batches(torch.arange(8), 4)] == [4, 4]


def test_lr_grid_is_log_spaced_from_high_to_low():
    grid = lr_grid(100, 1e-4, 0.25)
    assert len(grid) == 100 and grid[0] == 0.25 and grid[-1] == pytest.approx(1e-4)
    np.testing.assert_allclose(np.diff(np.log(grid)), -math.log(2500) / 99, atol=1e-5)
    assert all(float(repr(r)) == r and len(f"{r:.6g}") == len(f"{r}") for r in grid)
    assert lr_grid(1, 0.01, 0.1) == [0.1]
    for bad in ((0, 1e-4, 0.25), (5, 0.5, 0.1), (5, 0.0, 0.1)):
        with pytest.raises(UserError):
            lr_grid(*bad)


def run(lr, err, loss):
    return {"lr": lr, "test_error": err, "test_loss": loss, "train_error": 0.0,
            "train_loss": 0.0, "store": f"s{lr}"}


def test_selection_rules(tmp_path):
    runs = [run(0.1, 0.2, 0.5), run(0.01, 0.1, 0.9), run(0.02, 0.1, 0.4),
            run(0.2, math.nan, math.nan), run(0.03, 0.1, 0.4)]
    assert select_lr(runs)["lr"] == 0.02  # best error, tie -> smaller loss, tie -> smaller lr
    assert select_lr([run(0.2, math.nan, math.nan), run(0.1, 0.9, 2.0)])["lr"] == 0.1
    with pytest.raises(UserError, match="diverged"):
        select_lr([run(0.2, math.nan, math.nan)])
    with pytest.raises(UserError):
        select_lr([])
    path = write_choice(select_lr(runs), runs, tmp_path / "choice.json")
    payload = json.loads(path.read_text())
    assert payload["selected"]["lr"] == 0.02 and len(payload["runs"]) == 5


def test_select_from_real_stores(tmp_path):
    stores = [fit(build, blobs(), config(lr=lr, epochs=3), tmp_path / str(lr)).metrics_path
              for lr in (1e-4, 0.05)]
    runs = [final_metrics(s) for s in stores]
    best = select_lr(runs)
    assert best["lr"] == 0.05 and best["test_error"] <= runs[0]["test_error"]


@pytest.mark.parametrize(("interval", "writes"), [(0.0, 6 + 1), (3600.0, 1 + 1)])
def test_resume_interval_sets_how_often_last_pt_is_written(tmp_path, monkeypatch, interval,
                                                           writes):
    """interval 0: last.pt every epoch (6) + the kept final epoch; a long interval: last.pt
    only at the end + the kept final epoch. The weights do not depend on it."""
    import crossclass.training.loop as loop

    calls = []
    real = loop.save_checkpoint
    monkeypatch.setattr(loop, "save_checkpoint", lambda s, p: calls.append(p) or real(s, p))
    result = fit(build, blobs(), config(resume_interval=interval), tmp_path / "run")
    assert len(calls) == writes
    reference = fit(build, blobs(), config(), tmp_path / "reference").model.state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in result.model.state_dict().items())


def test_resume_dir_holds_the_state_until_the_run_completes(tmp_path, monkeypatch):
    """A run killed (here: an exception) after epoch 3 leaves its state in resume_dir, not in
    out; deleting out (as Snakemake does) and rerunning resumes and publishes every file."""
    import crossclass.training.loop as loop

    out, resume = tmp_path / "run", tmp_path / "run.resume"
    real = loop.save_checkpoint

    def killed_after_3(state, path):
        real(state, path)
        if state["epoch"] == 3 and path.name == "last.pt":
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_checkpoint", killed_after_3)
    with pytest.raises(KeyboardInterrupt):
        fit(build, blobs(), config(keep=(1,), resume_interval=0), out, resume_dir=resume)
    monkeypatch.setattr(loop, "save_checkpoint", real)
    assert sorted(p.name for p in out.iterdir()) == []
    assert (resume / "checkpoints" / "epoch_0001.pt").is_file()
    out.rmdir()
    result = fit(build, blobs(), config(keep=(1,), resume_interval=0), out, resume_dir=resume)
    assert result.resumed_from == 3 and not resume.exists()
    assert result.checkpoints == {1: out / "checkpoints/epoch_0001.pt",
                                  6: out / "checkpoints/epoch_0006.pt"}
    reference = fit(build, blobs(), config(keep=(1,)), tmp_path / "reference")
    for name in ("last.pt", "checkpoints/epoch_0001.pt", "checkpoints/epoch_0006.pt"):
        a, b = load_checkpoint(out / name), load_checkpoint(tmp_path / "reference" / name)
        assert a["epoch"] == b["epoch"] and a["history"] == b["history"]
        assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())
    assert reference.history.equals(result.history)


def test_resume_without_a_kept_checkpoint_is_an_error(tmp_path):
    resume = tmp_path / "run.resume"
    fit(build, blobs(), config(epochs=2, keep=(1,), resume_interval=0), tmp_path / "run",
        resume_dir=resume)
    resume.mkdir()
    (tmp_path / "run" / "last.pt").rename(resume / "last.pt")  # at epoch 2, epoch 1 not kept
    with pytest.raises(UserError, match="kept checkpoint .*epoch_0001.pt is missing; delete"):
        fit(build, blobs(), config(epochs=2, keep=(1,)), tmp_path / "again", resume_dir=resume)
