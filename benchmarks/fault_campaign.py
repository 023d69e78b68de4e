"""Break a finished run on purpose and follow the advice: reliability figures of the workflow.

A copy of the repository runs tests/configs/tiny.yaml to the end; then, one fault at a time, a
store or checkpoint is damaged (a chunk deleted, truncated, overwritten or changed by one byte,
a metadata file garbled, the digest manifest deleted; a checkpoint overwritten in place,
truncated, changed by one byte or deleted), the jobs that read it are made to run (the store
marked newer than their outputs; for a checkpoint, one reader's output deleted), and
`snakemake --cores 2` is run as a user would. Each fault is counted as

- stopped in one line: the run fails, the failed job's log ends in one `crossclass ...: error:`
  line without a traceback, and that line is on snakemake's console;
- rebuilt identical: the one command that line gives (`rm -r ...` or `delete PATH`), followed,
  and a second `snakemake --cores 2`, end with every store and checkpoint byte-identical to the
  undamaged run (stores compared by their SHA-256 manifests, checkpoints byte for byte); a
  sweep batch the advice deleted that no job needs again is listed, not rebuilt.

The copy is restored from the undamaged run before each fault. Bad command-line calls are
tried too (one line each, no command for paths outside the workflow).

    python benchmarks/fault_campaign.py [--out benchmarks/results/reliability.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from test_workflow_runs import repo_copy  # noqa: E402

CONFIG = "tests/configs/tiny.yaml"
RESULTS = Path("results")
RUN = RESULTS / "train/gmm/mlp/n6"
CHECKPOINT = "extract/gmm/mlp/n6/e2/train"  # the analysed checkpoint's stores, under RESULTS

# store -> (a variable inside it (None: its largest array), outputs deleted to make a job that
# reads it run (its own, and a target's that needs it); None: the store is marked newer than
# every output reading it)
STORES = {
    "subset": ("data/gmm/n6/subset.zarr", "train_label", (f"{CHECKPOINT}/summary.zarr",)),
    "sweep metrics": ("train/gmm/mlp/n6/batch0/lr0/metrics.zarr", "test_error", None),
    "means": ("extract/gmm/mlp/n6/e2/train/means.zarr", None, None),
    "layers": ("extract/gmm/mlp/n6/e2/train/layers.zarr", None, None),
    "summary": ("extract/gmm/mlp/n6/e2/train/summary.zarr", "loss", None),
    "spectrum": ("spectra/gmm/mlp/n6/e2/train/deflated/G.zarr", "density", None),
    "verification matrix": ("verification/fig15a/matrix.zarr", "eigenvalues",
                            ("verification/fig15a/spectrum.zarr", "figures/fig15.pdf")),
    "verification spectrum": ("verification/fig15a/spectrum.zarr", "density", None),
    "mlr": ("mlr/study.zarr", None, None),
}
STORE_DAMAGES = ("delete a chunk", "truncate a chunk", "overwrite a chunk", "flip one byte",
                 "garble zarr.json", "delete DIGESTS.sha256")
CHECKPOINT_DAMAGES = ("overwrite in place", "truncate in place", "flip one byte", "delete")
ERROR = re.compile(r"^crossclass[\w -]*: error: ")


def snakemake(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))
    return subprocess.run(["snakemake", "--cores", "2", "--configfile", CONFIG, *args],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=1800)


def snapshot(repo: Path) -> dict[str, str]:
    """Every store's manifest text and every checkpoint's bytes (as hex digest), by path."""
    from crossclass.digests import MANIFEST, file_digest

    found = {}
    for manifest in (repo / RESULTS).rglob(MANIFEST):
        found[str(manifest.parent.relative_to(repo))] = manifest.read_text()
    for checkpoint in (repo / RESULTS).rglob("*.pt"):
        found[str(checkpoint.relative_to(repo))] = file_digest(checkpoint)
    return found


def chunk_of(store: Path, variable: str | None) -> Path:
    """A chunk file of `variable` (the largest array's when None; a scalar's chunk is `c`)."""
    if variable is None:
        arrays = [p for p in store.iterdir() if (p / "c").exists()]
        variable = max(arrays, key=lambda a: sum(f.stat().st_size for f in a.rglob("*"))).name
    chunks = store / variable / "c"
    return chunks if chunks.is_file() else min(p for p in chunks.rglob("*") if p.is_file())


def damage_file(path: Path, how: str) -> None:
    """Damage `path` in place (its inode kept, so hard links share the damage)."""
    data = path.read_bytes()
    if how.startswith("delete"):
        path.unlink()
    elif how.startswith("truncate"):
        with open(path, "r+b") as fh:
            fh.truncate(len(data) // 2)
    elif how.startswith("overwrite"):
        with open(path, "r+b") as fh:
            fh.write(np.random.default_rng(0).bytes(len(data)))
    elif how == "flip one byte":
        with open(path, "r+b") as fh:
            fh.seek(len(data) * 3 // 4)
            fh.write(bytes([data[len(data) * 3 // 4] ^ 0x10]))
    elif how == "garble zarr.json":
        path.write_text(path.read_text().replace('"', "'", 3))
    else:
        raise ValueError(how)


def advice_command(line: str) -> list[str] | None:
    """The command that `line` advises, as argv; None when it gives none."""
    if found := re.search(r"redo its run[^:]*: (rm -r .+?), then rerun snakemake", line):
        return shlex.split(found.group(1))
    if found := re.search(r"; delete (.+?) and rerun snakemake", line):
        return ["rm", "-r", *shlex.split(found.group(1))]
    return None


def trial(repo: Path, pristine: dict, target: Path, how: str, store: Path,
          consumers: tuple[Path, ...] | None) -> dict:
    """Damage `target` (a file of `store`) by `how`; make its readers run: `consumers`
    (outputs) deleted, else the store marked newer than every output that reads it; run,
    follow the advice, run again."""
    damage_file(target, how)
    if consumers is not None:
        for consumer in consumers:
            path = repo / consumer
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    else:  # the marker of the output folder holding the store (a sweep batch holds its runs')
        owner = next(f for f in [repo / store, *(repo / store).parents]
                     if (f / ".snakemake_timestamp").is_file())
        (owner / ".snakemake_timestamp").touch()
    failed = snakemake(repo)
    row = {"failed": failed.returncode != 0, "line": "", "one_line": False, "identical": False,
           "not_rebuilt": []}
    console = failed.stderr.splitlines()
    errors = [line for line in console if ERROR.match(line)]
    if not errors:
        row["line"] = f"(exit {failed.returncode}) " + (console[-1] if console else "")
        return row
    row["line"] = errors[0]
    logs = re.findall(r"^Error in rule \S+ \(log: (.+)\):$", failed.stderr, re.M)
    texts = [(repo / log).read_text() for log in logs if (repo / log).is_file()]
    row["one_line"] = row["failed"] and any(
        t.strip().splitlines()[-1] == errors[0] and "Traceback" not in t for t in texts)
    command = advice_command(errors[0])
    if command is None:
        return row
    subprocess.run(command, cwd=repo, check=True)
    if snakemake(repo).returncode != 0:
        return row
    now = snapshot(repo)
    row["not_rebuilt"] = sorted(k for k in pristine if k not in now)
    row["identical"] = (all(now.get(k) == v for k, v in pristine.items()
                            if k not in row["not_rebuilt"]) and set(now) <= set(pristine)
                        and all(re.search(r"/batch\d+/", k) for k in row["not_rebuilt"]))
    return row


def restore(repo: Path, clean: Path) -> None:
    """The undamaged results under `repo`, with the selected run's files hard-linked to the
    sweep's again where the workflow linked them."""
    if (repo / RESULTS).exists():
        shutil.rmtree(repo / RESULTS)
    shutil.copytree(clean / RESULTS, repo / RESULTS, symlinks=True)
    sweep = {(s.st_dev, s.st_ino): p for p in (clean / RUN).glob("batch*/**/*")
             if p.is_file() and (s := p.stat()).st_nlink > 1}
    for path in (clean / RUN / "selected").rglob("*"):
        if path.is_file() and (twin := sweep.get((path.stat().st_dev, path.stat().st_ino))):
            copy = repo / path.relative_to(clean)
            copy.unlink()
            os.link(repo / twin.relative_to(clean), copy)


