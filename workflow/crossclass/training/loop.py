"""The training loop: seeded SGD epochs, per-epoch metrics, kept + rolling checkpoints, resume.

Layout of `out`: checkpoints/epoch_EEEE.pt (kept epochs), last.pt (rolling resume checkpoint,
the final state at the end), metrics.zarr (dims: epoch = 1..E; lr, train_loss, train_error,
test_loss, test_error). With a separate resume folder the checkpoints are written there and
linked into `out` only when the run completes, so deleting an incomplete `out` (as Snakemake
does before a rerun) never loses the resume state.
Every metric is measured in eval mode (BatchNorm on running statistics), the mode every operator
of the analysis uses: train_* and test_* are full passes over the train and test splits after
the epoch's last step (NaN on epochs skipped by eval_every; the last epoch is always measured).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from torch import nn

from crossclass.devices import resolve_device
from crossclass.errors import UserError
from crossclass.progress import Progress
from crossclass.stores import StoreSchema, write_store
from crossclass.training.checkpoint import load_checkpoint, remove_partial, save_checkpoint
from crossclass.training.config import TrainConfig
from crossclass.training.schedule import make_optimizer

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('lr',), '(epoch,)', 'the learning rate of the epoch'),
        (('train_loss', 'train_error'), '(epoch,)',
         "on the whole training subset, eval mode, after the epoch's last step"),
        (('test_loss', 'test_error'), '(epoch,)',
         'the same on the test split (every `--eval-every` epochs, NaN between)'),
    ),
    intro=('A run folder: `checkpoints/epoch_EEEE.pt` (the kept epochs), `last.pt` (the final '
           'state) and `metrics.zarr`:'),
    notes=('Keys: `dataset, net, n_per_class, seed, lr`. A sweep batch trains its runs `lr{i}` '
           '(`{i}` indexes the log-spaced sweep from `lr_max` down) in `batchB.partial-HASH/` '
           '(the resume state, kept when the job is killed) and is renamed into place when '
           "complete; `selected/` holds the chosen rate's run with its checkpoints "
           '(docs/workflow.md).'),
)

log = logging.getLogger(__name__)
METRICS = ("lr", "train_loss", "train_error", "test_loss", "test_error")
EVAL_BATCH = 1024


@dataclass
class TrainResult:
    """The trained model (train mode, on the run's device), its history and output paths."""

    model: nn.Module
    history: xr.Dataset
    metrics_path: Path
    checkpoints: dict[int, Path]
    resumed_from: int | None


def batches(perm: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Consecutive index chunks of `perm`; a trailing chunk of one example is dropped (BatchNorm
    cannot normalise a single example in train mode)."""
    chunks = list(perm.split(batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks.pop()
    return chunks


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                y: torch.Tensor, batch_size: int, generator: torch.Generator
                ) -> None:
    """One pass of mini-batch SGD (train mode) over (x (N, ...), y (N,)) in an order drawn
    from `generator` (a CPU generator); never synchronises with the device."""
    model.train()
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    for idx in batches(perm, batch_size):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, error rate) of `model` in eval mode on (x (N, ...), y (N,))."""
    model.eval()
    loss = torch.zeros((), dtype=torch.float64, device=x.device)
    errors = torch.zeros((), dtype=torch.long, device=x.device)
    for start in range(0, x.shape[0], EVAL_BATCH):
        logits = model(x[start:start + EVAL_BATCH])
        yb = y[start:start + EVAL_BATCH]
        loss += F.cross_entropy(logits, yb, reduction="sum").double()
        errors += (logits.argmax(1) != yb).sum()
    n = max(x.shape[0], 1)
    return loss.item() / n, errors.item() / n


def as_tensors(splits: Any, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test) of an ArraySplits-like object on `device`."""
    out = []
    for name, dtype in (("x_train", torch.float32), ("y_train", torch.long),
                        ("x_test", torch.float32), ("y_test", torch.long)):
        out.append(torch.as_tensor(getattr(splits, name)).to(device, dtype))
    if out[0].shape[0] != out[1].shape[0] or out[2].shape[0] != out[3].shape[0]:
        raise UserError("inputs and labels disagree in length: "
                        f"train {out[0].shape[0]} vs {out[1].shape[0]}, "
                        f"test {out[2].shape[0]} vs {out[3].shape[0]}")
    if out[0].shape[0] < 2:
        raise UserError(f"need at least 2 training examples, got {out[0].shape[0]}")
    return tuple(out)


def seeds(seed: int) -> tuple[int, int]:
    """Independent (initialisation, training) seeds derived from one run seed."""
    a, b = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    return int(a) >> 1, int(b) >> 1


@contextlib.contextmanager
def deterministic(device: torch.device):
    """Deterministic algorithms on CPU for the duration (restores the previous setting)."""
    previous = torch.are_deterministic_algorithms_enabled()
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def rng_state(generator: torch.Generator, device: torch.device) -> dict[str, torch.Tensor]:
    """Every random state the run depends on (shuffling, global CPU, current CUDA device)."""
    state = {"shuffle": generator.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: Mapping[str, torch.Tensor], generator: torch.Generator,
                  device: torch.device) -> None:
    generator.set_state(state["shuffle"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def publish(files: list[Path], source: Path, out: Path) -> None:
    """Hard-link (else copy) `files` from folder `source` to the same place under `out`; the
    originals stay until the caller removes `source`, so a kill here loses nothing."""
    for path in files:
        target = out / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def fit(build: Callable[[], nn.Module], splits: Any, config: TrainConfig,
        out: str | os.PathLike, *, meta: Mapping[str, Any] | None = None,
        keys: Mapping[str, Any] | None = None,
        resume_dir: str | os.PathLike | None = None) -> TrainResult:
    """Train `build()` on `splits` (ArraySplits-like: x_train (N, ...), y_train (N,), x_test,
    y_test) with `config`, writing checkpoints and the metrics store under `out`.
    resume_dir: where the checkpoints are written while training (default `out`); a separate
    folder is published into `out` and removed once the run completes.

    The initial weights are drawn from `config.seed` (so `build` must create the parameters),
    and the shuffling order from an independent generator of the same seed. If
    resume_dir/last.pt exists the run resumes from it and ends bitwise identical on CPU to an
    uninterrupted run.
    meta: JSON-able recipe saved in every checkpoint (see checkpoint.load_trained).
    keys: scalar coordinates of the metrics store (dataset, net, seed, ...).
    """
    out = Path(out)
    device = resolve_device(config.device)
    meta = dict(meta or {})
    init_seed, train_seed = seeds(config.seed)
    xtr, ytr, xte, yte = as_tensors(splits, device)
    state_dir = out if resume_dir is None else Path(resume_dir)
    last = state_dir / "last.pt"
    kept = {e: state_dir / "checkpoints" / f"epoch_{e:04d}.pt" for e in config.keep}
    metrics_path = out / "metrics.zarr"
    for folder in {out, state_dir}:
        folder.mkdir(parents=True, exist_ok=True)
        remove_partial(folder)

    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices), deterministic(device):
        torch.manual_seed(init_seed)
        model = build().to(device)
        optimizer, scheduler = make_optimizer(model, config)
        generator = torch.Generator().manual_seed(train_seed)
        torch.manual_seed(train_seed)
        history: dict[str, list[float]] = {k: [] for k in METRICS}
        start, resumed_from = 0, None
        if last.exists():
            state = load_checkpoint(last)  # on CPU: RNG states must stay CPU tensors
            if state["config"] != config.run_identity() or state["meta"] != meta:
                raise UserError(f"{last} belongs to a different run (config or network differ); "
                                "use another output folder or delete it")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"], generator, device)
            history = {k: list(v) for k, v in state["history"].items()}
            start = resumed_from = int(state["epoch"])
            log.warning("resuming from epoch %d of %d (%s)", start, config.epochs, last)
            missing = [str(p) for e, p in kept.items() if e <= start and not p.is_file()]
            if missing:
                raise UserError(f"{last} is at epoch {start} but the kept checkpoint "
                                f"{missing[0]} is missing; delete {last} to start the run over")

        def snapshot(epoch: int) -> dict[str, Any]:
            return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "rng": rng_state(generator, device),
                    "epoch": epoch, "history": history, "config": config.run_identity(),
                    "meta": meta}

        if start == 0 and 0 in kept:
            save_checkpoint(snapshot(0), kept[0])
        last_saved = time.monotonic()
        bar = Progress(config.epochs, f"train {meta.get('net', 'network')} lr={config.lr:g}",
                       progress=config.progress, unit="epoch", initial=start, leave=True)
        measured_at = {}  # the last measured metrics, for the bar and the log lines
        for epoch in range(start + 1, config.epochs + 1):
            history["lr"].append(optimizer.param_groups[0]["lr"])
            train_epoch(model, optimizer, xtr, ytr, config.batch_size, generator)
            scheduler.step()
            measured = epoch % config.eval_every == 0 or epoch == config.epochs
            for split, (xs, ys) in (("train", (xtr, ytr)), ("test", (xte, yte))):
                loss, error = evaluate(model, xs, ys) if measured else (math.nan, math.nan)
                history[f"{split}_loss"].append(loss)
                history[f"{split}_error"].append(error)
            state = snapshot(epoch)
            if epoch in kept:
                save_checkpoint(state, kept[epoch])
            now = time.monotonic()
            if epoch == config.epochs or now - last_saved >= config.resume_interval:
                save_checkpoint(state, last)
                last_saved = now
            if measured:
                measured_at = {"train_loss": history["train_loss"][-1],
                               "train_error": history["train_error"][-1],
                               "test_error": history["test_error"][-1],
                               "measured at epoch": epoch}
            bar.update(1, **{k: v for k, v in measured_at.items()
                             if k != "measured at epoch" or v != epoch})
        bar.close()
        model.train()

    ds = xr.Dataset({k: ("epoch", np.asarray(v, dtype=np.float64)) for k, v in history.items()},
                    coords={"epoch": np.arange(1, config.epochs + 1)})
    if state_dir != out and not config.metrics_only:
        publish([last, *kept.values()], state_dir, out)
    write_store(ds, metrics_path, keys=keys, params={**config.as_dict(), **meta})
    if state_dir != out:
        shutil.rmtree(state_dir)
    elif config.metrics_only:
        last.unlink(missing_ok=True)
    kept = {e: out / p.relative_to(state_dir) for e, p in kept.items()}
    return TrainResult(model, ds, metrics_path, kept, resumed_from)
