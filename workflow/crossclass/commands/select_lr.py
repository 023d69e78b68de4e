"""`crossclass select-lr`: the learning rate of a sweep with the best final test error."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> None:
    from crossclass.training.selection import final_metrics, select_lr, write_choice

    runs = [final_metrics(s) for s in args.stores]
    choice = select_lr(runs)
    write_choice(choice, runs, args.out)
    print(f"selected lr={choice['lr']:.6g} (test error {choice['test_error']:.4f}) "
          f"from {len(runs)} runs -> {args.out}")


def register(subparsers) -> None:
    select = subparsers.add_parser(
        "select-lr", help="choose the sweep's learning rate",
        description="Read the metrics stores of a learning-rate sweep and pick the rate with the "
        "lowest test error at the last epoch (ties: lower test loss, then lower rate); write "
        "it with its metrics and every run's as JSON.")
    select.add_argument("--stores", nargs="+", required=True, metavar="STORE",
                        help="metrics.zarr stores of the sweep's runs")
    select.add_argument("--out", required=True, metavar="JSON", help="choice file to write")
    select.set_defaults(func=run)
