"""`crossclass claims MODULE --inputs STORE... --out JSON [--set threshold=value ...]`.

MODULE names `crossclass.claims.MODULE`, whose `evaluate(inputs, **thresholds)` returns
(verdicts, eliminations); `crossclass claims-report` gathers every module's file
(docs/analysis.md, "Claims").
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from crossclass import claims
from crossclass.errors import UserError
from crossclass.options import parse_options

HELPERS = ("features", "report")


def available() -> list[str]:
    """Names of the claim modules (all but the shared helpers)."""
    return sorted(m.name for m in pkgutil.iter_modules(claims.__path__)
                  if m.name not in HELPERS)


def run(args: argparse.Namespace) -> None:
    from crossclass.claims.report import write_rows

    if args.module not in available():
        raise UserError(f"unknown claim module {args.module!r}; "
                        f"available: {', '.join(available())}")
    module = importlib.import_module(f"{claims.__name__}.{args.module}")
    verdicts, eliminations = module.evaluate(args.inputs, **parse_options(args.set))
    write_rows(args.module, verdicts, eliminations, args.out)
    failing = sum(v.verdict == "fails" for v in verdicts)
    print(f"{args.module}: {len(verdicts)} verdicts ({failing} failing), "
          f"{len(eliminations)} knockouts -> {args.out}")


def register(subparsers) -> None:
    parser = subparsers.add_parser("claims", help="judge one claim module from stores",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("module", help="claim module name, e.g. network")
    parser.add_argument("--inputs", nargs="*", default=[], help="stores it reads (none: no "
                        "experiment to judge, every claim not measured)")
    parser.add_argument("--out", required=True, help="verdict file (JSON)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a threshold of the module; repeatable")
    parser.set_defaults(func=run)
