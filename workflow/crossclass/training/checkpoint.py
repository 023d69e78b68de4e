"""Checkpoints: written atomically (temporary sibling + os.replace), read with
torch.load(weights_only=True). A checkpoint holds everything a bitwise-identical resume needs:
model, optimizer, scheduler, RNG states, epoch, metric history, config and the network's
construction recipe (`meta`: net plugin name, options, in_shape, num_classes)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crossclass import plugins
from crossclass.errors import UserError

REQUIRED = ("model", "optimizer", "scheduler", "rng", "epoch", "history", "config", "meta")


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write `state` to `path` atomically: a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_partial(folder: str | os.PathLike) -> None:
    """Delete temporary files left by a save that was killed (never a finished checkpoint)."""
    for tmp in Path(folder).rglob(".*.tmp-*"):
        if tmp.is_file():
            tmp.unlink()


def load_checkpoint(path: str | os.PathLike, *,
                    advice: str = "delete it to start the run over") -> dict:
    """Read a checkpoint written by `save_checkpoint` onto the CPU (RNG states must stay CPU
    tensors; load_state_dict moves the rest); a one-line UserError ending in `advice` (how to
    redo it) if it is missing, truncated, corrupt or not a training checkpoint (never a
    silent fresh start)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist; {advice}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for damaged archives
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"checkpoint {path} is corrupt or truncated ({reason}); "
                        f"{advice}") from err
    missing = [k for k in REQUIRED if not isinstance(state, dict) or k not in state]
    if missing:
        raise UserError(f"checkpoint {path} is not a crossclass training checkpoint "
                        f"(missing {', '.join(missing)}); {advice}")
    return state


def load_trained(path: str | os.PathLike, device: str | torch.device = "cpu"
                 ) -> tuple[nn.Module, dict]:
    """(model in eval mode on `device` with the checkpoint's weights, meta) for analysis.
    The network is rebuilt through its plugin (group crossclass.networks) from `meta`."""
    return trained_model(load_checkpoint(path), device)


def trained_model(state: dict, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """load_trained for a checkpoint already read with `load_checkpoint` (read it once)."""
    meta = state["meta"]
    build = plugins.load(plugins.NETWORKS, meta["net"])
    model = build(tuple(meta["in_shape"]), meta["num_classes"], **meta["net_options"])
    model.load_state_dict(state["model"])
    return model.to(device).eval(), meta
