"""The tiny workflow through the SLURM profile on a real single-node cluster (localhost).

Runs by default as root where slurm-wlm is installed or apt-get can install it; it installs
slurm-wlm and munge when missing and starts munged, slurmctld and slurmd
(tests/slurm/start_cluster.sh), then stops exactly those daemons. CROSSCLASS_SKIP_SLURM=1 skips
it. The profile is used as shipped except that the per-rule resources are fitted to the test
node (1 GB per job; the tiny config runs on the CPU, so no job asks for a GPU), it names the
test cluster's partition, and jobs use the installed package rather than a conda environment.
The SLURM run builds Figure 5 of the tiny config as grouped submissions, which passes through
every network stage (fetch_data, subsample, train x sweep, the select_lr checkpoint, extract,
spectra, figure); every store it writes equals the shared local run's
(test_workflow_runs.tiny_run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import matplotlib.image
import pytest
import xarray as xr
import yaml
from crossclass.stores import read_store
from figure_checks import check_files
from test_workflow_runs import REPO, repo_copy, tiny_run


def skip_reason() -> str | None:
    """Why this machine cannot run the test, or None."""
    if os.environ.get("CROSSCLASS_SKIP_SLURM") == "1":
        return "CROSSCLASS_SKIP_SLURM=1"
    if os.geteuid() != 0:
        return "the SLURM test starts daemons and needs root"
    if not installed() and shutil.which("apt-get") is None:
        return "slurm-wlm is not installed and apt-get is not available to install it"
    return None


def installed() -> bool:
    return all(shutil.which(t) for t in ("slurmctld", "slurmd", "munged", "sbatch"))


def install_or_skip() -> None:
    """Install slurm-wlm and munge with apt-get where missing; skip the test, saying why, when
    that fails (no package registry reachable, no such package), instead of erroring."""
    if installed():
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:  # a failed update (offline) shows as a failed install: only the install decides
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        proc = subprocess.run(["apt-get", "install", "-y", "-q", "slurm-wlm", "munge"], env=env,
                              capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as err:
        pytest.skip(f"SLURM test: `{' '.join(err.cmd)}` timed out: no package registry?")
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        pytest.skip(f"SLURM test: slurm-wlm could not be installed "
                    f"({lines[-1] if lines else proc.returncode})")
    if not installed():
        pytest.skip("SLURM test: apt-get installed slurm-wlm but its daemons are not on PATH")


pytestmark = [pytest.mark.slurm, pytest.mark.slow,
              pytest.mark.skipif(skip_reason() is not None, reason=f"SLURM test: {skip_reason()}")]
SCRIPTS = REPO / "tests" / "slurm"
FIGURE = "results/figures/fig5.pdf"


@pytest.fixture
def cluster(tmp_path):
    install_or_skip()
    state = tmp_path / "slurm"
    try:
        subprocess.run(["timeout", "-k", "10", "600", "bash", SCRIPTS / "start_cluster.sh", state],
                       check=True, timeout=620)
        yield state
    finally:
        subprocess.run(["bash", SCRIPTS / "stop_cluster.sh", state], timeout=60)


def stores(results):
    """Every Zarr store below `results`, relative to it."""
    return sorted(p.relative_to(results) for p in results.rglob("*.zarr"))


def test_slurm_profile_run_equals_local_run(cluster, tmp_path, tmp_path_factory):
    local = tiny_run(tmp_path_factory) / "results"
    repo = repo_copy(tmp_path / "repo")
    profile = yaml.safe_load((REPO / "config/profiles/slurm/config.yaml").read_text())
    profile["set-resources"] = {"train": {"mem_mb": 1000}, "extract": {"mem_mb": 1000}}
    profile["default-resources"]["slurm_partition"] = "main"  # the test cluster's
    profile.pop("software-deployment-method")  # the test node runs this checkout's package
    test_profile = tmp_path / "profile"
    test_profile.mkdir()
    (test_profile / "config.yaml").write_text(yaml.safe_dump(profile))

    os.environ["SLURM_CONF"] = str(cluster / "slurm.conf")
    try:
        proc = subprocess.run(
            ["timeout", "-k", "10", "540", "snakemake", FIGURE, "--profile", str(test_profile),
             "--configfile", "tests/configs/tiny.yaml", "--jobs", "4",
             "--slurm-status-command", "squeue", "--slurm-no-account",
             "--slurm-init-seconds-before-status-checks", "2",
             "--slurm-logdir", str(tmp_path / "slurm_logs")],
            cwd=repo, env=dict(os.environ, PYTHONPATH=str(repo / "workflow")),
            capture_output=True, text=True, timeout=600)
        jobs = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%T"], capture_output=True,
                              text=True, check=True).stdout.split()
    finally:
        del os.environ["SLURM_CONF"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    remote = repo / "results"
    built = stores(remote)
    assert set(built) <= set(stores(local))
    assert {p.parts[0] for p in built} == {"data", "train", "extract", "spectra"}, built
    fig5 = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())["figure_data"]["fig5"]
    spectra = {p.name for p in built if p.parts[0] == "spectra"}
    assert {f"{op}.zarr" for op in fig5["operators"]} <= spectra, spectra
    tiny = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    rates = tiny["training"]["lr_count"]["default"]
    # submitted: one training batch (both rates), one group of extract + its spectra job; the
    # local rules (fetch_data, subsample, select_lr, fig5) never reach the scheduler
    assert rates <= tiny["training"].get("runs_per_job", 10)
    assert jobs and set(jobs) == {"COMPLETED"} and len(jobs) <= 3, jobs
    for store in built:
        a, b = read_store(local / store), read_store(remote / store)
        xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
        assert a.attrs["params"] == b.attrs["params"], store
    for choice in remote.glob("train/*/*/*/choice.json"):
        assert json.loads(choice.read_text()) == json.loads(
            (local / choice.relative_to(remote)).read_text())
    check_files(remote / "figures" / "fig5.pdf")  # drawn from stores equal to the local run's
    assert (matplotlib.image.imread(remote / "figures" / "fig5.png")
            == matplotlib.image.imread(local / "figures" / "fig5.png")).all()
