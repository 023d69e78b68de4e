"""`crossclass spectra ...`: spectral density stores (Appendix C / D.2).

  spectra matrix --input STORE --output STORE [estimator flags]
      the density of a dense symmetric matrix stored by `crossclass verify matrix` (variables
      `Y` (row, col) and `eigenvalues` (eigen,)), with the exact eigenvalues copied beside
      the estimate as `exact_eigenvalues`.

Every estimator flag is a keyword of `crossclass.linalg.estimate_spectrum` and is recorded in the
store's attrs["params"].
"""

from __future__ import annotations

import argparse

from crossclass.errors import UserError


def deflate_rank(value: str) -> int | str:
    """`--deflate` accepts a rank or the letter C (the number of classes)."""
    if value == "C":
        return value
    try:
        rank = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or C, got {value!r}") from None
    if rank < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {rank}")
    return rank


def add_estimator_arguments(parser: argparse.ArgumentParser) -> None:
    """The estimate_spectrum keywords as flags (defaults: Appendix D.2)."""
    g = parser.add_argument_group("estimator (estimate_spectrum keywords)")
    g.add_argument("--method", choices=["lanczos", "exact"], default="lanczos")
    g.add_argument("--M", type=int, default=128, help="Lanczos iterations")
    g.add_argument("--n-vec", type=int, default=1, help="random start vectors")
    g.add_argument("--K", type=int, default=1024, help="density grid points")
    g.add_argument("--kappa", type=float, default=3.0, help="Gaussian width factor")
    g.add_argument("--M0", type=int, default=32, help="Lanczos steps for the spectral bounds")
    g.add_argument("--tau", type=float, default=0.05, help="margin of the bounds")
    g.add_argument("--log", action=argparse.BooleanOptionalAction, default=False,
                   help="estimate the density of log(|lambda| + eps)")
    g.add_argument("--eps", type=float, default=1e-5)
    g.add_argument("--deflate", type=deflate_rank, default=0,
                   help="rank deflated first (integer, or C = classes)")
    g.add_argument("--deflate-iters", type=int, default=128,
                   help="subspace iterations T (--deflate-method subspace)")
    g.add_argument("--deflate-method", choices=["krylov", "subspace"], default="krylov",
                   help="top-k eigensolver: block Lanczos, or the paper's SubspaceIteration")
    g.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False,
                        help="tqdm progress bars")


def estimator_kwargs(args: argparse.Namespace, num_classes: int | None = None) -> dict:
    """The estimate_spectrum keywords from parsed flags; `deflate=C` needs `num_classes`."""
    deflate = args.deflate
    if deflate == "C":
        if num_classes is None:
            raise UserError("--deflate C needs a classification operator; give an integer rank")
        deflate = num_classes
    return {"method": args.method, "M": args.M, "n_vec": args.n_vec, "K": args.K,
            "kappa": args.kappa, "M0": args.M0, "tau": args.tau, "log": args.log,
            "eps": args.eps, "deflate": deflate, "deflate_iters": args.deflate_iters,
            "deflate_method": args.deflate_method, "seed": args.seed}


def run_matrix(args: argparse.Namespace) -> None:
    import torch

    from crossclass.linalg.algebra import DenseOperator
    from crossclass.linalg.spectrum import estimate_spectrum
    from crossclass.stores import read_store, store_params, write_store

    source = read_store(args.input)
    if "Y" not in source or "eigenvalues" not in source:
        raise UserError(f"{args.input} lacks 'Y' or 'eigenvalues'; write it with "
                        "`crossclass verify matrix`")
    kwargs = estimator_kwargs(args)
    matrix = torch.as_tensor(source["Y"].values, dtype=torch.float64, device=args.device)
    estimate = estimate_spectrum(DenseOperator(matrix, symmetric=True), **kwargs,
                                 progress=args.progress)
    ds = estimate.to_dataset()
    if "exact_eigenvalues" not in ds:
        ds["exact_eigenvalues"] = ("eigen", source["eigenvalues"].values)
    write_store(ds, args.output, keys={"matrix": source["matrix"].item()},
                params={**store_params(source), **estimate.params})


def register(subparsers) -> None:
    parser = subparsers.add_parser("spectra", help="spectral density stores",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="spectra_command", metavar="KIND", required=True)
    matrix = sub.add_parser("matrix", help="density of a stored dense symmetric matrix")
    matrix.add_argument("--input", required=True, help="store of `crossclass verify matrix`")
    matrix.add_argument("--output", required=True, help="spectrum store to write")
    add_estimator_arguments(matrix)
    matrix.set_defaults(func=run_matrix)