def cli_trials(repo: Path) -> list[tuple[str, bool, str]]:
    """Bad command-line calls: (call, stopped in one line with no command, the line)."""
    subset = RESULTS / "data/gmm/n6/subset.zarr"
    common = ["--subset", str(subset), "--root", "data", "--split", "train", "--batch-size",
              "8"]
    calls = [
        ["operator-spectrum", "--checkpoint", "/nonexistent.pt", *common, "--operator", "G",
         "--out", "x.zarr"],
        ["operator-spectrum", "--checkpoint", "ck.pt", *common, "--operator", "G", "--out",
         "x.zarr"],
        ["extract", "--checkpoint", "Snakefile", *common, "--out-means", "m.zarr",
         "--out-layers", "l.zarr", "--out-summary", "s.zarr"],
        ["select-lr", "--stores", str(subset), "--out", "choice.json"],
        ["--bogus"],
        ["figure", "fig5", "--inputs", "nothing.zarr", "--out", "x.pdf"],
    ]
    rows = []
    env = dict(os.environ, PYTHONPATH=str(repo / "workflow"))
    for call in calls:
        proc = subprocess.run(["crossclass", *call], cwd=repo, env=env, capture_output=True,
                              text=True)
        line = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        ok = (proc.returncode == 2 and "Traceback" not in proc.stderr and "rm -r" not in line
              and bool(ERROR.match(line)))
        rows.append((" ".join(call), ok, line))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/reliability.md")
    parser.add_argument("--only", nargs="+", metavar="KIND", choices=[*STORES, "checkpoint"],
                        help="rerun these kinds only; the other rows are kept from the report's "
                        "JSON beside --out")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "workflow"))
    work = Path(tempfile.mkdtemp(prefix="crossclass-faults-"))
    started = time.monotonic()
    clean = repo_copy(work / "clean")
    assert snakemake(clean).returncode == 0, "the undamaged run failed"
    pristine = snapshot(clean)
    repo = repo_copy(work / "repo")
    rows = []
    faults = [(name, how, RESULTS / store, variable,
               reader and tuple(RESULTS / r for r in reader))
              for name, (store, variable, reader) in STORES.items() for how in STORE_DAMAGES
              if not args.only or name in args.only]
    faults += [("checkpoint (hard-linked)", how, RUN / "selected/checkpoints/epoch_0002.pt", None,
                (RESULTS / CHECKPOINT / "means.zarr",)) for how in CHECKPOINT_DAMAGES
               if not args.only or "checkpoint" in args.only]
    for name, how, store, variable, consumers in faults:
        restore(repo, clean)
        path = repo / store
        if name.startswith("checkpoint"):
            target = path
        elif how == "garble zarr.json":
            target = path / "zarr.json"
        elif how == "delete DIGESTS.sha256":
            target = path / "DIGESTS.sha256"
        else:
            target = chunk_of(path, variable)
        row = trial(repo, pristine, target, how, store, consumers)
        rows.append({"name": name, "how": how, **row})
        print(f"{name:24} {how:22} one line: {row['one_line']!s:5} identical: "
              f"{row['identical']!s:5} {row['line'][:90]}", flush=True)
    cli = cli_trials(clean)
    saved = args.out.with_suffix(".json")
    if args.only:  # keep the other kinds' rows, in their order
        kept = json.loads(saved.read_text())["faults"]
        fresh = {(r["name"], r["how"]): r for r in rows}
        rows = [fresh.pop((r["name"], r["how"]), r) for r in kept] + list(fresh.values())
    saved.write_text(json.dumps({"faults": rows, "cli": cli}, indent=1))
    write_report(args.out, rows, cli, time.monotonic() - started)
    shutil.rmtree(work, ignore_errors=True)


