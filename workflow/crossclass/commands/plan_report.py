"""`crossclass plan-report --submissions JSON --storage JSON --out MD`: the plan's SLURM
submissions and storage as markdown (rule `plan` computes the rows while planning)."""

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


def submissions_markdown(rows: list[dict]) -> list[str]:
    """Jobs and submissions per rule (a row without `submissions` submits each job alone)."""
    total = sum(r.get("submissions", r["jobs"]) for r in rows)
    lines = ["## SLURM submissions (config/profiles/slurm)", "",
             f"Submissions: **{total:,}** for {sum(r['jobs'] for r in rows):,} jobs; every other "
             "rule is local.", "", "| step | jobs | submissions |", "| --- | ---: | ---: |"]
    lines += [f"| {r['step']} | {r['jobs']:,} | {r.get('submissions', r['jobs']):,} |"
              for r in rows]
    return lines


def storage_markdown(rows: list[dict]) -> list[str]:
    """Totals per store kind, then one line per (store, dataset, net)."""
    kinds: dict[str, list[int]] = {}
    for r in rows:
        count_bytes = kinds.setdefault(r["store"], [0, 0])
        count_bytes[0] += r["count"]
        count_bytes[1] += r["bytes"]
    total = sum(b for _, b in kinds.values())
    lines = ["## Storage", "", f"Total: **{human(total)}** ({total:,} bytes).", "",
             "| store | count | bytes |", "| --- | ---: | ---: |"]
    lines += [f"| {k} | {c:,} | {human(b)} |" for k, (c, b) in sorted(kinds.items())]
    lines += ["", "| store | dataset | net | count | bytes |", "| --- | --- | --- | ---: | ---: |"]
    lines += [f"| {r['store']} | {r['dataset']} | {r['net']} | {r['count']:,} | "
              f"{human(r['bytes'])} |" for r in rows]
    return lines


def run(args: argparse.Namespace) -> None:
    try:
        lines = ["# The plan", "", *submissions_markdown(json.loads(args.submissions)), "",
                 *storage_markdown(json.loads(args.storage))]
    except (ValueError, KeyError, TypeError) as err:
        raise UserError(f"--submissions / --storage are not plan rows ({err})") from err
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(line for line in lines if line.startswith(("Submissions", "Total"))))


def register(subparsers) -> None:
    parser = subparsers.add_parser("plan-report", help="SLURM submissions and storage of a plan",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", required=True,
                        help="JSON list of {step, jobs[, submissions]}")
    parser.add_argument("--storage", required=True,
                        help="JSON list of {store, dataset, net, count, bytes}")
    parser.add_argument("--out", required=True, help="markdown file to write")
    parser.set_defaults(func=run)
