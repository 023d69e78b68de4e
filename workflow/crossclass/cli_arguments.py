"""Argument groups that several `crossclass` subcommands share, defined once.

  progress_argument(parser)     --progress / --no-progress (default: stderr is a terminal) and
                                --log-interval SECONDS (crossclass.progress)
  device_and_progress(parser)   --device (default auto) and the above
  estimator_arguments(parser)   the estimator flags (crossclass.estimator.SETTINGS) and the above
  network_arguments(parser)     a checkpoint and its data split
  load_network(args)            that network on this process's device and data shard
"""

from __future__ import annotations

import argparse
import sys

from crossclass import estimator, progress

DEVICE_HELP = ("auto (CUDA when present, else cpu), cpu, cuda, cuda:N or mps "
               "(crossclass.devices); default %(default)s")


def log_interval(text: str) -> float:
    seconds = float(text)
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text}")
    return seconds


def progress_argument(parser: argparse.ArgumentParser) -> None:
    """--progress / --no-progress: tqdm bars, by default when stderr is a terminal; and
    --log-interval: seconds between the progress lines every long loop logs to stderr, bars or
    not (crossclass.progress; the CLI applies it). The workflow passes both from config
    `progress` and `log_interval`."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction,
                        default=sys.stderr.isatty(),
                        help="tqdm progress bars (default: when stderr is a terminal)")
    parser.add_argument("--log-interval", type=log_interval, metavar="SECONDS",
                        default=progress.DEFAULT_LOG_INTERVAL,
                        help="seconds between the progress lines of each long loop on stderr "
                             "(0: every step; default %(default)g)")


def device_and_progress(parser: argparse.ArgumentParser) -> None:
    """--device NAME (crossclass.devices; default auto) and progress_argument."""
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    progress_argument(parser)


def estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """The estimator flags (crossclass.estimator.SETTINGS), the device and progress bars."""
    estimator.add_arguments(parser)
    device_and_progress(parser)


def network_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that name a checkpoint, its data split and batching (the stores are keyed by
    the checkpoint's dataset, net, n_per_class and epoch, and the split)."""
    g = parser.add_argument_group("network and data")
    g.add_argument("--checkpoint", required=True, help="<run>/checkpoints/epoch_EEEE.pt")
    g.add_argument("--subset", required=True, help="index store of `crossclass data subsample`")
    g.add_argument("--root", required=True, help="dataset folder")
    g.add_argument("--split", required=True, choices=["train", "test"])
    g.add_argument("--batch-size", type=int, required=True, help="examples per data batch")
    g.add_argument("--float64", action="store_true",
                   help="convert the model to float64 (default: its own dtype, float64 sums)")


def load_network(args: argparse.Namespace):
    """The network of network_arguments on this process's device and data shard (all of it
    without torchrun); progress bars and progress lines on rank 0 only."""
    from dataclasses import replace

    from crossclass.analysis import load_network as load
    from crossclass.curvature.distributed import init_from_env, is_main, shard

    device = init_from_env(args.device)
    args.progress = args.progress and is_main()
    if not is_main():
        progress.set_log_interval(None)
    net = load(args.checkpoint, args.subset, args.root, args.split,
               batch_size=args.batch_size, device=device, float64=args.float64)
    return replace(net, data=shard(net.data))
