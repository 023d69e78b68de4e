"""`crossclass figure NAME --inputs STORE... --out PDF [--set key=value ...]`.

Draws the figure of module crossclass.figures.NAME (its `draw(inputs, output, **options)`) and
writes the PDF plus a PNG beside it. `--set` values are parsed as YAML scalars (numbers, bools).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from typing import TYPE_CHECKING

from crossclass import figures
from crossclass.errors import UserError
from crossclass.options import parse_options

if TYPE_CHECKING:
    from matplotlib.figure import Figure


HELPERS = ("plotting", "layergrid")  # modules of shared drawing code, no figure of their own


def available() -> list[str]:
    """Names of the figure modules (all but the shared helpers)."""
    return sorted(m.name for m in pkgutil.iter_modules(figures.__path__)
                  if m.name not in HELPERS)



def draw_figure(name: str, inputs: list[str], out: str, options: dict) -> Figure:
    """Draw figure `name` from the store paths `inputs` into the PDF `out` (and its PNG) with
    the draw() options `options`; returns the saved Figure."""
    if name not in available():
        raise UserError(f"unknown figure {name!r}; available: {', '.join(available())}")
    if not str(out).endswith(".pdf"):
        raise UserError(f"--out must be a .pdf path, got {str(out)!r}")
    module = importlib.import_module(f"{figures.__name__}.{name}")
    allowed = [p.name for p in inspect.signature(module.draw).parameters.values()
               if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise UserError(f"figure {name} has no option {unknown[0]!r}; "
                        f"options: {', '.join(allowed) or 'none'}")
    return module.draw(inputs, out, **options)


def run(args: argparse.Namespace) -> None:
    draw_figure(args.name, args.inputs, args.out, parse_options(args.set))


def register(subparsers) -> None:
    parser = subparsers.add_parser("figure", help="draw one figure from stores",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("name", help="figure module name, e.g. fig15")
    parser.add_argument("--inputs", nargs="+", required=True, help="input stores, in order")
    parser.add_argument("--out", required=True, help="output PDF (a PNG goes beside it)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a draw() option; repeatable")
    parser.set_defaults(func=run)
