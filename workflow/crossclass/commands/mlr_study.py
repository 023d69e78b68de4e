"""`crossclass mlr-study`: G_n at Theorem 8.1's probabilities converging in n, and the trained
MLR over an SNR sweep (section 8).

  mlr-study --D D --C C --t T --alpha A --n-values N... --repeats R --t-values T...
          --sweep-n N --seed S --out STORE
"""

from __future__ import annotations

import argparse

from crossclass.commands.mlr_spectrum import mlr_arguments


def run(args: argparse.Namespace) -> None:
    from crossclass.analysis.mlr_study import mlr_study_dataset
    from crossclass.stores import write_store

    ds, params = mlr_study_dataset(args.D, args.C, t=args.t, alpha=args.alpha,
                                   n_values=args.n_values, repeats=args.repeats,
                                   t_values=args.t_values, sweep_n=args.sweep_n, seed=args.seed,
                                   weight_decay=args.weight_decay, max_iter=args.max_iter)
    write_store(ds, args.out, keys={"D": args.D, "C": args.C, "seed": args.seed}, params=params)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mlr-study", help="Theorem 8.1: convergence in n and the SNR sweep (section 8)",
        description="(a) ||G_n - E G|| and eigenvalue errors of the sampled FIM at the "
                    "theorem's symmetric probabilities for each n; (c) trained MLRs over an "
                    "SNR sweep: misclassification and outlier / mini-bulk / bulk separations.")
    mlr_arguments(parser)
    parser.add_argument("--t", type=float, required=True, help="SNR of the convergence study")
    parser.add_argument("--alpha", type=float, required=True,
                        help="misclassification rate of the symmetric probabilities (Def. 8.2)")
    parser.add_argument("--n-values", type=int, nargs="+", required=True,
                        help="samples per class of the convergence study")
    parser.add_argument("--repeats", type=int, required=True, help="samples per n")
    parser.add_argument("--t-values", type=float, nargs="+", required=True,
                        help="the SNR sweep")
    parser.add_argument("--sweep-n", type=int, required=True, help="samples per class per t")
    parser.add_argument("--out", required=True, help="study store to write")
    parser.set_defaults(func=run)
