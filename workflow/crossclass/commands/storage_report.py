"""`crossclass storage-report --rows JSON --out MD`: the storage table of a plan (rule
`storage` computes the rows from crossclass.sizes while planning)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crossclass.errors import UserError

UNITS = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def human(size: float) -> str:
    """Bytes as the largest unit that keeps the value >= 1 (1.5 GiB)."""
    for factor, unit in UNITS:
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size:.0f} B"


def render(rows: list[dict]) -> str:
    """The markdown report: totals per store kind, then one line per (store, dataset, net)."""
    kinds: dict[str, list[int]] = {}
    for r in rows:
        count_bytes = kinds.setdefault(r["store"], [0, 0])
        count_bytes[0] += r["count"]
        count_bytes[1] += r["bytes"]
    total = sum(b for _, b in kinds.values())
    lines = ["# Storage of the plan", "", f"Total: **{human(total)}** ({total:,} bytes).", "",
             "| store | count | bytes |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {c:,} | {human(b)} |" for k, (c, b) in sorted(kinds.items())]
    lines += ["", "| store | dataset | net | count | bytes |", "| --- | --- | --- | ---: | ---: |"]
    lines += [f"| {r['store']} | {r['dataset']} | {r['net']} | {r['count']:,} | "
              f"{human(r['bytes'])} |" for r in rows]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> None:
    try:
        rows = json.loads(args.rows)
        text = render(rows)
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"--rows is not a storage row list ({err})") from err
    Path(args.out).write_text(text)
    print(text.splitlines()[2])


def register(subparsers) -> None:
    parser = subparsers.add_parser("storage-report", help="the storage table of a plan",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True,
                        help="JSON list of {store, dataset, net, count, bytes}")
    parser.add_argument("--out", required=True, help="markdown file to write")
    parser.set_defaults(func=run)
