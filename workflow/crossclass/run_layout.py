"""The layout of the workflow's training runs, and what a damaged run file tells the user to
delete: only folders the workflow owns, recognised by that layout, with every run that shares
the damaged bytes through a hard link.

    RESULTS/train/DATASET/NET/nN/batchB/lrK/   rate K of the sweep, trained in the job of batch B
    RESULTS/train/DATASET/NET/nN/selected/     the chosen rate's run (hard-linked from the sweep)

A run holds `checkpoints/epoch_EEEE.pt`, `last.pt` and `metrics.zarr`. Deleting a train job's
output folder (the batch, or `selected`) makes Snakemake train it again. Torch-free: the
workflow's paths (rules/paths.smk) are built from these names.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

TRAIN_DIR = "train"
BATCH_PREFIX = "batch"
RUN_PREFIX = "lr"
SELECTED = "selected"
RUN_FILES = ("checkpoints", "last.pt", "metrics.zarr")

_SAMPLE_SIZE = re.compile(r"n[0-9]+")


def _is_key(folder: Path) -> bool:
    """folder is TRAIN_DIR/DATASET/NET/nN."""
    return (bool(_SAMPLE_SIZE.fullmatch(folder.name)) and len(folder.parents) >= 3
            and folder.parents[2].name == TRAIN_DIR)


def _numbered(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and name[len(prefix):].isdigit()


def train_job(path: str | os.PathLike) -> Path | None:
    """The train job's output folder (a sweep batch, or `selected`) that holds `path`, a file or
    store of one of its runs; None for any path outside the workflow's training layout."""
    path = Path(path)
    chain = [path, *path.parents]
    for inner, run in zip(chain, chain[1:], strict=False):
        if inner.name not in RUN_FILES:
            continue
        if run.name == SELECTED and _is_key(run.parent):
            return run
        if (_numbered(run.name, RUN_PREFIX) and _numbered(run.parent.name, BATCH_PREFIX)
                and _is_key(run.parent.parent)):
            return run.parent
    return None


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]


def sharing_jobs(path: str | os.PathLike) -> list[Path]:
    """The other train jobs' folders holding a hard link to a file of `path` (a run's file or
    store): damage written into one link is in every other."""
    path, job = Path(path), train_job(path)
    if job is None or not path.exists():
        return []
    inodes = {(s.st_dev, s.st_ino) for s in map(os.stat, _files(path)) if s.st_nlink > 1}
    if not inodes:
        return []
    jobs = []
    for other in _files(job.parent):
        s = other.stat()
        owner = train_job(other)
        if (s.st_dev, s.st_ino) in inodes and owner not in (None, job) and owner not in jobs:
            jobs.append(owner)
    return jobs


def redo_run(path: str | os.PathLike) -> str | None:
    """How to redo the run that `path` (a run's checkpoint or store, damaged or missing)
    belongs to: delete its train job's folder and every job sharing its bytes, then rerun
    snakemake. None when `path` is not in the workflow's training layout."""
    job = train_job(path)
    if job is None:
        return None
    shared = sharing_jobs(path)
    command = "rm -r " + " ".join(shlex.quote(str(j)) for j in [job, *shared])
    also = f" (hard links share the damage with {', '.join(map(str, shared))})" if shared else ""
    return f"redo its run{also}: {command}, then rerun snakemake"


def checkpoint_advice(checkpoint: str | os.PathLike) -> str:
    """What to do about a damaged or missing checkpoint: redo its run (`redo_run`), or, for a
    file outside the workflow's layout, no command at all."""
    return redo_run(checkpoint) or f"not a checkpoint of this workflow: {checkpoint}"
