"""Config validation, planning the paper grid, `snakemake --lint`, and the conda environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from test_workflow_runs import REPO, TINY, job_resources, planned, repo_copy, snakemake

SLURM = ["--profile", "config/profiles/slurm", "--sdm", "env-modules"]  # no conda here
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
     "figure_data.fig5.n_per_class [7] not in the experiment's [50, 200]"),
    ("figure_data: {fig3: {rows: [{dataset: digits, net: mlp, n_per_class: 50, epoch: 3}]}}\n",
     "figure_data.fig3.rows[0].epoch [3] not in the experiment's [20, 30]"),
    ("figure_data: {fig16: {spectra: hess_plain}}\n",
     "figure_data.fig16.spectra: fig16 needs a log spectrum"),
    ("figure_data: {fig6: {net: vgg11}}\n", "figure_data.fig6: no experiment (gmm, vgg11)"),
    ("figure_data: {fig6: {spectra: density}}\n",
     "figure_data.fig6.spectra: analysis.spectra.density must set deflate: C"),
    ("figure_data: {layers: {layer: 'a:b'}}\n", "figure_data.layers.layer: 'a:b' does not match"),
    ("experiments: [{dataset: imagenet, net: mlp, n_per_class: [5], epochs: [1]}]\n",
     "experiments: unknown dataset 'imagenet'; available: ccm, cifar10"),
    ("experiments: [{dataset: gmm, net: transformer, n_per_class: [5], epochs: [1]}]\n",
     "experiments: unknown net 'transformer'; available: mlp, resnet18, vgg11"),
    ("datasets: {gmm: {clusters: 3}}\n",
     "datasets.gmm.clusters: gmm takes no such option; options: num_classes, dim,"),
    ("nets: {vgg11: {depth: 3}}\n", "nets.vgg11.depth: vgg11 takes no such option; "
     "options: width, head"),
    ("training: {lr_min: 0.5, lr_max: 0.1}\n",
     "training.lr_min = 0.5 exceeds training.lr_max = 0.1"),
    ("figure_data: {mlr: {D: 3, C: 4}}\n", "figure_data.mlr.D = 3 is below C = 4"),
    ("figure_options: {fig5: {colour: red}}\n",
     "figure_options.fig5.colour: figure fig5 takes no such option; options: columns"),
    ("experiments: [{dataset: gmm, net: mlp, n_per_class: [5], epochs: [1]},\n"
     "              {dataset: gmm, net: mlp, n_per_class: [9], epochs: [2]}]\n",
     "experiments: (gmm, mlp) is listed twice"),
    ("analysis: {spectra: {density: {K: 1000000}}}\n",
     "analysis.spectra.density.K: 1000000 is greater than the maximum of 65536"),
    ("verification:\n  fig15b:\n    p: 20\n    spectrum: {deflate: 20}\n",
     "verification.fig15b.spectrum.deflate = 20; allowed: 0 <= deflate < 20"),
    ("verification:\n  fig15a:\n    spectrum: {M0: 5000}\n",
     "verification.fig15a.spectrum.M0: 5000 is greater than the maximum of 4096"),
    ("verification:\n  fig15a:\n    spectrum: {M0: 1}\n",
     "verification.fig15a.spectrum.M0: 1 is less than the minimum of 2"),
    ("figure_data: {fig7: {datasets: [gmm, mnist]}}\n",
     "figure_data.fig7: no experiment (mnist, mlp)"),
    ("figure_data: {fig12: {layers: ['1', '99']}}\n",
     "figure_data.fig12.layers: mlp has no nn.Linear or nn.Conv2d layer '99'; "
     "its layers: 1, 4, 7"),
    ("analysis: {operators: {density: ['layer:fc9:KFAC']}}\n",
     "analysis.operators.density: mlp has no nn.Linear or nn.Conv2d layer 'fc9'; "
     "its layers: 1, 4, 7"),
    ("analysis: {conv_layers: false}\n"
     "figure_data: {fig12: {datasets: [digits], net: vgg11, n_per_class: 10, layers: "
     "[features.0]}}\n",
     "figure_data.fig12.layers: vgg11 has no nn.Linear layer 'features.0' (conv layers need "
     "analysis.conv_layers); its layers: classifier.1, classifier.4, classifier.7"),
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
    """The Appendix D grid validates; one (dataset, net, n) plans its 25-rate MLP sweep in
    batches of training.runs_per_job = 10 rates (10 + 10 + 5)."""
    jobs = planned(repo, "results/paper/train/cifar100/mlp/n5000/choice.json",
                   config=repo / "config" / "paper.yaml")
    assert jobs == {"fetch_data": 1, "subsample": 1, "train": 3, "select_lr": 1}
    proc = snakemake(repo, "-n", "--printshellcmds",
                     "results/paper/train/mnist/vgg11/n10/batch9", "--configfile",
                     "config/paper.yaml")
    assert "--lr 0.0001 --epochs 200" in proc.stdout and "--device cuda" in proc.stdout
    assert re.search(r"--out results/paper/train/mnist/vgg11/n10/batch9\.partial-\w+/lr99",
                     proc.stdout)
    assert proc.stdout.count(" train --subset ") == 10
    assert "--metrics-only" in proc.stdout  # sweep_checkpoints: false in the paper config
    selected = snakemake(repo, "-n", "--printshellcmds", "results/paper/train/mnist/vgg11/n10/"
                         "selected", "--configfile", "config/paper.yaml").stdout
    assert "--choice results/paper/train/mnist/vgg11/n10/choice.json" in selected
    assert "--checkpoints 10 50 100 200" in selected


@pytest.mark.parametrize(("config", "layers"), [
    ("config/config.yaml", "results/extract/digits/vgg11/n10/e20/train/layers.zarr"),
    ("config/paper.yaml", "results/paper/extract/cifar100/vgg11/n10/e10/train/layers.zarr")])
def test_default_and_paper_extract_every_conv_layer_of_their_vgg11(repo, config, layers):
    """Both configs analyse the VGG11's conv layers (streamed) beside its linear ones."""
    proc = snakemake(repo, "-n", "--printshellcmds", layers, "--configfile", config)
    extract = next(line for line in proc.stdout.splitlines() if " extract " in line)
    assert "--conv-layers" in extract


