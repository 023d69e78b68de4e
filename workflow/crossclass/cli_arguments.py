"""Argument groups that several `crossclass` subcommands share, defined once.

  progress_argument(parser)     --progress / --no-progress (default: stderr is a terminal)
  device_and_progress(parser)   --device (default auto) and the above
  estimator_arguments(parser)   the estimator flags (crossclass.estimator.SETTINGS) and the above
  network_arguments(parser)     a checkpoint, its data split and the store keys
  load_network(args)            that network on this process's device and data shard
  store_keys(net_keys, pairs)   the network's store keys overridden by --keys K=V
"""

from __future__ import annotations

import argparse
import sys

from crossclass import estimator
from crossclass.errors import UserError
from crossclass.options import parse_options

KEY_NAMES = ("dataset", "net", "n_per_class", "epoch")
DEVICE_HELP = ("auto (CUDA when present, else cpu), cpu, cuda, cuda:N or mps "
               "(crossclass.devices); default %(default)s")


def progress_argument(parser: argparse.ArgumentParser) -> None:
    """--progress / --no-progress: tqdm bars, by default when stderr is a terminal (the
    workflow passes one of them from config `progress`)."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction,
                        default=sys.stderr.isatty(),
                        help="tqdm progress bars (default: when stderr is a terminal)")


def device_and_progress(parser: argparse.ArgumentParser) -> None:
    """--device NAME (crossclass.devices; default auto) and progress_argument."""
    parser.add_argument("--device", default="auto", help=DEVICE_HELP)
    progress_argument(parser)


def estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """The estimator flags (crossclass.estimator.SETTINGS), the device and progress bars."""
    estimator.add_arguments(parser)
    device_and_progress(parser)


def network_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that name a checkpoint, its data split and batching, and the store keys."""
    g = parser.add_argument_group("network and data")
    g.add_argument("--checkpoint", required=True, help="<run>/checkpoints/epoch_EEEE.pt")
    g.add_argument("--subset", required=True, help="index store of `crossclass data subsample`")
    g.add_argument("--root", required=True, help="dataset folder")
    g.add_argument("--split", required=True, choices=["train", "test"])
    g.add_argument("--batch-size", type=int, required=True, help="examples per data batch")
    g.add_argument("--float64", action="store_true",
                   help="convert the model to float64 (default: its own dtype, float64 sums)")
    g.add_argument("--keys", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override the store keys read from the checkpoint: "
                        + ", ".join(KEY_NAMES))


def store_keys(net_keys: dict, pairs: list[str]) -> dict:
    """The network's keys overridden by --keys K=V (one of KEY_NAMES each)."""
    given = parse_options(pairs, "--keys")
    unknown = sorted(set(given) - set(KEY_NAMES))
    if unknown:
        raise UserError(f"--keys accepts {', '.join(KEY_NAMES)}; got {unknown[0]!r}")
    return {**net_keys, **given}


def load_network(args: argparse.Namespace):
    """The network of network_arguments on this process's device and data shard (all of it
    without torchrun); progress bars on rank 0 only. Checks --keys first."""
    from dataclasses import replace

    from crossclass.analysis import load_network as load
    from crossclass.curvature.distributed import init_from_env, is_main, shard

    store_keys({}, args.keys)
    device = init_from_env(args.device)
    args.progress = args.progress and is_main()
    net = load(args.checkpoint, args.subset, args.root, args.split,
               batch_size=args.batch_size, device=device, float64=args.float64)
    return replace(net, data=shard(net.data))
