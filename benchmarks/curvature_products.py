"""Cost of the curvature products and of the C^2 extended-gradient means (crossclass.curvature).

For an MLP and a small CNN (float32, BatchNorm in eval mode), on synthetic balanced data, times
side by side in one run (median of repeats after a warm-up; on CPU the process CPU time, which
other jobs on a shared machine disturb less than wall-clock time; on CUDA synchronised wall time):
  Hv, Gv, Ev          one product each, over one full-data gradient   (target Ev <= 1.3 Hv)
  10-vector block     one block product of 10 Hessian vectors, over ten single products
                      (target <= 0.6)
  all C^2 means       extended_gradient_means, over one full-data gradient (target <= C + 1)
Prints a table and writes benchmarks/results/curvature_products.md and .json.

  python benchmarks/curvature_products.py [--quick] [--device cpu] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    extended_gradient_means,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from torch.func import grad

RESULTS = Path(__file__).resolve().parent / "results"
C = 10


def mlp(width: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, width),
                               torch.nn.ReLU(), torch.nn.Linear(width, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, C))


def cnn(channels: int) -> torch.nn.Module:
    def block(cin, cout):
        return [torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.BatchNorm2d(cout),
                torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    return torch.nn.Sequential(*block(3, channels), *block(channels, 2 * channels),
                               torch.nn.Flatten(), torch.nn.Linear(2 * channels * 16, C))


def median_time(f: Callable[[], object], repeats: int, device: torch.device) -> float:
    cuda = device.type == "cuda"
    clock = time.perf_counter if cuda else time.process_time
    f()  # warm-up
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize(device)
        start = clock()
        f()
        if cuda:
            torch.cuda.synchronize(device)
        times.append(clock() - start)
    return statistics.median(times)


def full_gradient(fn: ModelFunction, data: LabeledData) -> torch.Tensor:
    """Gradient of the average loss over all of `data`, the unit of cost."""
    total = torch.zeros_like(fn.theta)
    for Xb, yb in data.batches(fn.device, fn.dtype):
        total += grad(lambda t, Xb=Xb, yb=yb: F.cross_entropy(fn(t, Xb), yb, reduction="sum"))(
            fn.theta)
    return total / data.N


def measure(name: str, model: torch.nn.Module, n_per_class: int, batch_size: int,
            device: torch.device, repeats: int) -> dict:
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(C * n_per_class, 3, 16, 16, generator=gen)
    y = torch.arange(C).repeat(n_per_class)
    data = LabeledData(X, y, batch_size=batch_size)
    fn = ModelFunction(model.to(device))
    H, G, E = (op(fn, data) for op in (hessian_operator, gauss_newton_operator,
                                         residual_operator))
    V = torch.randn(fn.p, 10, generator=gen).to(device)
    v = V[:, 0]
    t = {
        "gradient": median_time(lambda: full_gradient(fn, data), repeats, device),
        "Hv": median_time(lambda: H @ v, repeats, device),
        "Gv": median_time(lambda: G @ v, repeats, device),
        "Ev": median_time(lambda: E @ v, repeats, device),
        "H block of 10": median_time(lambda: H @ V, repeats, device),
        "means": median_time(lambda: extended_gradient_means(fn, data, progress=False),
                             repeats, device),
    }
    t["10 single Hv"] = 10 * t["Hv"]
    ratios = {
        "Hv / gradient": t["Hv"] / t["gradient"],
        "Gv / gradient": t["Gv"] / t["gradient"],
        "Ev / gradient": t["Ev"] / t["gradient"],
        "Ev / Hv": t["Ev"] / t["Hv"],
        "block10 / 10 single Hv": t["H block of 10"] / t["10 single Hv"],
        "means / gradient": t["means"] / t["gradient"],
    }
    targets = {
        "Ev / Hv": 1.3,
        "block10 / 10 single Hv": 0.6,
        "means / gradient": C + 1,
    }
    return {"model": name, "p": fn.p, "N": data.N, "C": C, "batch_size": batch_size,
            "seconds": t, "ratios": ratios,
            "targets": {k: {"max": v, "value": ratios[k], "met": ratios[k] <= v}
                        for k, v in targets.items()}}


def markdown(rows: list[dict], meta: dict) -> str:
    lines = ["# Curvature product costs (crossclass.curvature)", "",
             f"Device {meta['device']}, torch {meta['torch']}, {meta['threads']} threads, "
             f"{meta['machine']}, mode {meta['mode']}, median of {meta['repeats']} repeats. "
             f"{meta['clock']} seconds; ratios measured side by side in one run.", ""]
    for row in rows:
        lines += [f"## {row['model']}: p = {row['p']}, N = {row['N']}, C = {row['C']}, "
                  f"batch {row['batch_size']}", "", "| quantity | seconds |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" for k, v in row["seconds"].items()]
        lines += ["", "| ratio | value | target | met |", "|---|---|---|---|"]
        for k, v in row["ratios"].items():
            target = row["targets"].get(k)
            lines.append(f"| {k} | {v:.3f} | {'<= ' + str(target['max']) if target else ''} | "
                         f"{('yes' if target['met'] else 'NO') if target else ''} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small models and data")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    device = torch.device(args.device)
    n, batch = (20, 100) if args.quick else (100, 500)
    models = {"MLP": mlp(64 if args.quick else 256), "CNN": cnn(8 if args.quick else 16)}
    rows = [measure(name, model, n, batch, device, args.repeats)
            for name, model in models.items()]
    meta = {"device": str(device), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "machine": platform.machine(),
            "mode": "quick" if args.quick else "full", "repeats": args.repeats,
            "clock": "synchronised wall" if device.type == "cuda" else "process CPU"}
    text = markdown(rows, meta)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "curvature_products.md").write_text(text + "\n")
    (RESULTS / "curvature_products.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
