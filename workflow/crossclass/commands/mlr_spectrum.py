"""`crossclass mlr-spectrum`: Theorem 8.1 against the sampled FIM of multinomial logistic
regression on CCM(D, C) samples (section 8).

  mlr-spectrum --D D --C C --t T --n-per-class N --seed S [--alpha A] --out STORE
"""

from __future__ import annotations

import argparse

from crossclass.cli_arguments import progress_argument


def run(args: argparse.Namespace) -> None:
    from crossclass.analysis import mlr_spectrum_dataset
    from crossclass.stores import write_store

    ds, params = mlr_spectrum_dataset(args.D, args.C, t=args.t, n_per_class=args.n_per_class,
                                      seed=args.seed, alpha=args.alpha,
                                      weight_decay=args.weight_decay, max_iter=args.max_iter,
                                      progress=args.progress)
    write_store(ds, args.out, keys={"D": args.D, "C": args.C, "n_per_class": args.n_per_class,
                                    "seed": args.seed}, params=params)


def mlr_arguments(parser: argparse.ArgumentParser) -> None:
    """--D, --C, --seed, --weight-decay and --max-iter of the MLR commands."""
    parser.add_argument("--D", type=int, required=True, help="input dimension (>= C)")
    parser.add_argument("--C", type=int, required=True, help="classes")
    parser.add_argument("--seed", type=int, required=True, help="sampling seed")
    parser.add_argument("--weight-decay", type=float, default=0.0,
                        help="MLR training weight decay")
    parser.add_argument("--max-iter", type=int, default=500, help="L-BFGS iterations")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "mlr-spectrum", help="Theorem 8.1 vs the sampled MLR FIM spectrum",
        description="Eigenvalues of the FIM of multinomial logistic regression on CCM(D, C) "
                    "samples and the closed form of Theorem 8.1.")
    mlr_arguments(parser)
    parser.add_argument("--t", type=float, required=True, help="signal-to-noise ratio (s = t^2)")
    parser.add_argument("--n-per-class", type=int, required=True, help="samples per class")
    parser.add_argument("--alpha", type=float, default=None,
                        help="misclassification rate of the symmetric probabilities (Def. 8.2); "
                             "omitted: train the MLR and measure alpha")
    parser.add_argument("--out", required=True, help="MLR store to write")
    progress_argument(parser)
    parser.set_defaults(func=run)
