"""The `crossclass` console command.

Each module in `crossclass.commands` contributes one subcommand by defining
`register(subparsers)`; the rules in `rules/*.smk` call these subcommands.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import pkgutil
import sys

from crossclass import __version__, commands, progress
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


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The parsed arguments. An unknown option is named before any missing subcommand or
    argument (argparse alone reports the missing ones first): a first, silent pass with
    nothing required looks for unknown options only."""
    parsers = [parser]
    for p in parsers:  # every level of subcommands
        parsers += [sub for a in p._actions if isinstance(a, argparse._SubParsersAction)
                    for sub in a.choices.values()]
    required = [x for p in parsers for x in (*p._actions, *p._mutually_exclusive_groups)
                if x.required]
    for x in required:
        x.required = False
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            _, unknown = parser.parse_known_args(argv)
    except SystemExit:  # another usage error: reported below, with everything required again
        unknown = []
    finally:
        for x in required:
            x.required = True
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return parser.parse_args(argv)


def set_threads(threads: int) -> None:
    """Cap torch's intra-op threads, so that concurrent jobs do not oversubscribe the CPU."""
    if threads < 1:
        raise SystemExit(f"crossclass: error: --threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    if args.threads is not None:
        set_threads(args.threads)
    progress.log_to_stderr()  # the job log: a rule redirects stderr into it
    previous = progress.set_log_interval(
        getattr(args, "log_interval", progress.DEFAULT_LOG_INTERVAL))
    try:
        args.func(args)
    except UserError as err:
        print(f"crossclass {args.command}: error: {err}", file=sys.stderr)
        return 2
    finally:
        progress.set_log_interval(previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
