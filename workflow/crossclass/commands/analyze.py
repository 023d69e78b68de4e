"""`crossclass extract`, `operator-spectrum` and `mlr-spectrum` (docs/analysis.md).

  extract --checkpoint PT --subset STORE --root DIR --split S --batch-size B --device D
          [--float64] [--conv-layers] --out-means STORE --out-layers STORE
          --out-summary STORE [--keys K=V ...]
      extended-gradient means, per-layer statistics and a summary of one checkpoint and split.
  operator-spectrum --checkpoint PT --subset STORE --root DIR --split S --operator NAME...
          --batch-size B [--float64] [--means STORE] [--layers STORE] --out STORE...
          [--keys K=V ...] [estimator flags]
      the spectral density stores of named operators (hess, G, G_class, layer:<name>:KFAC ...)
      of one checkpoint, estimated in one process: model, data, means and layers read once.
  mlr-spectrum --D D --C C --t T --n-per-class N --seed S [--alpha A] --out STORE
      Theorem 8.1 against the sampled multinomial-logistic-regression FIM (section 8).
  mlr-study --D D --C C --t T --alpha A --n-values N... --repeats R --t-values T...
          --sweep-n N --seed S --out STORE
      G_n at the theorem's probabilities converging in n, and the trained MLR over an SNR sweep.
Under torchrun (WORLD_SIZE > 1) extract and operator-spectrum split the data over the processes
(crossclass.curvature.distributed; --device cuda is cuda:LOCAL_RANK) and rank 0 writes.
"""

from __future__ import annotations

import argparse

from crossclass import estimator
from crossclass.commands.spectra import add_estimator_arguments
from crossclass.errors import UserError
from crossclass.options import parse_options

KEY_NAMES = ("dataset", "net", "n_per_class", "epoch")


def _keys(net_keys: dict, pairs: list[str]) -> dict:
    """The network's keys overridden by --keys K=V (dataset, net, n_per_class, epoch)."""
    given = parse_options(pairs)
    unknown = sorted(set(given) - set(KEY_NAMES))
    if unknown:
        raise UserError(f"--keys accepts {', '.join(KEY_NAMES)}; got {unknown[0]!r}")
    return {**net_keys, **given}


def _network_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("network and data")
    g.add_argument("--checkpoint", required=True, help="<run>/checkpoints/epoch_EEEE.pt")
    g.add_argument("--subset", required=True, help="index store of `crossclass data subsample`")
    g.add_argument("--root", required=True, help="dataset folder")
    g.add_argument("--split", required=True, choices=["train", "test"])
    g.add_argument("--batch-size", type=int, required=True, help="examples per data batch")
    g.add_argument("--float64", action="store_true",
                   help="convert the model to float64 (default: its own dtype, float64 sums)")
    g.add_argument("--keys", nargs="*", default=[], metavar="KEY=VALUE",
                   help="override the store keys read from the checkpoint: "
                        "dataset, net, n_per_class, epoch")


def _load(args: argparse.Namespace):
    """The network on this process's device and data shard (all of it without torchrun);
    progress bars on rank 0 only."""
    from dataclasses import replace

    from crossclass.analysis import load_network
    from crossclass.curvature.distributed import init_from_env, is_main, shard

    device = init_from_env(args.device)
    args.progress = args.progress and is_main()
    net = load_network(args.checkpoint, args.subset, args.root, args.split,
                       batch_size=args.batch_size, device=device, float64=args.float64)
    return replace(net, data=shard(net.data))


def run_extract(args: argparse.Namespace) -> None:
    from crossclass.analysis import extract

    _keys({}, args.keys)
    net = _load(args)
    extract(net, out_means=args.out_means, out_layers=args.out_layers,
            out_summary=args.out_summary, keys=_keys(net.keys, args.keys),
            conv=args.conv_layers, progress=args.progress)


def run_operator_spectrum(args: argparse.Namespace) -> None:
    from crossclass.analysis import operator_spectra, parse_operator
    from crossclass.curvature.distributed import is_main
    from crossclass.stores import write_store

    if len(args.operator) != len(args.out):
        raise UserError(f"give one --out per --operator: {len(args.operator)} operators, "
                        f"{len(args.out)} outputs")
    for name in args.operator:
        parse_operator(name)
    _keys({}, args.keys)
    net = _load(args)
    kwargs = estimator.from_arguments(args, net.num_classes)
    keys = _keys(net.keys, args.keys)
    outs = dict(zip(args.operator, args.out, strict=True))
    for name, ds, params in operator_spectra(net, args.operator, estimator=kwargs,
                                             means=args.means, layers=args.layers,
                                             progress=args.progress):
        if is_main():
            write_store(ds, outs[name], keys={**keys, "operator": name}, params=params)


def run_mlr_spectrum(args: argparse.Namespace) -> None:
    from crossclass.analysis import mlr_spectrum_dataset
    from crossclass.stores import write_store

    ds, params = mlr_spectrum_dataset(args.D, args.C, t=args.t, n_per_class=args.n_per_class,
                                      seed=args.seed, alpha=args.alpha,
                                      weight_decay=args.weight_decay, max_iter=args.max_iter,
                                      progress=args.progress)
    write_store(ds, args.out, keys={"D": args.D, "C": args.C, "n_per_class": args.n_per_class,
                                    "seed": args.seed}, params=params)


