"""Real snakemake runs of tests/configs/tiny.yaml in a temporary copy of the repository.

One full run (shared by the tests that need it) covers the whole DAG: Figure 15, data, the
learning-rate sweep and its selection, extract, spectra, MLR, Figures 5, 6, layers and mlr, and
the report. After it nothing is left to do; a changed figure option or figure module replans
exactly that figure; a changed estimator setting replans its spectra and their figure; one
target on a clean tree plans only its ancestors. A `results` folder with a space and a quote
takes a run through every kind of rule. The copy carries its own
package source (PYTHONPATH), so editing a module there is what the `code` params see.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import yaml
from crossclass import estimator
from crossclass.analysis import read_layer
from crossclass.commands.figure import draw_figure
from crossclass.options import parse_options
from crossclass.provenance import code_hash, imported_modules
from crossclass.stores import read_store, store_params
from deadlines import within
from figure_checks import assert_every_panel_drawn, check_files

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


def snakemake(repo: Path, *args: str, check: bool = True, timeout: float = 300,
              own_package: bool = True) -> subprocess.CompletedProcess:
    """Run snakemake in `repo` with the copy's package first on the path (own_package), else
    with whatever crossclass is installed (another checkout's)."""
    env = dict(os.environ)
    if own_package:
        env["PYTHONPATH"] = str(repo / "workflow")
    else:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run(["snakemake", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=within(timeout))
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned(repo: Path, *targets: str, config: Path = TINY, own_package: bool = True
            ) -> dict[str, int]:
    """Rule -> job count of a dry run ({} when nothing is to be done); the generated
    spectra_<settings>_<k> rules are counted together as `spectra`."""
    proc = snakemake(repo, "-n", *targets, "--configfile", str(config),
                     own_package=own_package)
    text = proc.stdout + proc.stderr
    table = re.search(r"^job\s+count\n-+\s+-+\n(.*?)^total", text, re.M | re.S)
    if table is None:
        assert "Nothing to be done" in text, text
        return {}
    counts: dict[str, int] = {}
    for rule, n in (line.split() for line in table.group(1).splitlines()):
        rule = re.sub(r"^spectra_.*", "spectra", rule)  # generated per operator set
        counts[rule] = counts.get(rule, 0) + int(n)
    return counts


_RUNS: dict[str, Path] = {}


def tiny_run(tmp_path_factory) -> Path:
    """A repository copy after a complete run of the tiny config, made once per test session
    (the SLURM test compares its outputs with this local run)."""
    if "tiny" not in _RUNS:
        repo = repo_copy(tmp_path_factory.mktemp("repo"))
        snakemake(repo, "--cores", "2", "--configfile", "tests/configs/tiny.yaml", timeout=1800)
        _RUNS["tiny"] = repo
    return _RUNS["tiny"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return tiny_run(tmp_path_factory)


def changed_tiny(tmp_path: Path, edit) -> Path:
    """tiny.yaml with `edit(config)` applied, written under tmp_path."""
    config = yaml.safe_load(TINY.read_text())
    edit(config)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


TINY_CONFIG = yaml.safe_load(TINY.read_text())
EXPERIMENT = TINY_CONFIG["experiments"][0]
CHECKPOINTS = [(n, e) for n in EXPERIMENT["n_per_class"] for e in EXPERIMENT["epochs"]]
FIGURES = TINY_CONFIG["figures"]


def test_full_run_writes_every_figure_with_logs_and_benchmarks(finished):
    results = finished / "results"
    for name in FIGURES:
        check_files(results / "figures" / f"{name}.pdf")
    rules = ("fetch_data", "subsample", "train", "select_lr", "train_selected", "extract",
             "spectra", "mlr_spectrum", "mlr_study", "verify_matrix", "verify_spectrum",
             "figure", "claims", "claims_report")
    for rule_name in rules:
        assert list((results / "logs" / rule_name).rglob("*.log")), rule_name
        assert list((results / "benchmarks" / rule_name).rglob("*.tsv")), rule_name
    assert "| claim | section |" in (results / "claims.md").read_text()
    assert "| quantity | feature |" in (results / "table1.md").read_text()


def test_full_run_figures_are_the_tested_drawings_of_their_stores(finished, tmp_path,
                                                                  monkeypatch):
    """Each figure the run wrote is, pixel for pixel, what `draw_figure` (whose content the
    figure tests check) draws from the stores the rule passed it, every panel drawn."""
    text = snakemake(finished, "-n", "--forceall", "-p", "--configfile", str(TINY)).stdout
    commands = [shlex.split(line.split("Shell command: ", 1)[1]) for line in text.splitlines()
                if re.match(r"\s*Shell command: crossclass --threads \d+ figure ", line)]
    assert sorted(c[4] for c in commands) == sorted(FIGURES)
    monkeypatch.chdir(finished)
    for command in commands:
        argv = command[command.index("figure") + 1:command.index(">")]
        name, inputs = argv[0], argv[argv.index("--inputs") + 1:argv.index("--out")]
        options = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        out = tmp_path / f"{name}.pdf"
        assert_every_panel_drawn(draw_figure(name, inputs, str(out), parse_options(options)))
        ours = matplotlib.image.imread(out.with_suffix(".png"))
        theirs = matplotlib.image.imread(finished / "results" / "figures" / f"{name}.png")
        assert ours.shape == theirs.shape and (ours == theirs).all(), name


def test_fig15_stores_follow_the_config(finished):
    for name, cfg in TINY_CONFIG["verification"].items():
        ds = read_store(finished / "results" / "verification" / name / "spectrum.zarr")
        assert ds["matrix"].item() == name
        assert ds.sizes["eigen"] == cfg["p"]
        assert ds.sizes["grid"] == cfg["spectrum"]["K"]
        assert ds.sizes["start_vector"] == cfg["spectrum"]["n_vec"]
        assert ds.attrs["M"] == cfg["spectrum"]["M"]


def test_analysis_reads_the_selected_rate_and_reuses_the_means(finished):
    """extract reads the checkpoint of the run select_lr chose; every spectrum of that
    checkpoint names the extract means store it reused, and carries its keys and settings."""
    results = finished / "results"
    for n, epoch in CHECKPOINTS:
        choice = json.loads((results / f"train/gmm/mlp/n{n}/choice.json").read_text())
        chosen = finished / Path(choice["selected"]["store"]).parent
        run = Path(f"results/train/gmm/mlp/n{n}/selected")
        assert (finished / run / "metrics.zarr").is_dir() and chosen.is_dir()
        folder = results / f"extract/gmm/mlp/n{n}/e{epoch}/train"
        for name in ("means", "layers", "summary"):
            params = store_params(read_store(folder / f"{name}.zarr"))
            assert params["checkpoint"] == f"{run}/checkpoints/epoch_{epoch:04d}.pt", name
        spectrum = read_store(results / f"spectra/gmm/mlp/n{n}/e{epoch}/train/deflated/G.zarr")
        assert store_params(spectrum)["means"] == str(folder.relative_to(finished) / "means.zarr")
        assert {k: spectrum[k].item() for k in ("n_per_class", "epoch", "operator")} == {
            "n_per_class": n, "epoch": epoch, "operator": "G"}
        settings = TINY_CONFIG["analysis"]["spectra"]["deflated"]
        assert spectrum.sizes["grid"] == settings["K"]
        assert spectrum.sizes["top"] == EXPERIMENT_CLASSES
    fig5 = TINY_CONFIG["figure_data"]["fig5"]
    at = results / f"spectra/gmm/mlp/n{fig5['n_per_class']}/e{fig5['epoch']}/train"
    for operator in fig5["operators"]:
        ds = read_store(next(at.glob(f"*/{operator}.zarr")))  # under fig5's settings
        assert ds["operator"].item() == operator


EXPERIMENT_CLASSES = TINY_CONFIG["datasets"]["gmm"]["num_classes"]


def test_complete_run_has_nothing_to_do(finished):
    assert planned(finished) == {}


def claims_table(text: str) -> dict[tuple[str, str, str], tuple[str, str, str]]:
    """(claim, experiment, layer) -> (value, rule, verdict) of a claims.md (cells split at
    unescaped pipes; layer: the metric's 'layer i (name)' prefix, '' for non-layer rows)."""
    lines = text.splitlines()
    start = lines.index("| claim | section | experiment | metric | value | rule | verdict |")
    table = {}
    for line in lines[start + 2:]:
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 7, line
        claim, _, experiment, metric, value, rule, verdict = cells
        layer = metric.split(":")[0] if metric.startswith("layer ") else ""
        key = (claim, experiment, layer)
        assert key not in table, key
        table[key] = (value, rule, verdict.strip("*"))
    return table


H_OUTLIERS = "the C outliers of H^l are attributable to H_class"
H_TOP = "the top outlier of H^l is attributable to the global mean h_G"
PER_LAYER = (H_OUTLIERS, "the bulk of H^l is attributable to H_within (unmoved by knocking "
             "out H_class)", H_TOP, "CFAC^l is closer to G^l than KFAC^l")
ERRORS_AND_WEIGHTS = ("the C outliers of Delta^l are attributable to Delta_class",
                      "the next C(C-2) outliers of Delta^l are attributable to Delta_cross",
                      "the C outliers of W^l are attributable to W_class")
DEPTH = ("the C outliers of H^l separate from the bulk with depth",
         "H_class whitens with depth (lambda_2 / lambda_C falls)")
MEASURED = {"holds", "fails"}


def test_claims_report_judges_what_the_tiny_run_measures(finished):
    """The tiny run's claims.md row by row (C = 3; gmm x mlp, n 6, 12 x epochs 1, 2; layers
    "1" and "4", the logits layer): every verdict is the rule applied to the module file's
    value, and the counts line counts the rows. Measured where the run has the stores: D.1 and
    the means-store claims at every checkpoint, the Fig. 6 trends, G's and Hess's features and
    attributions at n12/e2 (fig4's and fig5's C2-deflated settings), E there (fig16), every
    per-layer claim on layer 1. Not measured, for a stated reason: G's features at the other
    checkpoints (only fig6's `deflate: C` settings there, no lambda_C+1), Delta's and W's
    outliers at the logits layer (d_out = C: nothing beyond the top C), the depth trends (two
    layers, three needed). Absent: the mini-bulk, bulk and projection attributions (tiny's
    fig5 asks G, G_class, G-minus-class only; the next test adds the missing knockouts). Where
    the outcome is the data's, not training's, the verdict itself: layer 1's input features
    are the gmm points, whose class means make H's outliers (surviving fraction recomputed
    here from the layers store)."""
    results = finished / "results"
    text = (results / "claims.md").read_text()
    table = claims_table(text)
    files = [json.loads((results / "claims" / f"{m}.json").read_text())
             for m in ("network", "layerwise")]
    exact = [v for f in files for v in f["verdicts"]]
    assert len(exact) == len(table)
    ops = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    for v in exact:
        layer = v["metric"].split(":")[0] if v["metric"].startswith("layer ") else ""
        value, rule, verdict = table[(v["claim"], v["experiment"], layer)]
        assert (rule, verdict) == (v["rule"], v["verdict"])
        comparison, threshold = rule.split()
        if v["value"] is None or v["value"] != v["value"]:
            assert verdict == "not measured" and value in ("—", "nan")
        else:
            assert float(value) == pytest.approx(v["value"], rel=1e-3, abs=1e-12)
            held = ops[comparison](float(v["value"]), float(threshold))
            feature, _, rest = v["claim"].partition(" of ")
            if " <- " in rest and feature != "bulk":  # and the quantity had it to lose
                held = held and table[(f"{rest.split(' <- ')[0]} has {feature}",
                                       v["experiment"], "")][2] == "holds"
            assert verdict == ("holds" if held else "fails"), v
    counts = {k: sum(r[2] == k for r in table.values()) for k in ("holds", "fails",
                                                                   "not measured")}
    assert (f"{counts['holds']} hold, {counts['fails']} fail, {counts['not measured']} not "
            "measured") in text

    def verdict(claim, experiment, layer=""):
        return table[(claim, f"gmm/mlp/{experiment}", layer)][2]

    checkpoints = [f"n{n}/e{e}/train" for n, e in CHECKPOINTS]
    for at in checkpoints:
        assert verdict("the network is trained to ~zero train error", at) in MEASURED
        assert verdict("G_{c=c'} is negligible", at) in MEASURED
        assert verdict("G-project-same is G-project-class (one numerical range)",
                       at) in MEASURED
        for feature in ("C outliers", "C(C-2) mini-bulk"):
            assert verdict(f"G has {feature}", at) == (
                "not measured" if at != "n12/e2/train" else verdict(f"G has {feature}", at))
    top = "n12/e2/train"
    for claim in ("G has C outliers", "G has C(C-2) mini-bulk",
                  "C outliers of G <- G_class (knockout G-minus-class)", "Hess has C outliers",
                  "C outliers of Hess <- G (knockout hess-minus-G)",
                  "bulk of Hess <- E (knockout hess-minus-E)", "E is symmetric about 0",
                  "E has a power-law tail"):
        assert verdict(claim, top) in MEASURED, claim
    for where in ("train/n6", "train/n12"):
        assert verdict("G_cross and G_within bulks separate with training", where) in MEASURED
    for where in ("train/e1", "train/e2"):
        assert verdict("G_cross and G_within bulks merge with sample size", where) in MEASURED
    assert verdict("G_class to G_within distance stable over epochs and n", "train") in MEASURED
    absent = ("C(C-2) mini-bulk of G <- G_cross", "bulk of G <- G_within")
    assert not [k for k in table if k[0].startswith(absent) or "knockout G-project" in k[0]]
    for claim in PER_LAYER:
        for layer in ("layer 1 (1)", "layer 2 (4)"):
            assert verdict(claim, top, layer) in MEASURED, (claim, layer)
    for claim in ERRORS_AND_WEIGHTS:
        assert verdict(claim, top, "layer 1 (1)") in MEASURED, claim
        assert verdict(claim, top, "layer 2 (4)") == "not measured", claim
    for claim in DEPTH:
        assert verdict(claim, top) == "not measured", claim
    assert verdict(H_OUTLIERS, top, "layer 1 (1)") == "holds"
    assert verdict(H_TOP, top, "layer 1 (1)") == "holds"

    # the D.1 value is the training history's, the layer-1 fraction the layers store's
    for n, e in CHECKPOINTS:
        history = read_store(results / f"train/gmm/mlp/n{n}/selected/metrics.zarr")
        row = table[("the network is trained to ~zero train error", f"gmm/mlp/n{n}/e{e}/train",
                     "")]
        assert float(row[0]) == pytest.approx(float(history["train_error"].sel(epoch=e)),
                                              rel=1e-3, abs=1e-12)
    layers = read_store(results / "extract/gmm/mlp/n12/e2/train/layers.zarr")
    first = read_layer(layers, "1")
    H, H_class = first["H"].values, first["H_class"].values
    vals, vecs = np.linalg.eigh(H_class)
    U = vecs[:, vals > 1e-12 * vals.max()]
    K = (np.eye(len(H)) - U @ U.T) @ H @ (np.eye(len(H)) - U @ U.T)
    A, k = np.sort(np.linalg.eigvalsh(H))[::-1], EXPERIMENT_CLASSES
    fraction = np.log(np.linalg.eigvalsh(K).max() / A[k]) / np.log(A[0] / A[k])
    value = table[(H_OUTLIERS, f"gmm/mlp/{top}", "layer 1 (1)")][0]
    assert float(value) == pytest.approx(fraction, rel=1e-3, abs=1e-4)
    cells = {tuple(r.split(" | ")[:2]): r.split(" | ")[2]
             for r in (line.strip("| ") for line in
                       (results / "table1.md").read_text().splitlines()[4:])
             if r.count(" | ") == 2}
    assert cells[("H^l", "C outliers")].startswith("H_class")


KNOCKOUTS_TINY_LACKS = ("G-minus-cross", "G-minus-within", "G-project-class", "G-project-cross")


def test_knockouts_the_tiny_figures_lack_are_judged_on_its_network(finished, tmp_path):
    """The mini-bulk, bulk and projection attributions on the tiny run's n12/e2 network:
    `crossclass operator-spectrum` estimates the four knockouts tiny's fig5 does not ask for
    (its settings for G, shorter Lanczos), `claims network` judges them with the run's G and
    means stores. Each attribution is measured; the G_within one holds whatever the training:
    G - G_within = G_class + G_cross + G_{c=c'} has rank <= C^2, under the C^2 + 1 deflated."""
    results = finished / "results"
    G = results / "spectra/gmm/mlp/n12/e2/train/top/G.zarr"
    params = store_params(read_store(G))
    settings = {**{s.name: params[s.name] for s in estimator.SETTINGS}, "M": 12, "n_vec": 1,
                "K": 64}
    outs = [str(tmp_path / f"{op}.zarr") for op in KNOCKOUTS_TINY_LACKS]
    env = {**os.environ, "PYTHONPATH": str(finished / "workflow")}

    def cli(*args):
        proc = subprocess.run([sys.executable, "-m", "crossclass.cli", *args], cwd=finished,
                              env=env, capture_output=True, text=True, timeout=within(300))
        assert proc.returncode == 0, proc.stderr

    cli("operator-spectrum", "--checkpoint", params["checkpoint"], "--subset",
        params["subset"], "--root", TINY_CONFIG["data"]["root"], "--split", "train",
        "--batch-size", str(params["batch_size"]), "--means", params["means"], "--device",
        "cpu", "--operator", *KNOCKOUTS_TINY_LACKS, "--out", *outs,
        *estimator.command_flags(settings).split())
    cli("claims", "network", "--inputs", str(G), params["means"], *outs, "--out",
        str(tmp_path / "network.json"))
    cli("claims-report", "--inputs", str(tmp_path / "network.json"), "--claims",
        str(tmp_path / "claims.md"), "--table", str(tmp_path / "table1.md"))
    table = claims_table((tmp_path / "claims.md").read_text())
    at = "gmm/mlp/n12/e2/train"
    for claim in ("C outliers of G <- G_class (knockout G-project-class)",
                  "C(C-2) mini-bulk of G <- G_cross (knockout G-minus-cross)",
                  "C(C-2) mini-bulk of G <- G_cross (knockout G-project-cross)"):
        assert table[(claim, at, "")][2] in MEASURED, claim
    value, _, verdict = table[("bulk of G <- G_within (knockout G-minus-within)", at, "")]
    assert verdict == "holds" and float(value) < 1e-6
    run = claims_table((results / "claims.md").read_text())
    assert table[("G has C outliers", at, "")] == run[("G has C outliers", at, "")]
    table1 = (tmp_path / "table1.md").read_text()
    assert "| G | bulk | G_within |" in table1


JOB_BLOCK = re.compile(r"^\s*(?:local)?rule (\w+):\n((?:\s+\w+: .*\n)+)", re.M)


def job_resources(text: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, {field: value}) of every job block Snakemake printed (its benchmark, resources
    parsed into `resources.NAME` fields)."""
    jobs = []
    for rule, body in JOB_BLOCK.findall(text):
        fields = dict(line.strip().split(": ", 1) for line in body.splitlines())
        for item in fields.pop("resources", "").split(", "):
            if "=" in item:
                name, value = item.split("=", 1)
                fields[f"resources.{name}"] = value
        jobs.append((rule, fields))
    return jobs


def test_resource_requests_cover_the_measured_jobs(finished):
    """Every job that states memory and runtime asked, at its first attempt, for at least what
    its benchmark file measured in the full run: peak RSS <= mem_mb, wall seconds <=
    60 x runtime (the tolerance: an upper bound, never below the measurement)."""
    text = snakemake(finished, "-n", "--forceall", "--configfile", str(TINY)).stdout
    checked = set()
    for rule, fields in job_resources(text):
        if "resources.mem_mb" not in fields or "benchmark" not in fields:
            continue
        bench = (finished / fields["benchmark"]).read_text().splitlines()
        measured = dict(zip(bench[0].split("\t"), bench[1].split("\t"), strict=True))
        rss, seconds = float(measured["max_rss"]), float(measured["s"])
        assert rss <= float(fields["resources.mem_mb"]), (rule, rss, fields)
        assert seconds <= 60 * float(fields["resources.runtime"]), (rule, seconds, fields)
        checked.add(re.sub(r"^spectra_.*", "spectra", rule))
    assert checked >= {"train", "train_selected", "extract", "spectra"}, checked


def test_planned_store_sizes_match_the_run(finished):
    """`snakemake plan` against the stores the full run wrote, for every store kind it plans:
    the same number of stores; zarr stores' payload planned as raw float64, at least the
    zstd-compressed chunk bytes on disk and at most 2.5 times them (their metadata, about
    750 bytes per array, is not planned); run folders' checkpoint files within 10%."""
    snakemake(finished, "plan", "--cores", "1", "--configfile", str(TINY))
    report = (finished / "results" / "plan.md").read_text()
    units = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
    planned = {store: (int(count), float(value) * units[unit]) for store, count, value, unit in
               re.findall(r"^\| ([a-z ()]+) \| gmm \| mlp \| (\d+) \| ([0-9.]+) (\w+) \|$",
                          report, re.M)}
    results = finished / "results"
    found = {
        "layers": list(results.glob("extract/gmm/mlp/*/*/*/layers.zarr")),
        "means": list(results.glob("extract/gmm/mlp/*/*/*/means.zarr")),
        "spectra": list(results.glob("spectra/gmm/mlp/*/*/*/*/*.zarr")),
        "selected run (checkpoints)": list(results.glob("train/gmm/mlp/*/selected")),
        "sweep runs": list(results.glob("train/gmm/mlp/*/batch*/lr*")),
    }
    assert set(planned) == set(found), planned
    for store, paths in found.items():
        count, planned_bytes = planned[store]
        assert count == len(paths), (store, count, len(paths))
        files = [(f, f.relative_to(path).parts) for path in paths for f in path.rglob("*")
                 if f.is_file()]
        if store.endswith("runs") or store.startswith("selected"):
            actual = sum(f.stat().st_size for f, _ in files if f.suffix == ".pt")
            assert abs(planned_bytes - actual) <= 0.1 * actual, (store, planned_bytes, actual)
        else:  # chunk files: <store>/<variable>/c/...
            actual = sum(f.stat().st_size for f, parts in files if parts[1:2] == ("c",))
            assert actual <= planned_bytes <= 2.5 * actual, (store, planned_bytes, actual)


def test_changed_figure_option_replans_only_that_figure(finished, tmp_path):
    changed = changed_tiny(tmp_path, lambda c: c["figure_options"].update(fig5={"columns": 2}))
    assert planned(finished, config=changed) == {"fig5": 1, "all": 1}


def test_changed_spectrum_parameter_replans_its_spectrum_and_figure(finished, tmp_path):
    changed = changed_tiny(
        tmp_path, lambda c: c["verification"]["fig15a"]["spectrum"].update(M=20))
    assert planned(finished, config=changed) == {"verify_spectrum": 1, "fig15": 1, "all": 1}


def test_changed_analysis_settings_replan_their_spectra_and_figure(finished, tmp_path):
    """The deflated settings feed only Figure 6 (and the claims that read its stores): its 2 x 2
    spectra, itself and the claims are replanned."""
    changed = changed_tiny(
        tmp_path, lambda c: c["analysis"]["spectra"]["deflated"].update(M=10))
    assert planned(finished, config=changed) == {
        "spectra": len(CHECKPOINTS), "fig6": 1, "claims_network": 1, "claims_report": 1,
        "all": 1}


def test_analysis_operators_add_spectra_at_every_checkpoint(finished, tmp_path):
    """analysis.operators puts their spectra at every analysed checkpoint into `all`: one job
    per checkpoint estimates them (with what a figure asks there, which then redraws)."""
    changed = changed_tiny(
        tmp_path, lambda c: c["analysis"]["operators"].update(density=["G", "hess"]))
    readers = {"layers", "fig11", "fig12"}  # the figures of tiny.yaml reading density spectra
    assert planned(finished, config=changed) == {
        "spectra": len(CHECKPOINTS), **{name: 1 for name in readers}, "all": 1}


@pytest.mark.parametrize("name", ["fig15", "fig6"])
def test_edited_figure_module_replans_only_that_figure(finished, name):
    module = finished / "workflow" / "crossclass" / "figures" / f"{name}.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# an edit\n")
        assert planned(finished) == {name: 1, "all": 1}
    finally:
        module.write_text(original)
    assert planned(finished) == {}


def test_one_figure_on_a_clean_tree_plans_only_its_ancestors(tmp_path):
    repo = repo_copy(tmp_path)
    assert planned(repo, "results/verification/fig15b/spectrum.zarr") == {
        "verify_matrix": 1, "verify_spectrum": 1}
    sizes = len(EXPERIMENT["n_per_class"])  # one sweep batch each: lr_count <= runs_per_job
    assert planned(repo, "results/figures/fig6.pdf") == {
        "fetch_data": 1, "subsample": sizes, "train": sizes, "select_lr": sizes,
        "train_selected": sizes,
        "extract": len(CHECKPOINTS), "spectra": len(CHECKPOINTS), "fig6": 1}


def test_report_holds_every_figure_with_caption_and_category(finished, tmp_path):
    report = tmp_path / "report.zip"
    snakemake(finished, "--report", str(report), "--configfile", "tests/configs/tiny.yaml")
    with zipfile.ZipFile(report) as archive:
        names = archive.namelist()
        html = next(archive.read(n) for n in names if n.endswith("report.html")).decode()
    for name in FIGURES:
        assert any(n.endswith(f"/{name}.pdf") for n in names), name
        assert any(n.endswith(f"/{name}.png") for n in names), name
    for category in ("Figure 15", "Figure 5: G decomposition", "Figure 6: dynamics",
                     "Layer-wise structure", "MLR (Theorem 8.1)", "Figure 3: Hessian",
                     "Figure 16: tail of E", "Claims"):
        assert category in html, category
    assert "System Message" not in html and "Undefined substitution" not in html  # valid RST
    for caption in ("verification of the spectral density estimate", "attribution via knockouts",
                    "dynamics with training and sample size", "KFAC", "Theorem 8.1"):
        assert caption in html, caption


# Who imports whom, read off the figure modules' import lines (not from the hashing code):
# fig5's density panel is imported by fig3, fig4, fig6, fig14, fig17, layers and layergrid;
# fig16 imports fig3; fig7-fig13 import layergrid. fig15 and mlr import neither.
FIG5_IMPORTERS = {"fig3", "fig4", "fig5", "fig6", "fig14", "fig16", "fig17", "layers", "fig7",
                  "fig8", "fig9a", "fig9b", "fig10", "fig11", "fig12", "fig13"}


@pytest.mark.parametrize(("module", "replanned"), [
    ("figures/fig5.py", FIG5_IMPORTERS),
    ("figures/plotting.py", set(FIGURES)),              # plotting code: figures only
])
def test_edited_shared_module_replans_exactly_its_importers(finished, module, replanned):
    path = finished / "workflow" / "crossclass" / module
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        assert planned(finished) == {**{name: 1 for name in replanned}, "all": 1}
    finally:
        path.write_text(original)


def test_the_importer_list_follows_the_imports(tmp_path):
    """FIG5_IMPORTERS is a literal: it holds while the figures import what it says. An added
    import of fig5 (here into fig15) puts a figure's hash under fig5's edits; none moves the
    hashes of fig15 and mlr today."""
    source = tmp_path / "workflow"
    shutil.copytree(REPO / "workflow", source, ignore=IGNORED)
    figures = source / "crossclass" / "figures"

    def hashes() -> dict[str, str]:
        code_hash.cache_clear()
        imported_modules.cache_clear()  # the edited files are read again
        return {name: code_hash(source, f"crossclass.figures.{name}") for name in FIGURES}

    def edited_fig5() -> set[str]:
        before = hashes()
        fig5 = figures / "fig5.py"
        original = fig5.read_text()
        fig5.write_text(original + "\n# an edit\n")
        after = hashes()
        fig5.write_text(original)
        return {name for name in FIGURES if after[name] != before[name]}

    assert edited_fig5() == FIG5_IMPORTERS
    fig15 = figures / "fig15.py"
    fig15.write_text("import crossclass.figures.fig5  # noqa: F401\n" + fig15.read_text())
    assert edited_fig5() == FIG5_IMPORTERS | {"fig15"}


def test_code_hashes_read_the_sources_beside_the_snakefile(finished):
    """With the package imported from another checkout (the installed one), editing this
    workflow's own figure module still replans that figure: hashes read the files beside the
    Snakefile, not the installed package."""
    module = finished / "workflow" / "crossclass" / "figures" / "fig15.py"
    original = module.read_text()
    try:
        module.write_text(original + "\n# an edit\n")
        assert planned(finished, own_package=False) == {"fig15": 1, "all": 1}
    finally:
        module.write_text(original)


ODD_RESULTS = "results/it's my run"  # a space and a single quote: every argument is quoted
ODD_RULES = ("fetch_data", "subsample", "train", "select_lr", "train_selected", "extract",
             "spectra", "verify_matrix", "verify_spectrum", "mlr_spectrum", "mlr_study",
             "figure", "claims", "claims_report", "plan")


def test_results_path_with_a_space_and_a_quote(tmp_path):
    """`results: "results/it's my run"`, one checkpoint and Figures 16, 15 and mlr: planning,
    then a run through every kind of rule (data, the sweep, select_lr, train_selected, extract,
    a spectrum, the figures, claims, the plan report) writes everything under that folder and
    nothing elsewhere (no `results/it's`), after which nothing is left to do."""
    repo = repo_copy(tmp_path / "repo")

    def edit(config):
        config.update(results=ODD_RESULTS, figures=["fig16", "fig15", "mlr"],
                      experiments=[dict(EXPERIMENT, n_per_class=[12], epochs=[2])])

    config = changed_tiny(tmp_path, edit)
    targets = ("all", f"{ODD_RESULTS}/plan.md")
    once = ("fetch_data", "subsample", "train", "select_lr", "train_selected", "extract",
            "spectra", "mlr_spectrum", "mlr_study", "fig16", "fig15", "mlr", "claims_network",
            "claims_layerwise", "claims_report", "plan", "all")
    assert planned(repo, *targets, config=config) == {
        **dict.fromkeys(once, 1), "verify_matrix": 2, "verify_spectrum": 2}
    before = set(repo.rglob("*"))
    snakemake(repo, *targets, "--cores", "2", "--configfile", str(config))

    out = repo / ODD_RESULTS
    assert list((repo / "results").iterdir()) == [out]
    elsewhere = [p for p in set(repo.rglob("*")) - before
                 if not (p == out or out in p.parents or p in out.parents)
                 and not {".snakemake", "__pycache__"} & set(p.parts)]
    assert not elsewhere, elsewhere
    for rule_name in ODD_RULES:
        assert list((out / "logs" / rule_name).rglob("*.log")), rule_name
        assert list((out / "benchmarks" / rule_name).rglob("*.tsv")), rule_name
    for name in ("fig16", "fig15", "mlr"):
        check_files(out / "figures" / f"{name}.pdf")
        assert (out / "figures" / f"{name}.png").is_file(), name
    for name in ("claims.md", "table1.md", "plan.md"):
        assert (out / name).stat().st_size, name
    choice = json.loads((out / "train/gmm/mlp/n12/choice.json").read_text())
    assert choice["selected"]["store"].startswith(f"{ODD_RESULTS}/train/gmm/mlp/n12/batch0/")
    checkpoint = "gmm/mlp/n12/e2/train"
    spectrum = read_store(out / f"spectra/{checkpoint}/e_log/E.zarr")
    assert store_params(spectrum)["means"] == f"{ODD_RESULTS}/extract/{checkpoint}/means.zarr"
    assert planned(repo, *targets, config=config) == {}
