"""`crossclass claims-report --inputs JSON... --claims MD --table1 MD`: the verdict files of
`crossclass claims` gathered into the claims report and Table 1 (docs/analysis.md, "Claims")."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> None:
    from crossclass.claims.report import write_reports

    write_reports(args.inputs, args.claims, args.table1)
    print(f"{len(args.inputs)} claim files -> {args.claims}, {args.table1}")


def register(subparsers) -> None:
    report = subparsers.add_parser("claims-report", help="claims report and Table 1",
                                   description="Gather verdict files into results/claims.md "
                                               "and results/table1.md.")
    report.add_argument("--inputs", nargs="+", required=True, help="verdict files (JSON)")
    report.add_argument("--claims", required=True, help="claims report (markdown)")
    report.add_argument("--table1", required=True, help="Table 1 (markdown)")
    report.set_defaults(func=run)