def test_the_paper_plan_fits_and_is_the_documented_one(repo):
    """`snakemake plan` sizes the paper plan: <= 1 TiB, the total docs/storage.md states, and
    a few thousand SLURM submissions (the number the README gives)."""
    snakemake(repo, "plan", "--cores", "1", "--configfile", "config/paper.yaml")
    report = (repo / "results" / "paper" / "plan.md").read_text()
    submissions = re.search(r"Submissions: \*\*([0-9,]+)\*\*", report)[1]
    assert int(submissions.replace(",", "")) <= 3000
    assert f"{submissions} SLURM submissions" in (REPO / "README.md").read_text()
    total = re.search(r"Total: \*\*(.+?)\*\* \(([0-9,]+) bytes\)", report)
    assert int(total[2].replace(",", "")) <= 2**40
    assert total[0] in (REPO / "docs" / "storage.md").read_text()
    # analysis.grid figures: one means store (without the p C^2) per checkpoint and split read by
    # a figure, Table 1 or a claim, not all 1,920 of the full grid
    means = int(re.search(r"^\| means \| ([0-9,]+) \|", report, re.M)[1].replace(",", ""))
    layers = int(re.search(r"^\| layers \| ([0-9,]+) \|", report, re.M)[1].replace(",", ""))
    assert means == layers < 1920


def test_the_plan_counts_the_submissions_snakemake_groups(repo, tmp_path):
    """On the tiny config, the plan's submissions are Snakemake's own grouped dry run under
    the SLURM profile: one per training job, one per group of K analysed checkpoints of one
    dataset and net."""
    out = tmp_path / "results"
    snakemake(repo, "plan", "--cores", "1", "--configfile", str(TINY),
              "--config", f"results={out}")
    rows = re.findall(r"^\| (.+?) \| ([0-9,]+) \| ([0-9,]+) \|$",
                      (out / "plan.md").read_text(), re.M)
    counted = {step.split(" (")[0]: int(subs) for step, _, subs in rows[:3]}
    dry = snakemake(repo, "-n", *SLURM, "--configfile", str(TINY), "--config",
                    f"results={out}").stdout
    assert counted["extract + spectra"] == dry.count("Group job analysis_") > 0
    assert counted["train"] == len(re.findall(r"^rule train:$", dry, re.M)) > 0


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
    assert "-e ${CROSSCLASS_ROOT}" in pip


