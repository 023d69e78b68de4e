"""`crossclass verify matrix NAME [--set key=value ...] --out STORE`.

Builds a Figure-15 verification matrix (crossclass.verification.NAME_matrix, float64) and
stores it with its exact eigenvalues from a dense eigendecomposition:
  Y (row, col): the symmetric matrix;  eigenvalues (eigen,): eigvalsh(Y), ascending.
The builder options (seed, sizes) are recorded in attrs["params"].
"""

from __future__ import annotations

import argparse
import inspect

from crossclass.errors import UserError
from crossclass.options import parse_options

MATRICES = ("fig15a", "fig15b")


def run_matrix(args: argparse.Namespace) -> None:
    import torch
    import xarray as xr

    from crossclass import verification
    from crossclass.stores import write_store

    builder = getattr(verification, f"{args.name}_matrix")
    options = parse_options(args.set)
    allowed = [p for p in inspect.signature(builder).parameters if p not in ("dtype", "device")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise UserError(f"matrix {args.name} has no option {unknown[0]!r}; "
                        f"options: {', '.join(allowed)}")
    Y = builder(**options, dtype=torch.float64)
    eigenvalues = torch.linalg.eigvalsh(Y)
    ds = xr.Dataset({"Y": (("row", "col"), Y.numpy()),
                     "eigenvalues": ("eigen", eigenvalues.numpy())})
    write_store(ds, args.out, keys={"matrix": args.name},
                params={"matrix": args.name, **options}, chunks={"row": 500, "col": 500})
    print(f"{args.name}: {tuple(Y.shape)}, eigenvalues in [{eigenvalues[0]:.4g}, "
          f"{eigenvalues[-1]:.4g}] -> {args.out}")


def register(subparsers) -> None:
    parser = subparsers.add_parser("verify", help="synthetic matrices that verify the estimators",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verify_command", metavar="KIND", required=True)
    matrix = sub.add_parser("matrix", help="a Figure-15 matrix and its exact eigenvalues")
    matrix.add_argument("name", choices=MATRICES)
    matrix.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="builder option (seed, p, n), repeatable")
    matrix.add_argument("--out", required=True, help="store to write")
    matrix.set_defaults(func=run_matrix)
