"""A `crossclass train` process killed with SIGKILL and restarted resumes from its rolling
checkpoint and ends bitwise identical (CPU) to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from crossclass import cli
from crossclass.data import write_subset
from crossclass.training import load_checkpoint
from deadlines import within

PLUGIN_PKG = Path(__file__).parent / "plugin_pkg"
EPOCHS = 60  # the kill comes at the first checkpoint: 59 epochs before the run could end


def arguments(subset: Path, root: Path, out: Path) -> list[str]:
    return ["train", "--subset", str(subset), "--root", str(root), "--net", "tiny",
            "--set", "hidden=64", "--lr", "0.05", "--epochs", str(EPOCHS), "--seed", "7",
            "--checkpoints", "1", "6", "--batch-size", "16", "--resume-interval", "0",
            "--device", "cpu", "--no-progress", "--out", str(out)]


def kill_after_first_checkpoint(proc: subprocess.Popen, last: Path) -> None:
    deadline = time.monotonic() + within(240)
    while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)


@pytest.mark.slow
def test_sigkill_then_resume_is_bitwise_identical(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN_PKG))
    from crossclass_toyplug import blobs

    options = {"per_class": 150}
    subset = write_subset(tmp_path / "subset.zarr", "blobs", blobs(tmp_path, **options), 150,
                          seed=0, options=options)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PLUGIN_PKG),
                                                       os.environ.get("PYTHONPATH")]))}
    ref_dir, run_dir = tmp_path / "reference", tmp_path / "killed"
    command = [sys.executable, "-m", "crossclass.cli", *arguments(subset, tmp_path, run_dir)]
    victim = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    killer = threading.Thread(target=kill_after_first_checkpoint,
                              args=(victim, run_dir / "last.pt"))
    killer.start()
    # the uninterrupted reference runs meanwhile, in this process, also on one thread
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert cli.main(arguments(subset, tmp_path, ref_dir)) == 0
    finally:
        torch.set_num_threads(threads)
    killer.join()
    assert victim.wait(timeout=within(30)) == -signal.SIGKILL
    killed_at = load_checkpoint(run_dir / "last.pt")["epoch"]
    assert 1 <= killed_at < EPOCHS, "the run finished before it could be killed"
    assert not (run_dir / "metrics.zarr").exists()

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=within(300))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from epoch {killed_at} of {EPOCHS}" in resumed.stderr

    for name in ("last.pt", f"checkpoints/epoch_{EPOCHS:04d}.pt", "checkpoints/epoch_0006.pt"):
        assert (ref_dir / name).read_bytes() == (run_dir / name).read_bytes(), name
        a, b = load_checkpoint(ref_dir / name), load_checkpoint(run_dir / name)
        assert a["epoch"] == b["epoch"] and a["history"] == b["history"]
        assert a["model"].keys() == b["model"].keys()
        assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())
        moments_a = [s["momentum_buffer"] for s in a["optimizer"]["state"].values()]
        moments_b = [s["momentum_buffer"] for s in b["optimizer"]["state"].values()]
        assert len(moments_a) == 6 and all(map(torch.equal, moments_a, moments_b))
        assert a["scheduler"] == b["scheduler"]
        assert all(torch.equal(a["rng"][k], b["rng"][k]) for k in a["rng"])


def test_metrics_only_sweep_run_then_the_choice_is_retrained_bitwise(tmp_path, monkeypatch,
                                                                      one_thread):
    """A --metrics-only run keeps no checkpoint; `train --choice` of its choice file retrains
    the rate and ends bitwise equal to a run that kept its checkpoints from the start, whose
    own choice is linked instead of retrained."""
    import json

    monkeypatch.syspath_prepend(str(PLUGIN_PKG))
    from crossclass_toyplug import blobs

    options = {"per_class": 20}
    subset = write_subset(tmp_path / "subset.zarr", "blobs", blobs(tmp_path, **options), 20,
                          seed=0, options=options)
    base = arguments(subset, tmp_path, tmp_path / "x")
    base = base[:base.index("--out")]
    sweep, kept = tmp_path / "sweep", tmp_path / "kept"
    metrics_only = [a for a in base if a not in ("--checkpoints", "1", "6")] + ["--metrics-only"]
    assert cli.main([*metrics_only, "--out", str(sweep)]) == 0
    assert sorted(p.name for p in sweep.iterdir()) == ["metrics.zarr"]
    assert cli.main([*base, "--out", str(kept)]) == 0
    for run, name in ((sweep, "retrained"), (kept, "linked")):
        choice = tmp_path / f"{name}.json"
        choice.write_text(json.dumps({"selected": {"lr": 0.05,
                                                   "store": str(run / "metrics.zarr")}}))
        no_lr = [a for a in base if a not in ("--lr", "0.05")]
        assert cli.main([*no_lr, "--choice", str(choice), "--out", str(tmp_path / name)]) == 0
        for epoch in (1, 6, EPOCHS):
            a = load_checkpoint(tmp_path / name / f"checkpoints/epoch_{epoch:04d}.pt")
            b = load_checkpoint(kept / f"checkpoints/epoch_{epoch:04d}.pt")
            assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items()), epoch
    linked = tmp_path / "linked" / "checkpoints" / "epoch_0001.pt"
    assert linked.stat().st_ino == (kept / "checkpoints" / "epoch_0001.pt").stat().st_ino
