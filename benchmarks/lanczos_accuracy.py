"""Accuracy and cost of the Lanczos spectral density on the Figure-15 matrices.

For M in {32, 64, 128, 256} and n_vec in {1, 10}: W1 between the estimated density and the
exact spectral measure (dense eigvalsh), linear spectrum of Fig. 15a (2000 x 2000) and
log-spectrum of Fig. 15b (500 x 500), averaged over --seeds start-vector seeds, with wall time
per estimate. Also the time of one FastLanczos block of 10 start vectors against 10
sequential single-vector runs. Prints a table; writes
benchmarks/results/lanczos_accuracy.md and .json.

    python benchmarks/lanczos_accuracy.py [--quick] [--device cuda] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from crossclass.linalg import DenseOperator, estimate_spectrum, fast_lanczos, wasserstein1
from crossclass.verification import fig15a_matrix, fig15b_matrix
from tqdm.auto import tqdm

RESULTS = Path(__file__).resolve().parent / "results"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def accuracy_rows(cases, Ms, n_vecs, seeds, device) -> list[dict]:
    """One row per (case, M, n_vec): mean/std W1 over seeds and mean wall time."""
    rows = []
    grid = [(name, M, n) for name in cases for M in Ms for n in n_vecs]
    for name, M, n_vec in tqdm(grid, desc="configurations"):
        op, eigenvalues, log = cases[name]
        errors, times = [], []
        for seed in range(seeds):
            _sync(device)
            start = time.perf_counter()
            est = estimate_spectrum(op, M=M, n_vec=n_vec, log=log, seed=seed, progress=False)
            _sync(device)
            times.append(time.perf_counter() - start)
            target = torch.log(eigenvalues.abs() + est.params["eps"]) if log else eigenvalues
            errors.append(wasserstein1(est.grid, est.density, target))
        rows.append(dict(case=name, spectrum="log" if log else "linear", M=M, n_vec=n_vec,
                         w1_mean=statistics.mean(errors),
                         w1_std=statistics.stdev(errors) if seeds > 1 else 0.0,
                         seconds=statistics.mean(times)))
    return rows


def block_versus_sequential(op, M: int, n_vec: int, device) -> dict:
    """Wall time of one (p, n_vec) FastLanczos block against n_vec single-vector runs."""
    starts = torch.randn(op.shape[0], n_vec, generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64)
    fast_lanczos(op, 4, starts, progress=False)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    fast_lanczos(op, M, starts, progress=False)
    _sync(device)
    t1 = time.perf_counter()
    for j in range(n_vec):
        fast_lanczos(op, M, starts[:, j], progress=False)
    _sync(device)
    t2 = time.perf_counter()
    return dict(M=M, n_vec=n_vec, block_seconds=t1 - t0, sequential_seconds=t2 - t1,
                speedup=(t2 - t1) / (t1 - t0))


def markdown(rows, block, env) -> str:
    lines = ["# Lanczos density accuracy on the Figure-15 matrices", "",
             "W1 between the estimated density and the exact spectral measure (mean +- std over "
             f"{env['seeds']} seeds; log spectrum in log-units), wall time per estimate.",
             f"Environment: {env['device']}, torch {env['torch']}, {env['threads']} CPU "
             f"thread(s), float64, K=1024, kappa=3, M0=32, tau=0.05.", "",
             "| case | spectrum | M | n_vec | W1 | seconds |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['spectrum']} | {r['M']} | {r['n_vec']} | "
                     f"{r['w1_mean']:.4f} +- {r['w1_std']:.4f} | {r['seconds']:.2f} |")
    lines += ["", f"One block of {block['n_vec']} start vectors (M={block['M']}, Fig. 15a): "
              f"{block['block_seconds']:.2f} s; {block['n_vec']} sequential runs: "
              f"{block['sequential_seconds']:.2f} s; ratio {block['speedup']:.1f}x.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small grid (M in {32, 64}, one seed) for a smoke run")
    parser.add_argument("--seeds", type=int, default=3, help="start-vector seeds per cell")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    device = torch.device(args.device)
    Ms = [32, 64] if args.quick else [32, 64, 128, 256]
    seeds = 1 if args.quick else args.seeds
    a = fig15a_matrix(seed=0, device=device)
    b = fig15b_matrix(seed=0, device=device)
    cases = {"fig15a": (DenseOperator(a), torch.linalg.eigvalsh(a).cpu(), False),
             "fig15b": (DenseOperator(b), torch.linalg.eigvalsh(b).cpu(), True)}
    rows = accuracy_rows(cases, Ms, [1, 10], seeds, device)
    block = block_versus_sequential(cases["fig15a"][0], 128, 10, device)
    env = dict(device=torch.cuda.get_device_name(device) if device.type == "cuda"
               else platform.processor() or platform.machine(),
               torch=torch.__version__, threads=torch.get_num_threads(), seeds=seeds,
               quick=args.quick)
    text = markdown(rows, block, env)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lanczos_accuracy.md").write_text(text)
    (args.out / "lanczos_accuracy.json").write_text(
        json.dumps(dict(environment=env, accuracy=rows, block_versus_sequential=block),
                   indent=2))


if __name__ == "__main__":
    main()
