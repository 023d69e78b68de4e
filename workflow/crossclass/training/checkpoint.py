"""Checkpoints: written atomically (temporary sibling + os.replace), read with
torch.load(weights_only=True). A checkpoint holds everything a bitwise-identical resume needs:
model, optimizer, scheduler, RNG states, epoch, metric history, config and the network's
construction recipe (`meta`: net plugin name, options, in_shape, num_classes), and the SHA-256
`digest` of all of that (`content_digest`), checked whenever it is read.

The bytes of a checkpoint are a function of its content: the pickle is written without its memo
(a memo refers back to Python objects seen before, and which objects are shared differs
between a resumed run and an uninterrupted one), so a resumed run's checkpoints equal an
uninterrupted run's byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import types
import uuid
from pathlib import Path
from typing import Any

import torch
from torch import nn

from crossclass import plugins
from crossclass.errors import UserError

REQUIRED = ("model", "optimizer", "scheduler", "rng", "epoch", "history", "config", "meta",
            "digest")


class _MemolessPickler(pickle.Pickler):
    """A pickler whose output depends on the values pickled, not on which objects are shared
    (pickle's `fast` mode: no memo; checkpoint states hold no reference cycles)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast = True


_MEMOLESS = types.SimpleNamespace(__name__="crossclass_memoless_pickle", Pickler=_MemolessPickler)


def content_digest(obj: Any) -> str:
    """SHA-256 (hex) of a checkpoint state's content: nested dicts (in key order), lists,
    tuples, tensors (dtype, shape and bytes) and scalars; independent of the file format."""
    h = hashlib.sha256()

    def feed(x: Any) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous().reshape(-1)
            h.update(f"T{t.dtype}{tuple(x.shape)};".encode())
            h.update(t.view(torch.uint8).numpy())
        elif isinstance(x, dict):
            h.update(f"D{len(x)};".encode())
            for key, value in x.items():
                feed(key)
                feed(value)
        elif isinstance(x, list | tuple):
            h.update(f"{type(x).__name__}{len(x)};".encode())
            for item in x:
                feed(item)
        elif x is None or isinstance(x, str | int | float | bool):
            h.update(f"{type(x).__name__}:{x!r};".encode())
        else:
            raise TypeError(f"a checkpoint cannot hold {type(x).__name__}")

    feed(obj)
    return h.hexdigest()


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write `state` and its content digest to `path` atomically: a reader sees the old file or
    the new one, never half; the same state always gives the same bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {**state, "digest": content_digest(state)}
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(state, fh, pickle_module=_MEMOLESS)
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
    redo it) if it is missing, truncated, corrupt, changed since it was written (its digest) or
    not a training checkpoint (never a silent fresh start)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} does not exist; {advice}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for damaged archives
        raise UserError(f"checkpoint {path} is corrupt or truncated ({_load_failure(err)}); "
                        f"{advice}") from err
    missing = [k for k in REQUIRED if not isinstance(state, dict) or k not in state]
    if missing:
        raise UserError(f"checkpoint {path} is not a crossclass training checkpoint "
                        f"(missing {', '.join(missing)}); {advice}")
    recorded = state.pop("digest")
    try:
        intact = content_digest(state) == recorded
    except TypeError:
        intact = False
    if not intact:
        raise UserError(f"checkpoint {path} does not match its recorded digest (changed since "
                        f"it was written); {advice}")
    return state


def _load_failure(err: Exception) -> str:
    """Why torch.load failed, in words that never suggest loading untrusted pickles."""
    first = str(err).splitlines()[0] if str(err) else ""
    if not first or "weights_only" in str(err) or "Weights only" in first:
        return f"its bytes do not decode as a checkpoint: {type(err).__name__}"
    return first


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