def test_conda_env_installs_this_checkout_from_its_copied_location(repo, tmp_path):
    """As `--sdm conda` does: the env file copied to .snakemake/conda/HASH.yaml, its pip
    section written beside it as a requirements file and pip run there, with the variable the
    workflow sets, resolves to this checkout (pip's own dry run, offline: the build backend
    comes from the test extra's setuptools)."""
    printer = write_printer(repo)
    proc = snakemake(repo, "-s", str(printer), "--list-rules")
    printer.unlink()
    root = re.search(r"^CROSSCLASS_ROOT=(.*)$", proc.stdout, re.M).group(1)
    assert Path(root) == repo
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, repo / name)
    copied = tmp_path / "workdir" / ".snakemake" / "conda" / "0123abcd.yaml"
    copied.parent.mkdir(parents=True)
    shutil.copy2(repo / "envs" / "crossclass.yaml", copied)
    pip = next(d["pip"] for d in yaml.safe_load(copied.read_text())["dependencies"]
               if isinstance(d, dict))
    requirements = copied.with_name("condaenv.requirements.txt")
    requirements.write_text("".join(f"{line}\n" for line in pip if line.startswith("-")))
    report = copied.with_name("report.json")
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps",
                    "--no-index", "--no-build-isolation", "--quiet", "--report", str(report),
                    "-r", requirements.name], cwd=copied.parent, check=True, timeout=300,
                   env=dict(os.environ, CROSSCLASS_ROOT=root))
    [install] = json.loads(report.read_text())["install"]
    assert install["metadata"]["name"] == "crossclass"
    assert install["download_info"]["url"] == repo.as_uri()
    assert install["download_info"]["dir_info"] == {"editable": True}


def write_printer(repo: Path) -> Path:
    """A Snakefile beside the workflow's that includes it and prints CROSSCLASS_ROOT."""
    path = repo / "print_root.smk"
    path.write_text('include: "Snakefile"\n\n'
                    'print("CROSSCLASS_ROOT=" + os.environ["CROSSCLASS_ROOT"])\n')
    return path


def test_every_rule_has_log_benchmark_conda_and_code_param(repo):
    """Each rule (but `all`) logs, benchmarks, runs in the env and hashes the code it runs;
    every figure rule reports its PDF and PNG with a caption file and a category."""
    rules = [body for p in sorted((repo / "rules").glob("*.smk"))
             for body in re.split(r"^(?:rule|checkpoint) (?=\w+:$)", p.read_text(),
                                  flags=re.M)[1:]]
    assert len(rules) >= 10          # the figure rules come from one template, checked below
    for body in rules:
        name = body.split(":")[0]
        for directive in ("log:", "benchmark:", "conda:", "code="):
            assert directive in body, f"rule {name} lacks {directive}"
        shell = re.split(r"\n(?=\S)", body.split("shell:")[-1])[0]  # up to the next top line
        assert "config[" not in shell, f"rule {name} reads config in shell"
    figures_smk = (repo / "rules" / "figures.smk").read_text()
    template = figures_smk.split("    rule:", 1)[1]
    assert template.count("report(") == 2 and template.count("category=") == 2
    for directive in ("log:", "benchmark:", "conda:", "code="):
        assert directive in template, f"the figure rule lacks {directive}"
    inputs = (repo / "rules" / "figure_inputs.smk").read_text()
    table = inputs.split("FIGURES = {", 1)[1].split("}", 1)[0]
    names = re.findall(r'^    "(\w+)":', table, flags=re.M)
    assert len(names) >= 13
    for name in names:
        assert (repo / "workflow" / "crossclass" / "report" / f"{name}.rst").is_file(), name


# params that hold command-line fragments, each value already shell-quoted where it needs it
# (crossclass.options.format_options, shlex.quote in rules/arguments.smk) or flags and numbers
FRAGMENT_PARAMS = {"arguments", "command", "commands", "conv", "float64", "keep", "matrices",
                   "mlr", "operators", "options", "progress", "spectrum", "stores", "test",
                   "thresholds"}


def test_every_shell_argument_is_quoted():
    """Every {input}, {output}, {log}, {wildcards.x} and {params.x} of every rule's shell
    command is `:q`-quoted, but the params that are command-line fragments (FRAGMENT_PARAMS;
    a run with a space and a quote in `results` is test_workflow_runs's)."""
    placeholders = []
    for path in sorted((REPO / "rules").glob("*.smk")):
        for block in re.findall(r"^( +)shell:\n((?:\1 +.*\n)+)", path.read_text(), re.M):
            placeholders += [(path.name, *m) for m in re.findall(
                r"(?<!\{)\{(input|output|log|wildcards|params)((?:\.\w+)?)(:\w+)?\}", block[1])]
    assert len(placeholders) > 80
    fragment = [p for p in placeholders if p[1] == "params" and p[2][1:] in FRAGMENT_PARAMS]
    unquoted = [p for p in placeholders if p[3] != ":q" and p not in fragment]
    assert not unquoted, unquoted
    assert {p[2][1:] for p in fragment} == FRAGMENT_PARAMS  # each one still in use


