"""`crossclass spectra ...`: spectral density stores (Appendix C / D.2).

  spectra matrix --input STORE --out STORE [estimator flags]
      the density of a dense symmetric matrix stored by `crossclass verify matrix` (variables
      `Y` (row, col) and `eigenvalues` (eigen,)), with the exact eigenvalues copied beside
      the estimate as `exact_eigenvalues`.

Every estimator flag is a keyword of `crossclass.linalg.estimate_spectrum` and is recorded in the
store's attrs["params"].
"""

from __future__ import annotations

import argparse

from crossclass import estimator
from crossclass.cli_arguments import estimator_arguments


def run_matrix(args: argparse.Namespace) -> None:
    import torch

    from crossclass.devices import resolve_device
    from crossclass.linalg.algebra import DenseOperator
    from crossclass.linalg.spectrum import estimate_spectrum
    from crossclass.stores import read_store, store_params, write_store

    source = read_store(args.input, ("Y", "eigenvalues"))
    kwargs = estimator.from_arguments(args)
    matrix = torch.as_tensor(source["Y"].values, dtype=torch.float64,
                             device=resolve_device(args.device))
    estimate = estimate_spectrum(DenseOperator(matrix, symmetric=True), **kwargs,
                                 progress=args.progress)
    ds = estimate.to_dataset()
    if "exact_eigenvalues" not in ds:
        ds["exact_eigenvalues"] = ("eigen", source["eigenvalues"].values)
    write_store(ds, args.out, keys={"matrix": source["matrix"].item()},
                params={**store_params(source), **estimate.params})


def register(subparsers) -> None:
    parser = subparsers.add_parser("spectra", help="spectral density stores",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="spectra_command", metavar="KIND", required=True)
    matrix = sub.add_parser("matrix", help="density of a stored dense symmetric matrix")
    matrix.add_argument("--input", required=True, help="store of `crossclass verify matrix`")
    matrix.add_argument("--out", required=True, help="spectrum store to write")
    estimator_arguments(matrix)
    matrix.set_defaults(func=run_matrix)
