"""Overhead of crossclass's training loop over a bare PyTorch loop, same model and data.

Times (a) one epoch of `crossclass.training.train_epoch` against a bare SGD epoch (same
shuffling, batches and optimiser) and (b) whole `fit` runs (per-epoch running metrics, test
evaluation, rolling + kept checkpoints, metrics store) against the bare loop over the same
epochs. Medians over --repeats alternating trials. The ratio row per (device, net, width, n)
is written into benchmarks/results/train_overhead.md (other rows are kept). Target: (a) <= 1.05.

    python benchmarks/train_overhead.py --net resnet18 --width 0.25 --n 2048 --device auto
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from crossclass.data import ArraySplits
from crossclass.devices import resolve_device
from crossclass.nets import mlp, resnet18, vgg11
from crossclass.training import TrainConfig, fit, make_optimizer, train_epoch

NETS = {"mlp": mlp, "resnet18": resnet18, "vgg11": vgg11}
RESULTS = Path(__file__).parent / "results" / "train_overhead.md"
HEADER = ("| device | net | width | n | epoch: ours / bare (s) | ratio | "
          "fit per epoch: ours / bare (s) | ratio |\n|---|---|---|---|---|---|---|---|\n")


def bare_epoch(model, opt, x, y, batch_size, generator):
    """The reference: a plain shuffled mini-batch SGD epoch."""
    model.train()
    perm = torch.randperm(x.shape[0], generator=generator).to(x.device)
    for start in range(0, x.shape[0], batch_size):
        idx = perm[start:start + batch_size]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def timed(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=sorted(NETS), default="resnet18")
    parser.add_argument("--width", type=float, default=0.25, help="width multiplier")
    parser.add_argument("--n", type=int, default=2048, help="training examples (3x32x32)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per whole-fit trial")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()

    device = resolve_device(args.device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.n, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (args.n,), generator=gen)
    splits = ArraySplits("random", x, y, x[:256], y[:256], 10)
    build = lambda: NETS[args.net]((3, 32, 32), 10, width=args.width)  # noqa: E731
    config = TrainConfig(lr=0.01, epochs=args.epochs, device=str(device), progress=False)
    model = build().to(device)
    opt, _ = make_optimizer(model, config)
    xd, yd = x.to(device), y.to(device)

    def ours():
        loss, errors, _ = train_epoch(model, opt, xd, yd, config.batch_size, gen)
        loss.item(), errors.item()  # the per-epoch metric read-out fit does

    def bare():
        bare_epoch(model, opt, xd, yd, config.batch_size, gen)

    def ours_fit():
        with tempfile.TemporaryDirectory() as out:
            fit(build, splits, config, out)

    def bare_fit():
        m = build().to(device)
        o, s = make_optimizer(m, config)
        for _ in range(args.epochs):
            bare_epoch(m, o, xd, yd, config.batch_size, gen)
            s.step()

    for fn in (ours, bare, ours_fit, bare_fit):  # warm-up (kernels, lazy imports)
        timed(fn, device)
    epoch = {"ours": [], "bare": []}
    whole = {"ours": [], "bare": []}
    for trial in range(args.repeats):  # alternate which goes first
        for key in ("ours", "bare")[:: 1 if trial % 2 == 0 else -1]:
            epoch[key].append(timed(ours if key == "ours" else bare, device))
            whole[key].append(timed(ours_fit if key == "ours" else bare_fit, device) / args.epochs)
    e_ours, e_bare = (statistics.median(epoch[k]) for k in ("ours", "bare"))
    f_ours, f_bare = (statistics.median(whole[k]) for k in ("ours", "bare"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    row = (f"| {name} | {args.net} | {args.width:g} | {args.n} | {e_ours:.4f} / {e_bare:.4f} | "
           f"{e_ours / e_bare:.3f} | {f_ours:.4f} / {f_bare:.4f} | {f_ours / f_bare:.3f} |")
    print(HEADER + row)
    if args.write:
        key = row.split("|")[1:5]
        rows = []
        if RESULTS.exists():
            rows = [r for r in RESULTS.read_text().splitlines()
                    if r.startswith("| ") and not r.startswith("| device")
                    and r.split("|")[1:5] != key]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            "# Training-loop overhead (benchmarks/train_overhead.py)\n\n"
            "epoch: `train_epoch` vs a bare PyTorch epoch (target ratio <= 1.05). fit per epoch: "
            "whole `fit` runs (metrics, test pass on 256 examples, checkpoints every epoch, "
            "metrics store) vs the bare loop, per epoch. Medians of alternating trials; "
            f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads.\n\n"
            + HEADER + "\n".join([*rows, row]) + "\n")


if __name__ == "__main__":
    main()