def test_several_gpus_launch_the_analysis_under_torchrun(repo, tmp_path):
    """analysis.gpus = 2 on CUDA: extract and spectra jobs ask for 2 GPUs and run torchrun with
    one process per GPU, each with its share of the job's threads; training keeps one GPU."""
    config = tmp_path / "gpus.yaml"
    config.write_text("device: cuda\nanalysis: {gpus: 2}\n")
    proc = snakemake(repo, "-n", "--printshellcmds", "--cores", "8", "--configfile", str(config))
    out = proc.stdout
    assert "torchrun --standalone --nproc-per-node 2 -m crossclass.cli --threads 4 extract" in out
    assert "torchrun --standalone --nproc-per-node 2 -m crossclass.cli --threads 4 " \
           "operator-spectrum" in out
    assert "crossclass --threads 4 train" in out
    assert re.search(r"rule extract:(?:.|\n)*?resources: [^\n]*gpu=2", out)



def test_the_slurm_profile_groups_one_cost_class_and_asks_for_the_analysis_gpus(repo, tmp_path):
    """Under the shipped SLURM profile, analysis.gpus = 2: every extract and spectra job asks for
    2 GPUs (the profile caps only `analysis_slot`, 1 per submission, so a submission runs its
    jobs one after another and asks for one job's GPUs), and each analysis submission holds
    the checkpoints of one dataset and net."""
    config = tmp_path / "gpus.yaml"
    config.write_text("device: cuda\nanalysis: {gpus: 2}\n")
    profile = yaml.safe_load((REPO / "config/profiles/slurm/config.yaml").read_text())
    assert "gpu" not in str(profile["resources"]) and "analysis_slot=1" in profile["resources"]
    assert "analysis_slot=local" in profile["set-resource-scopes"]
    out = snakemake(repo, "-n", *SLURM, "--configfile", str(config)).stdout
    jobs = [(rule, f) for rule, f in job_resources(out) if rule == "extract"
            or rule.startswith("spectra_")]
    assert jobs and all(f["resources.gpu"] == "2" and f["resources.analysis_slot"] == "1"
                        for _, f in jobs)
    groups = re.split(r"^.*Group job (analysis_\w+) \(jobs in lexicogr\. order\):$", out,
                      flags=re.M)
    assert len(groups) > 3
    for name, body in zip(groups[1::2], groups[2::2], strict=True):
        members = re.findall(  # a group's members are indented under it
            r"^ {8}wildcards: (?:dataset=(\w+), net=(\w+)|checkpoint=(\w+)/(\w+)/)", body, re.M)
        seen = {(a or c, b or d) for a, b, c, d in members}
        assert seen and all(name == f"analysis_{d}_{n}" for d, n in seen), (name, seen)


@pytest.mark.parametrize(("extra", "missing"), [
    ([], "slurm_partition (your cluster's partition)"),
    (["--default-resources", "slurm_partition=gpu"], "slurm_account (your account), or pass "
     "--slurm-no-account"),
    (["--default-resources", "slurm_partition=gpu", "--slurm-no-account"], "constraint (the "
     "GPUs the GPU jobs may run on"),
])
def test_submission_stops_until_the_profile_names_the_cluster(repo, tmp_path, extra, missing):
    """A run under the shipped profile stops before its first job, with one line naming the
    setting still to make: the partition, the account (unless --slurm-no-account), a GPU
    constraint when jobs ask for GPUs."""
    config = tmp_path / "gpus.yaml"
    config.write_text(f"device: cuda\nresults: {tmp_path / 'results'}\n")
    proc = snakemake(repo, *SLURM, *extra, "--configfile", str(config), check=False)
    assert proc.returncode != 0
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"crossclass: set {missing}") and line.endswith("before submitting")
    assert not (tmp_path / "results").exists()  # nothing ran


def test_ci_lints_and_plans_the_test_config(repo):
    """.ci/run lints and dry-runs .test/config.yaml, then runs the README's test command; the
    lint and the plan pass on a copy of the repository."""
    steps = [line for line in (REPO / ".ci" / "run").read_text().splitlines()
             if line.startswith(("snakemake", "python"))]
    assert steps == ["snakemake --lint --configfile .test/config.yaml",
                     "snakemake -n --quiet --configfile .test/config.yaml", "python -m pytest -q"]
    assert "pip install -e '.[test]' && python -m pytest -q" in (REPO / "README.md").read_text()
    shutil.copytree(REPO / ".test", repo / ".test", symlinks=True)
    lint = snakemake(repo, *steps[0].split()[1:])
    assert "Congratulations" in lint.stdout + lint.stderr
    snakemake(repo, *steps[1].split()[1:])  # raises unless the plan succeeds


def test_config_readme_names_every_config_file_and_the_license_is_mit():
    readme = (REPO / "config" / "README.md").read_text()
    for path in (REPO / "config").rglob("*.yaml"):
        name = path.relative_to(REPO / "config")
        assert str(name if len(name.parts) == 1 else name.parent) in readme, name
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
