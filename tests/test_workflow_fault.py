"""Fault tolerance: SIGKILL snakemake (and its job) during a long job, `--unlock`, rerun with
--rerun-incomplete, and get the stores of an uninterrupted run. Stores are written atomically
(crossclass.stores.write_store), so the killed job leaves no store under its final name and no
later job can read a half-written one."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import xarray as xr
import yaml
from crossclass.stores import read_store
from test_workflow_runs import TINY, repo_copy, snakemake

pytestmark = pytest.mark.slow
TARGET = "results/verification/fig15a/spectrum.zarr"


def test_killed_run_resumes_to_identical_stores(tmp_path):
    repo = repo_copy(tmp_path / "repo")
    config = yaml.safe_load(TINY.read_text())
    config["verification"]["fig15a"].update(p=400)  # a job that runs for seconds
    config["verification"]["fig15a"]["spectrum"].update(M=120, n_vec=8)
    slow = tmp_path / "slow.yaml"
    slow.write_text(yaml.safe_dump(config))
    args = ["snakemake", TARGET, "--cores", "1", "--configfile", str(slow)]
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))

    proc = subprocess.Popen(args, cwd=repo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = repo / "results/logs/verify_spectrum/fig15a.log"
    deadline = time.monotonic() + 240
    while not log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    time.sleep(1.5)  # inside the spectrum job
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    target = repo / TARGET
    assert not target.exists(), "a killed job left a store under its final name"
    matrix = read_store(repo / "results/verification/fig15a/matrix.zarr")  # finished: complete
    assert matrix["eigenvalues"].size == 400

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
