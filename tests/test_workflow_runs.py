"""Real snakemake runs of tests/configs/tiny.yaml in a temporary copy of the repository.

After a full run nothing is left to do; a changed figure option or figure module replans exactly
that figure; one target on a clean tree plans only its ancestors. The copy carries its own
package source (PYTHONPATH), so editing a module there is what the `code` params see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest
import yaml
from crossclass.stores import read_store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "configs" / "tiny.yaml"
COPIED = ("Snakefile", "rules", "config", "envs", "workflow", "tests/configs")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "results", ".snakemake")


def repo_copy(dest: Path) -> Path:
    """The workflow files of the repository (rules, config, package source) under `dest`."""
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORED)
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def snakemake(repo: Path, *args: str, check: bool = True, timeout: float = 300
              ) -> subprocess.CompletedProcess:
    """Run snakemake in `repo` with the copy's package first on the path."""
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))
    proc = subprocess.run(["snakemake", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned(repo: Path, *targets: str, config: Path = TINY) -> dict[str, int]:
    """Rule -> job count of a dry run ({} when nothing is to be done)."""
    proc = snakemake(repo, "-n", *targets, "--configfile", str(config))
    text = proc.stdout + proc.stderr
    table = re.search(r"^job\s+count\n-+\s+-+\n(.*?)^total", text, re.M | re.S)
    if table is None:
        assert "Nothing to be done" in text, text
        return {}
    return {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A repository copy after a complete run of the tiny config."""
    repo = repo_copy(tmp_path_factory.mktemp("repo"))
    snakemake(repo, "--cores", "2", "--configfile", "tests/configs/tiny.yaml")
    return repo


def test_full_run_writes_figure_stores_logs_and_benchmarks(finished):
    results = finished / "results"
    for ext in ("pdf", "png"):
        assert (results / "figures" / f"fig15.{ext}").stat().st_size > 10_000
    assert matplotlib.image.imread(results / "figures" / "fig15.png").shape[2] in (3, 4)
    tiny = yaml.safe_load(TINY.read_text())["verification"]
    for name, cfg in tiny.items():
        ds = read_store(results / "verification" / name / "spectrum.zarr")
        assert ds["matrix"].item() == name
        assert ds.sizes["eigen"] == cfg["p"]
        assert ds.sizes["grid"] == cfg["spectrum"]["K"]
        assert ds.sizes["start_vector"] == cfg["spectrum"]["n_vec"]
        assert ds.attrs["M"] == cfg["spectrum"]["M"]
    for rule_name in ("verify_matrix", "verify_spectrum", "figure"):
        assert list((results / "logs" / rule_name).glob("*.log"))
        assert list((results / "benchmarks" / rule_name).glob("*.tsv"))


def test_complete_run_has_nothing_to_do(finished):
    assert planned(finished) == {}


def test_changed_figure_option_replans_only_that_figure(finished, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["figure_options"]["fig15"]["bins"] = 20
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    assert planned(finished, config=changed) == {"fig15": 1, "all": 1}


def test_changed_spectrum_parameter_replans_its_spectrum_and_figure(finished, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["verification"]["fig15a"]["spectrum"]["M"] = 20
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    assert planned(finished, config=changed) == {
        "verify_spectrum": 1, "fig15": 1, "all": 1}


def test_edited_figure_module_replans_only_that_figure(finished):
    module = finished / "workflow" / "crossclass" / "figures" / "fig15.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# an edit\n")
        assert planned(finished) == {"fig15": 1, "all": 1}
    finally:
        module.write_text(original)
    assert planned(finished) == {}


def test_one_target_on_a_clean_tree_plans_only_its_ancestors(tmp_path):
    repo = repo_copy(tmp_path)
    assert planned(repo, "results/verification/fig15b/spectrum.zarr") == {
        "verify_matrix": 1, "verify_spectrum": 1}