def write_report(out: Path, rows: list, cli: list, seconds: float) -> None:
    one = sum(r["one_line"] for r in rows)
    same = sum(r["identical"] for r in rows)
    lines = [
        "# Reliability: faults tried on a finished run",
        "",
        "`python benchmarks/fault_campaign.py` on `tests/configs/tiny.yaml` "
        f"(the last call: {seconds / 60:.0f} min on 2 cores). Each fault damages one file of an "
        "undamaged run, makes the jobs that read it run (a reader's output deleted, or the store "
        "marked newer than its readers' outputs), and runs `snakemake --cores 2`; the advice is "
        "then followed and the run repeated. Rebuilt identical: every store and checkpoint is "
        "back, byte for byte; a sweep batch that shared a damaged checkpoint through a hard link "
        "is deleted with it and not trained again while the choice it fed stands.",
        "",
        f"**{len(rows)} faults: {one} stopped in one line on the console, {same} rebuilt "
        f"byte-identical** (stores by their SHA-256 manifests, checkpoints byte for byte); "
        f"**{len(cli)} bad command-line calls: {sum(ok for _, ok, _ in cli)} stopped in one "
        "line naming no command for paths outside the workflow.**",
        "",
        "| file | fault | one line | rebuilt identical | message (start) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        name, how = row["name"], row["how"]
        extra = ""
        if row["not_rebuilt"]:
            batches = sorted({re.sub(r"(/batch\d+)/.*", r"\1", k) for k in row["not_rebuilt"]})
            extra = f" (deleted, not rebuilt: {', '.join(batches)})"
        message = row["line"].replace("|", "\\|")[:140]
        lines.append(f"| {name} | {how} | {'yes' if row['one_line'] else '**no**'} | "
                     f"{'yes' if row['identical'] else '**no**'}{extra} | `{message}` |")
    lines += ["", "| call | one line, no command | message |", "| --- | --- | --- |"]
    for call, ok, line in cli:
        lines.append(f"| `crossclass {call}` | {'yes' if ok else '**no**'} | "
                     f"`{line.replace('|', '/')[:140]}` |")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
