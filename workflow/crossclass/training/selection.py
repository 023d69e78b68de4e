"""Learning-rate selection (Appendix D.1): of the sweep's runs (grid: crossclass.sweep), the rate
with the best test error at the last epoch (ties -> smaller final test loss -> smaller rate)."""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from crossclass.errors import UserError
from crossclass.run_layout import redo_run
from crossclass.stores import StoreSchema, read_store, store_params

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    notes=('JSON: the chosen learning rate (lowest final test error; ties: lower test loss, then'
           ' lower rate) with every run\'s final metrics: `{"selected": {lr, store, train_loss, '
           'train_error, test_loss, test_error}, "runs": [...]}`. `crossclass train --choice` '
           'reads the run that `selected.store` names.'),
)

METRICS = ("train_loss", "train_error", "test_loss", "test_error")


def final_metrics(store: str | os.PathLike) -> dict:
    """Initial lr and last-epoch metrics of one run's metrics store (NaN metrics are data: a
    diverged run); the store lives in its run folder, so rebuilding it is retraining."""
    ds = read_store(store, METRICS, finite=False,
                    rebuild=redo_run(store) or f"not a training run's store of this workflow: "
                    f"{store}")
    params = store_params(ds)
    if "lr" not in params:
        raise UserError(f"store {store} records no learning rate; is it a training metrics store?")
    last = ds.isel(epoch=-1)
    return {"lr": float(params["lr"]), "store": str(store),
            **{k: float(last[k]) for k in METRICS}}


def select_lr(runs: Sequence[dict]) -> dict:
    """The run (a dict from `final_metrics`) with the smallest final test error; ties broken by
    smaller test loss, then smaller rate. Diverged runs (NaN metrics) are never chosen."""
    def key(run):
        err, loss = run["test_error"], run["test_loss"]
        bad = math.isnan(err) or math.isnan(loss)
        return (bad, err if not bad else math.inf, loss if not bad else math.inf, run["lr"])
    if not runs:
        raise UserError("no runs to select a learning rate from")
    best = min(runs, key=key)
    if key(best)[0]:
        raise UserError(f"all {len(runs)} runs diverged (NaN test metrics); no rate to select")
    return best


def write_choice(choice: dict, runs: Sequence[dict], path: str | os.PathLike) -> Path:
    """Write {"selected": choice, "runs": runs sorted by lr} as JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    payload = {"selected": choice, "runs": sorted(runs, key=lambda r: r["lr"])}
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=True) + "\n")
    os.replace(tmp, path)
    return path
