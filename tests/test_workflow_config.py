"""Config validation, planning the paper grid, `snakemake --lint`, and the conda environment."""

from __future__ import annotations

import re
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from test_workflow_runs import REPO, planned, repo_copy, snakemake

BROKEN = [
    ("verification:\n  fig15a:\n    spectrum: {method: arnoldi}\n",
     "verification.fig15a.spectrum.method: 'arnoldi' is not one of ['lanczos', 'exact']"),
    ("verification:\n  fig15b:\n    spectrum: {M: 1}\n",
     "verification.fig15b.spectrum.M: 1 is less than the minimum of 2"),
    ("verification:\n  fig15a:\n    spectrum: {deflate: D}\n",
     "verification.fig15a.spectrum.deflate = 'D' is invalid; allowed: ['integer', ['C', 'C2']]"),
    ("figures: [fig99]\n",
     "figures.0: 'fig99' is not one of ['fig3', 'fig4', 'fig5', 'fig6', 'fig14', 'fig15',"),
    ("device: gpu\n", "device: 'gpu' does not match"),
    ("bogus: 1\n",
     "('bogus' was unexpected) at (top level); allowed keys: analysis, claims, data,"),
    ("analysis: {splits: [valid]}\n", "analysis.splits.0: 'valid' is not one of"),
    ("experiments: [{dataset: gmm, net: mlp, n_per_class: [0], epochs: [1]}]\n",
     "experiments.0.n_per_class.0: 0 is less than the minimum of 1"),
    ("experiments: [{dataset: gmm, net: mlp, n_per_class: [5], epochs: [999]}]\n",
     "experiments (gmm, mlp).epochs [999] exceed training.epochs = 20"),
    ("analysis: {operators: {density: [G_bogus]}}\n",
     "analysis.operators.density.0: 'G_bogus' does not match '^(hess|G|E|"),
    ("analysis: {operators: {sharp: [G]}}\n",
     "analysis.operators.sharp: no settings 'sharp' in analysis.spectra"),
    ("figure_data: {fig5: {n_per_class: 7}}\n",
     "figure_data.fig5.n_per_class [7] not in the experiment's [20, 50]"),
    ("figure_data: {fig3: {rows: [{dataset: digits, net: mlp, n_per_class: 20, epoch: 3}]}}\n",
     "figure_data.fig3.rows[0].epoch [3] not in the experiment's [30]"),
    ("figure_data: {fig16: {spectra: hess_plain}}\n",
     "figure_data.fig16.spectra: fig16 needs a log spectrum"),
    ("figure_data: {fig6: {net: vgg11}}\n", "figure_data.fig6: no experiment (gmm, vgg11)"),
    ("figure_data: {fig6: {spectra: density}}\n",
     "figure_data.fig6.spectra: analysis.spectra.density must set deflate: C"),
    ("figure_data: {layers: {layer: 'a:b'}}\n", "figure_data.layers.layer: 'a:b' does not match"),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return repo_copy(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def broken_runs(repo, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """`snakemake -n` of every broken config, run concurrently (each is parse-only)."""
    folder = tmp_path_factory.mktemp("broken")

    def plan(index_text):
        index, text = index_text
        path = folder / f"broken{index}.yaml"
        path.write_text(text)
        return text, snakemake(repo, "-n", "--configfile", str(path), check=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(plan, enumerate(text for text, _ in BROKEN)))


@pytest.mark.parametrize(("text", "message"), BROKEN, ids=[m[:24] for _, m in BROKEN])
def test_invalid_config_stops_before_any_job_with_one_line(repo, broken_runs, text, message):
    proc = broken_runs[text]
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Job stats" not in proc.stdout + proc.stderr
    assert not (repo / "results" / "logs").exists()


def test_defaults_fill_a_minimal_config(repo, tmp_path):
    """Keys left out of a config take the schema's defaults (here: all of fig15b)."""
    minimal = tmp_path / "minimal.yaml"
    minimal.write_text("figures: [fig15]\nverification: {fig15a: {p: 30}}\nexperiments: []\n")
    proc = snakemake(repo, "-n", "--configfile", str(minimal), "--printshellcmds")
    assert "--set n=80" not in proc.stdout and "--set p=30" in proc.stdout


def test_paper_grid_plans(repo):
    """The Appendix D grid validates; one (dataset, net, n) plans its 25-rate MLP sweep."""
    jobs = planned(repo, "results/paper/train/cifar100/mlp/n5000/choice.json",
                   config=repo / "config" / "paper.yaml")
    assert jobs == {"fetch_data": 1, "subsample": 1, "train": 25, "select_lr": 1}
    proc = snakemake(repo, "-n", "--printshellcmds", "results/paper/train/mnist/vgg11/n10/lr99",
                     "--configfile", "config/paper.yaml")
    assert "--lr 0.0001 --epochs 200" in proc.stdout and "--device cuda" in proc.stdout
    assert "--checkpoints 10 50 100 200" in proc.stdout


def test_lint_is_clean(repo):
    proc = snakemake(repo, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_conda_env_matches_pyproject():
    """envs/crossclass.yaml pins exactly pyproject's dependencies, and installs the package."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "envs" / "crossclass.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    requirements = [r for r in pip if not r.startswith("-")]
    assert sorted(requirements) == sorted(project["dependencies"])
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    minimum = re.search(r">=\s*([\d.]+)", project["requires-python"]).group(1)
    assert python.split("=")[-1].startswith(minimum)
    assert "-e .." in pip


def test_every_rule_has_log_benchmark_conda_and_code_param(repo):
    """Each rule (but `all`) logs, benchmarks, runs in the env and hashes the code it runs;
    every figure rule reports its PDF and PNG with a caption file and a category."""
    rules_text = "".join(p.read_text() for p in sorted((repo / "rules").glob("*.smk")))
    rules = re.split(r"^(?:rule|checkpoint) (?=\w+:$)", rules_text, flags=re.M)[1:]
    assert len(rules) >= 14
    for body in rules:
        name = body.split(":")[0]
        for directive in ("log:", "benchmark:", "conda:", "code="):
            assert directive in body, f"rule {name} lacks {directive}"
        assert "config[" not in body.split("shell:")[-1], f"rule {name} reads config in shell"
    figures = re.split(r"^rule ", (repo / "rules" / "figures.smk").read_text(), flags=re.M)[1:]
    for body in figures:
        name = body.split(":")[0]
        assert body.count("report(") == 2 and body.count("category=") == 2, name
        assert (repo / "workflow" / "crossclass" / "report" / f"{name}.rst").is_file(), name
