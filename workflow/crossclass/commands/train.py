"""`crossclass train`: one SGD run of a network plugin on a balanced subset (Appendix D.1)."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from crossclass import plugins
from crossclass.cli_arguments import device_and_progress
from crossclass.errors import UserError
from crossclass.options import parse_options


def run(args: argparse.Namespace) -> None:
    from crossclass.data import load_subset
    from crossclass.stores import read_store, store_params
    from crossclass.training.config import TrainConfig, checkpoint_epochs
    from crossclass.training.inputs import splits_for
    from crossclass.training.loop import fit

    subset = store_params(read_store(args.subset))
    net = plugins.load(plugins.NETWORKS, args.net)
    splits = splits_for(net, load_subset(args.subset, args.root))
    options = parse_options(args.net_option, "--set")
    in_shape = splits.input_shape
    try:
        inspect.signature(net).bind(in_shape, splits.num_classes, **options)
    except TypeError as err:
        raise UserError(f"network {args.net!r}: bad options {options} ({err})") from err
    keep = () if args.metrics_only else checkpoint_epochs(args.checkpoints, args.epochs)
    lr, sweep_run = (args.lr, None) if args.choice is None else chosen_rate(args.choice)
    config = TrainConfig(lr=lr, epochs=args.epochs, batch_size=args.batch_size,
                         momentum=args.momentum, weight_decay=args.weight_decay,
                         milestones=tuple(args.milestones), gamma=args.gamma, seed=args.seed,
                         keep=keep, eval_every=args.eval_every,
                         resume_interval=args.resume_interval, device=args.device,
                         progress=args.progress, metrics_only=args.metrics_only)
    meta = {"net": args.net, "net_options": options, "in_shape": list(in_shape),
            "num_classes": splits.num_classes, "dataset": subset["dataset"],
            "n_per_class": subset["n_per_class"]}
    keys = {"dataset": subset["dataset"], "n_per_class": subset["n_per_class"], "net": args.net,
            "seed": args.seed, "lr": lr}
    if sweep_run is not None and reuse_run(sweep_run, Path(args.out), config):
        print(f"lr={lr}: the sweep's run {sweep_run} kept every checkpoint; linked -> {args.out}")
        return
    result = fit(lambda: net(in_shape, splits.num_classes, **options), splits, config,
                 Path(args.out), meta=meta, keys=keys, resume_dir=args.resume_dir)
    last = result.history.isel(epoch=-1)
    print(f"{args.net} on {subset['dataset']} (n={subset['n_per_class']}), lr={lr}: "
          f"test error {float(last.test_error):.4f}, train error {float(last.train_error):.4f} "
          f"-> {args.out}")


def chosen_rate(choice: Path) -> tuple[float, Path]:
    """(rate, run folder) that `crossclass select-lr` chose in the JSON file `choice`."""
    import json

    try:
        selected = json.loads(Path(choice).read_text())["selected"]
        return float(selected["lr"]), Path(selected["store"]).parent
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{choice} is not a select-lr choice file ({err}); rebuild it with "
                        "`snakemake --forcerun select_lr`") from err


def reuse_run(run: Path, out: Path, config) -> bool:
    """Hard-link (else copy) the sweep's `run` into `out` when it kept every checkpoint that
    `config` keeps (a sweep trained with them); False when the rate must be retrained (a
    metrics-only sweep). A damaged checkpoint of the sweep stops with the command that redoes
    its batch: linking would share the damage, and retraining around it would hide it."""
    from crossclass.run_layout import checkpoint_advice
    from crossclass.training.checkpoint import load_checkpoint
    from crossclass.training.loop import publish

    kept = [run / "checkpoints" / f"epoch_{e:04d}.pt" for e in config.keep]
    if not (run / "metrics.zarr").is_dir() or not all(f.is_file() for f in kept):
        return False
    for path in kept:
        load_checkpoint(path, advice=checkpoint_advice(path))
    publish([f for f in run.rglob("*") if f.is_file()], run, out)
    return True


PAPER = "default and paper value: %(default)s"


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train one network (SGD, Appendix D.1)",
        description="Train a network plugin on a balanced subset with SGD (momentum, weight "
        "decay, learning rate divided by 1/GAMMA at each MILESTONE fraction of the epochs). "
        "Writes OUT/checkpoints/epoch_EEEE.pt for the kept epochs (the last one always), "
        "OUT/last.pt (the final state) and OUT/metrics.zarr. While training, the checkpoints "
        "and a rolling last.pt go to RESUME_DIR (default OUT); if RESUME_DIR/last.pt exists the "
        "run resumes from it and ends bitwise identical (on CPU) to an uninterrupted run; a "
        "damaged checkpoint is an error, never a silent restart. Defaults are the paper's.")
    train.add_argument("--subset", required=True, metavar="STORE",
                       help="index store written by `crossclass data subsample`")
    train.add_argument("--root", required=True, metavar="DIR", help="folder of the dataset files")
    train.add_argument("--net", required=True, metavar="NAME",
                       help="network plugin (entry-point group crossclass.networks): vgg11, "
                       "resnet18, mlp, or any installed plugin")
    train.add_argument("--set", dest="net_option", action="append", default=[], metavar="KEY=VALUE",
                       help="network option, repeatable, VALUE read as JSON (e.g. width=0.25, "
                       "depth=8, hidden=2048)")
    rate = train.add_mutually_exclusive_group(required=True)
    rate.add_argument("--lr", type=float, help="initial learning rate")
    rate.add_argument("--choice", type=Path, metavar="JSON",
                      help="the rate `crossclass select-lr` chose (its choice file): linked from "
                      "the sweep's run when that kept the checkpoints, else retrained")
    train.add_argument("--epochs", type=int, required=True,
                       help="epochs (paper: 200 MNIST/FashionMNIST, 350 CIFAR and every MLP)")
    train.add_argument("--seed", type=int, required=True,
                       help="seed of the initial weights and the shuffling order")
    train.add_argument("--batch-size", type=int, default=128, help=PAPER)
    train.add_argument("--momentum", type=float, default=0.9, help=PAPER)
    train.add_argument("--weight-decay", type=float, default=5e-4, help=PAPER)
    train.add_argument("--milestones", type=float, nargs="+", default=[1 / 3, 2 / 3],
                       metavar="FRACTION",
                       help="fractions of the epochs where the rate drops; " + PAPER)
    train.add_argument("--gamma", type=float, default=0.1,
                       help="rate multiplier at a milestone; " + PAPER)
    kept = train.add_mutually_exclusive_group(required=True)
    kept.add_argument("--checkpoints", type=int, nargs="+", metavar="EPOCH",
                      help="epochs whose checkpoints are kept (0 = initialisation)")
    kept.add_argument("--metrics-only", action="store_true",
                      help="keep no checkpoint, only metrics.zarr (a sweep run; training is "
                      "deterministic, so --choice retrains the selected rate)")
    train.add_argument("--eval-every", type=int, default=1,
                       help="test metrics every this many epochs (always at the last); "
                       "default %(default)s")
    train.add_argument("--resume-interval", type=float, default=60.0, metavar="SECONDS",
                       help="seconds between rolling resume checkpoints (last.pt); 0 = every "
                       "epoch; default %(default)s")
    train.add_argument("--resume-dir", type=Path, metavar="DIR",
                       help="folder of the resume state while training (default OUT); a "
                       "separate one survives the deletion of an incomplete OUT, and is "
                       "published into OUT and removed when the run completes")
    device_and_progress(train)
    train.add_argument("--out", required=True, metavar="DIR", help="run folder")
    train.set_defaults(func=run)
