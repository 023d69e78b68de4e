"""The tiny workflow through the SLURM profile on a real single-node cluster (localhost).

Runs only when selected (`pytest -m slurm`) or with CROSSCLASS_TEST_SLURM=1, as root: it
installs slurm-wlm and munge with apt-get when missing and starts munged, slurmctld and slurmd
(tests/slurm/start_cluster.sh), then stops exactly those daemons. The profile is used as
shipped except `gpu: 0` (the test node has no GPU). Outputs must equal a local run's.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import xarray as xr
import yaml
from crossclass.stores import read_store
from test_workflow_runs import REPO, repo_copy, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
SCRIPTS = REPO / "tests" / "slurm"
STORES = [f"verification/{m}/{s}.zarr"
          for m in ("fig15a", "fig15b") for s in ("matrix", "spectrum")]


@pytest.fixture
def cluster(request, tmp_path):
    selected = "slurm" in (request.config.getoption("markexpr") or "")
    if not (selected or os.environ.get("CROSSCLASS_TEST_SLURM") == "1"):
        pytest.skip("SLURM test: run with `pytest -m slurm` or CROSSCLASS_TEST_SLURM=1")
    if os.geteuid() != 0:
        pytest.skip("the SLURM test starts daemons and needs root")
    state = tmp_path / "slurm"
    try:
        subprocess.run(["timeout", "-k", "10", "600", "bash", SCRIPTS / "start_cluster.sh", state],
                       check=True, timeout=620)
        yield state
    finally:
        subprocess.run(["bash", SCRIPTS / "stop_cluster.sh", state], timeout=60)


def test_slurm_profile_run_equals_local_run(cluster, tmp_path):
    repo = repo_copy(tmp_path / "repo")
    profile = yaml.safe_load((REPO / "config/profiles/slurm/config.yaml").read_text())
    for resources in profile["set-resources"].values():
        resources.pop("gpu", None)
    test_profile = tmp_path / "profile"
    test_profile.mkdir()
    (test_profile / "config.yaml").write_text(yaml.safe_dump(profile))
    tiny = ["--configfile", "tests/configs/tiny.yaml"]

    snakemake(repo, "--cores", "2", *tiny, "--config", "results=local")
    os.environ["SLURM_CONF"] = str(cluster / "slurm.conf")
    try:
        proc = subprocess.run(
            ["timeout", "-k", "10", "540", "snakemake", "--profile", str(test_profile), *tiny,
             "--config", "results=on_slurm", "--jobs", "4", "--slurm-status-command", "squeue",
             "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2",
             "--slurm-logdir", str(tmp_path / "slurm_logs")],
            cwd=repo, env=dict(os.environ, PYTHONPATH=str(repo / "workflow")),
            capture_output=True, text=True, timeout=600)
        jobs = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%T"], capture_output=True,
                              text=True, check=True).stdout.split()
    finally:
        del os.environ["SLURM_CONF"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert jobs.count("COMPLETED") >= 5, jobs  # 2 matrices, 2 spectra, the figure
    for store in STORES:
        local, remote = read_store(repo / "local" / store), read_store(repo / "on_slurm" / store)
        xr.testing.assert_identical(local.drop_attrs(), remote.drop_attrs())
        assert local.attrs["params"] == remote.attrs["params"]
    assert (repo / "on_slurm" / "figures" / "fig15.pdf").stat().st_size > 10_000
