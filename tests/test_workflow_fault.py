"""Fault tolerance: SIGKILL snakemake (and its job) during a long job, `--unlock`, rerun with
--rerun-incomplete, and get the stores of an uninterrupted run. Stores are written atomically
(crossclass.stores.write_store), so the killed job leaves no store under its final name and no
later job can read a half-written one. A killed train job resumes from its resume state beside
the run folder; a damaged checkpoint's advice, followed, makes Snakemake redo its run. A failed
job's one-line message reaches the console, not only its log."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
import yaml
from crossclass.stores import read_store
from crossclass.training import load_checkpoint
from deadlines import within
from test_workflow_runs import TINY, job_resources, repo_copy, snakemake

pytestmark = pytest.mark.slow
TARGET = "results/verification/fig15a/spectrum.zarr"


def test_killed_run_resumes_to_identical_stores(tmp_path):
    """Killed once its spectrum job's Lanczos bar is in the log (seconds of work left: a large
    matrix and many start vectors), never after a guessed delay."""
    repo = repo_copy(tmp_path / "repo")
    config = yaml.safe_load(TINY.read_text())
    config["progress"] = True  # the job's bar, in its log, shows it is inside its Lanczos run
    config["verification"]["fig15a"].update(p=2000)
    config["verification"]["fig15a"]["spectrum"].update(M=400, n_vec=64)
    slow = tmp_path / "slow.yaml"
    slow.write_text(yaml.safe_dump(config))
    args = ["snakemake", TARGET, "--cores", "1", "--configfile", str(slow)]
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))

    proc = subprocess.Popen(args, cwd=repo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = repo / "results/logs/verify_spectrum/fig15a.log"
    deadline = time.monotonic() + within(240)

    def in_lanczos() -> bool:
        return log.exists() and "%|" in log.read_text(errors="replace")

    while not in_lanczos() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None and in_lanczos(), "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=within(30))

    target = repo / TARGET
    assert not target.exists(), "a killed job left a store under its final name"
    matrix = read_store(repo / "results/verification/fig15a/matrix.zarr")  # finished: complete
    assert matrix["eigenvalues"].size == 2000

    snakemake(repo, "--unlock", "--configfile", str(slow))  # the killed run left its lock
    rerun = snakemake(repo, TARGET, "--cores", "1", "--configfile", str(slow),
                      "--rerun-incomplete")
    assert "verify_spectrum" in rerun.stdout + rerun.stderr
    resumed = read_store(target).load()

    clean = repo_copy(tmp_path / "clean")
    snakemake(clean, TARGET, "--cores", "1", "--configfile", str(slow))
    reference = read_store(clean / TARGET).load()
    xr.testing.assert_identical(resumed.drop_attrs(), reference.drop_attrs())
    assert resumed.attrs["params"] == reference.attrs["params"]


def long_training(tmp_path, epochs: int) -> Path:
    """tiny.yaml with `epochs` training epochs of one rate and a resume checkpoint every epoch."""
    config = yaml.safe_load(TINY.read_text())
    config["training"].update(epochs={"default": epochs}, resume_interval=0,
                              lr_count={"default": 1})
    path = tmp_path / f"train{epochs}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def assert_same_checkpoint(a: Path, b: Path) -> None:
    """Two checkpoints hold the same epoch, history, weights, momentum and RNG states, in the
    same bytes."""
    assert a.read_bytes() == b.read_bytes()
    x, y = load_checkpoint(a), load_checkpoint(b)
    assert x["epoch"] == y["epoch"] and x["history"] == y["history"]
    assert x["model"].keys() == y["model"].keys()
    assert all(torch.equal(v, y["model"][k]) for k, v in x["model"].items())
    assert x["optimizer"]["state"].keys() == y["optimizer"]["state"].keys()
    assert all(torch.equal(s["momentum_buffer"], y["optimizer"]["state"][k]["momentum_buffer"])
               for k, s in x["optimizer"]["state"].items())
    assert all(torch.equal(x["rng"][k], y["rng"][k]) for k in x["rng"])


def test_killed_train_job_resumes_under_snakemake(tmp_path):
    """SIGKILL snakemake and its train job once its resume checkpoint is 3 epochs in (read from
    the checkpoint, not guessed from a delay); the rerun (which deletes the incomplete batch
    folder, not the one it trains in) resumes from it and ends bitwise equal to a clean run."""
    epochs = 400
    config = long_training(tmp_path, epochs)
    batch = "results/train/gmm/mlp/n12/batch0"
    run = f"{batch}/lr0"
    repo = repo_copy(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))
    proc = subprocess.Popen(["snakemake", batch, "--cores", "1", "--configfile", str(config)],
                            cwd=repo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + within(240)

    def resume_state():
        return next(repo.glob(f"{batch}.partial-*/lr0.resume/last.pt"), None)

    def resumed_epoch() -> int:
        """The epoch of the resume checkpoint (0 before it exists); it is replaced atomically,
        so a read never sees half of it."""
        state = resume_state()
        return 0 if state is None else load_checkpoint(state)["epoch"]

    while resumed_epoch() < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # wait for the job to be a few epochs in, by its own checkpoint
    resume = resume_state()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=within(30))
    killed_at = load_checkpoint(resume)["epoch"]
    assert 1 <= killed_at < epochs, "the run finished before it could be killed"
    assert not (repo / run / "metrics.zarr").exists()

    snakemake(repo, "--unlock", "--configfile", str(config))
    snakemake(repo, batch, "--cores", "1", "--configfile", str(config), "--rerun-incomplete")
    log = (repo / "results/logs/train/gmm/mlp/n12/batch0.log").read_text()
    resumed_at = int(re.search(rf"resuming from epoch (\d+) of {epochs}", log).group(1))
    assert resumed_at == killed_at  # the state the killed job left, not a fresh start
    assert not resume.parent.exists(), "the resume state outlived the finished run"

    clean = repo_copy(tmp_path / "clean")
    snakemake(clean, batch, "--cores", "1", "--configfile", str(config))
    for name in ("last.pt", f"checkpoints/epoch_{epochs:04d}.pt", "checkpoints/epoch_0001.pt",
                 "checkpoints/epoch_0002.pt"):
        assert_same_checkpoint(repo / run / name, clean / run / name)
    xr.testing.assert_identical(read_store(repo / run / "metrics.zarr").load().drop_attrs(),
                                read_store(clean / run / "metrics.zarr").load().drop_attrs())


def test_damaged_checkpoint_advice_redoes_the_run(tmp_path):
    """A checkpoint damaged in place (random bytes, or truncated) stops extract with one line
    whose command deletes every run holding the damaged bytes (the selected run and, through
    its hard link, the sweep batch, which the choice no longer needs); followed, Snakemake
    retrains the selected run, then extracts, after which nothing is left to do and no damaged
    copy remains. A deleted link is redone alone: linked again from the intact sweep run."""
    repo = repo_copy(tmp_path / "repo")
    key = Path("results/train/gmm/mlp/n6")
    run = key / "selected"  # the chosen run, linked from the sweep
    snakemake(repo, str(run), "--cores", "2", "--configfile", str(TINY))
    target = "results/extract/gmm/mlp/n6/e2/train/means.zarr"
    for damage in ("delete", "random", "truncate"):
        checkpoint = repo / run / "checkpoints/epoch_0002.pt"
        size, linked = checkpoint.stat().st_size, checkpoint.stat().st_nlink > 1
        assert linked == (damage != "truncate")  # the last round reads a retrained run
        if damage == "random":
            with open(checkpoint, "r+b") as fh:
                fh.write(np.random.default_rng(0).bytes(size))
        elif damage == "truncate":
            with open(checkpoint, "r+b") as fh:
                fh.truncate(size // 2)
        else:
            checkpoint.unlink()
        retry = ["--restart-times", "1"] if damage == "delete" else []
        failed = snakemake(repo, target, "--cores", "1", "--configfile", str(TINY), *retry,
                           check=False)
        assert failed.returncode != 0
        if retry:  # the retry asks for twice the memory and runtime of the first attempt
            tries = [f for rule, f in job_resources(failed.stdout + failed.stderr)
                     if rule == "extract"]
            assert len(tries) == 2, failed.stderr
            for name in ("resources.mem_mb", "resources.runtime"):
                assert int(tries[1][name]) == 2 * int(tries[0][name]), (name, tries)
        log = (repo / "results/logs/extract/gmm/mlp/n6/e2/train.log").read_text().strip()
        error = log.splitlines()[-1]
        assert error.startswith(f"crossclass extract: error: checkpoint {run}/"), log
        assert "weights_only" not in error
        assert error in failed.stderr.splitlines()  # on the console too (Snakefile onerror)
        command = re.search(r"redo its run.*: (rm -r [^,]+), then rerun snakemake$",
                            error).group(1)
        folders = shlex.split(command)[2:]
        shared = linked and damage != "delete"
        assert folders == ([str(run), str(key / "batch0")] if shared else [str(run)])
        subprocess.run(shlex.split(command), cwd=repo, check=True)
        rerun = snakemake(repo, target, "--cores", "1", "--configfile", str(TINY))
        assert re.search(r"^train_selected\s+1$", rerun.stdout + rerun.stderr, re.M)
        assert read_store(repo / target, ["means"])["means"].size
        for kept in (repo / key).rglob("*.pt"):  # no copy of the damaged bytes is left
            load_checkpoint(kept)
        quiet = snakemake(repo, target, "-n", "--configfile", str(TINY))
        assert "Nothing to be done" in quiet.stdout + quiet.stderr
        shutil.rmtree(repo / target)  # the next damage is read by a fresh extract


def test_failed_job_message_is_printed_on_the_console(tmp_path):
    """Without a profile (no --show-failed-logs), a job that fails at run time on a damaged
    input store wrote its one-line message into its log only; the workflow's onerror prints
    that line on snakemake's stderr too."""
    repo = repo_copy(tmp_path / "repo")
    matrix = "results/verification/fig15a/matrix.zarr"
    snakemake(repo, matrix, "--cores", "1", "--configfile", str(TINY))
    (repo / matrix / "eigenvalues/c/0").unlink()  # its one chunk
    failed = snakemake(repo, TARGET, "--cores", "1", "--configfile", str(TINY), check=False)
    assert failed.returncode != 0
    log = "results/logs/verify_spectrum/fig15a.log"
    message = (repo / log).read_text().strip().splitlines()[-1]
    assert message.startswith(f"crossclass spectra: error: store {matrix} is damaged: "), message
    console = failed.stderr.splitlines()
    assert message in console, failed.stderr
    assert console[console.index(message) - 1] == f"Error in rule verify_spectrum (log: {log}):"