def run_mlr_study(args: argparse.Namespace) -> None:
    from crossclass.analysis.mlr_study import mlr_study_dataset
    from crossclass.stores import write_store

    ds, params = mlr_study_dataset(args.D, args.C, t=args.t, alpha=args.alpha,
                                   n_values=args.n_values, repeats=args.repeats,
                                   t_values=args.t_values, sweep_n=args.sweep_n, seed=args.seed,
                                   weight_decay=args.weight_decay, max_iter=args.max_iter)
    write_store(ds, args.out, keys={"D": args.D, "C": args.C, "seed": args.seed}, params=params)


def register(subparsers) -> None:
    ex = subparsers.add_parser(
        "extract", help="means, layer statistics and summary of one checkpoint and split",
        description="Extended-gradient means (p x C x C), per-nn.Linear section-7 statistics "
                    "and loss/error/||grad|| of one checkpoint on one split, as three stores.")
    _network_arguments(ex)
    ex.add_argument("--device", required=True, help="torch device, e.g. cpu or cuda")
    ex.add_argument("--out-means", required=True, help="means store to write")
    ex.add_argument("--out-layers", required=True, help="layers store to write")
    ex.add_argument("--out-summary", required=True, help="summary store to write")
    ex.add_argument("--conv-layers", action="store_true",
                    help="also analyse every nn.Conv2d layer (KFC view, docs/layerwise.md)")
    ex.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False,
                    help="tqdm progress bars")
    ex.set_defaults(func=run_extract)

    op = subparsers.add_parser(
        "operator-spectrum", help="spectral density of one named network operator",
        description="Spectral density store of a named operator: hess, G, E, hess-minus-G, "
                    "hess-minus-E, G_class, G_cross, G_within, G_same, G-minus-<part>, "
                    "G-project-<part> (class, cross, same), layer:<name>:<kind> with kind in "
                    "G, G_<part>, KFAC, CFAC, H, H_class, H_within, Delta, Delta_class, "
                    "Delta_cross, Delta_within, Delta_same.")
    _network_arguments(op)
    op.add_argument("--operator", required=True, nargs="+",
                    help="operator names (see description), estimated in one process")
    op.add_argument("--means", default=None, help="means store of `extract` (reused)")
    op.add_argument("--layers", default=None, help="layers store of `extract` (reused)")
    op.add_argument("--out", required=True, nargs="+",
                    help="spectrum stores to write, one per --operator, in order")
    add_estimator_arguments(op)
    op.set_defaults(func=run_operator_spectrum)

    ml = subparsers.add_parser(
        "mlr-spectrum", help="Theorem 8.1 vs the sampled MLR FIM spectrum",
        description="Eigenvalues of the FIM of multinomial logistic regression on CCM(D, C) "
                    "samples and the closed form of Theorem 8.1.")
    ml.add_argument("--D", type=int, required=True, help="input dimension (>= C)")
    ml.add_argument("--C", type=int, required=True, help="classes")
    ml.add_argument("--t", type=float, required=True, help="signal-to-noise ratio (s = t^2)")
    ml.add_argument("--n-per-class", type=int, required=True, help="samples per class")
    ml.add_argument("--seed", type=int, required=True, help="sampling seed")
    ml.add_argument("--alpha", type=float, default=None,
                    help="misclassification rate of the symmetric probabilities (Def. 8.2); "
                         "omitted: train the MLR and measure alpha")
    ml.add_argument("--weight-decay", type=float, default=0.0, help="MLR training weight decay")
    ml.add_argument("--max-iter", type=int, default=500, help="L-BFGS iterations")
    ml.add_argument("--out", required=True, help="MLR store to write")
    ml.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False,
                    help="tqdm progress bars")
    ml.set_defaults(func=run_mlr_spectrum)

    st = subparsers.add_parser(
        "mlr-study", help="Theorem 8.1: convergence in n and the SNR sweep (section 8)",
        description="(a) ||G_n - E G|| and eigenvalue errors of the sampled FIM at the "
                    "theorem's symmetric probabilities for each n; (c) trained MLRs over an "
                    "SNR sweep: misclassification and outlier / mini-bulk / bulk separations.")
    st.add_argument("--D", type=int, required=True, help="input dimension (>= C)")
    st.add_argument("--C", type=int, required=True, help="classes")
    st.add_argument("--t", type=float, required=True, help="SNR of the convergence study")
    st.add_argument("--alpha", type=float, required=True,
                    help="misclassification rate of the symmetric probabilities (Def. 8.2)")
    st.add_argument("--n-values", type=int, nargs="+", required=True,
                    help="samples per class of the convergence study")
    st.add_argument("--repeats", type=int, required=True, help="samples per n")
    st.add_argument("--t-values", type=float, nargs="+", required=True, help="the SNR sweep")
    st.add_argument("--sweep-n", type=int, required=True, help="samples per class per t")
    st.add_argument("--seed", type=int, required=True, help="sampling seed")
    st.add_argument("--weight-decay", type=float, default=0.0, help="MLR training weight decay")
    st.add_argument("--max-iter", type=int, default=500, help="L-BFGS iterations")
    st.add_argument("--out", required=True, help="study store to write")
    st.set_defaults(func=run_mlr_study)
