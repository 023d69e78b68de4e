"""`crossclass data fetch` and `crossclass data subsample`: the workflow's data steps."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from crossclass import plugins
from crossclass.errors import UserError
from crossclass.options import parse_options
from crossclass.sample_sizes import PAPER_SAMPLE_SIZES


def _make(args: argparse.Namespace, download: bool):
    plugin = plugins.load(plugins.DATASETS, args.dataset)
    options = parse_options(args.option, "--set")
    try:
        inspect.signature(plugin).bind(Path(args.root), download=download, **options)
    except TypeError as err:
        raise UserError(f"dataset {args.dataset!r}: bad options {options} ({err})") from err
    return plugin(Path(args.root), download=download, **options), options


def run_fetch(args: argparse.Namespace) -> None:
    splits, _ = _make(args, download=True)
    print(f"{args.dataset}: train {tuple(splits.x_train.shape)}, "
          f"test {tuple(splits.x_test.shape)}, {splits.num_classes} classes, under {args.root}")


def run_subsample(args: argparse.Namespace) -> None:
    from crossclass.data.subsample import write_subset

    splits, options = _make(args, download=False)
    path = write_subset(args.out, args.dataset, splits, args.n_per_class, args.seed,
                        test_per_class=args.test_per_class, options=options)
    print(f"{args.dataset}: {args.n_per_class} per class x {splits.num_classes} classes -> {path}")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="NAME",
                        help="dataset plugin (entry-point group crossclass.datasets), e.g. mnist, "
                        "fashion_mnist, cifar10, cifar100, digits, gmm, ccm")
    parser.add_argument("--root", required=True, metavar="DIR",
                        help="folder holding the downloaded files (torchvision layout)")
    parser.add_argument("--set", dest="option", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="dataset option, repeatable (alias --set); VALUE is read as a YAML "
                        "scalar (e.g. --set dim=50 --set t=2.5)")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data", help="download datasets and draw balanced subsets",
        description="Dataset steps: `fetch` downloads a dataset's files into ROOT; `subsample` "
        "draws n examples per class and writes the chosen indices to a Zarr store that every "
        "later step loads.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    fetch = actions.add_parser("fetch", help="download a dataset into ROOT",
                               description="Download the dataset's files into ROOT (torchvision's "
                               "layout) and check that they load. Datasets without files "
                               "(digits, gmm, ccm) are only built.")
    _common(fetch)
    fetch.set_defaults(func=run_fetch)

    sub = actions.add_parser(
        "subsample", help="write the indices of a balanced subset",
        description="Draw N training examples of every class (seeded, nested across N) and "
        "keep the test split (all of it, or M per class); write the indices to the Zarr store "
        f"OUT. The paper uses 20 sizes per dataset: {', '.join(map(str, PAPER_SAMPLE_SIZES))}.")
    _common(sub)
    sub.add_argument("--n-per-class", type=int, required=True, metavar="N",
                     help="training examples per class")
    sub.add_argument("--seed", type=int, required=True, metavar="S", help="seed of the draw")
    sub.add_argument("--test-per-class", type=int, default=None, metavar="M",
                     help="test examples per class (default: the whole test split)")
    sub.add_argument("--out", required=True, metavar="STORE", help="Zarr store to write")
    sub.set_defaults(func=run_subsample)
