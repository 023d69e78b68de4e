"""The `crossclass` console command.

Each module in `crossclass.commands` contributes one subcommand by defining
`register(subparsers)`; the rules in `rules/*.smk` call these subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from crossclass import __version__, commands
from crossclass.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crossclass",
        description="Class / cross-class spectra of deep networks (Papyan 2020). "
        "Each subcommand is one step of the Snakemake workflow; run "
        "`crossclass SUBCOMMAND --help` for its arguments.",
    )
    parser.add_argument("--version", action="version", version=f"crossclass {__version__}")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch intra-op threads (the workflow passes each rule's threads)")
    subparsers = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def set_threads(threads: int) -> None:
    """Cap torch's intra-op threads, so that concurrent jobs do not oversubscribe the CPU."""
    if threads < 1:
        raise SystemExit(f"crossclass: error: --threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        set_threads(args.threads)
    try:
        args.func(args)
    except UserError as err:
        print(f"crossclass {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
