"""`crossclass operator-spectrum`: the spectral density stores of named operators of one
checkpoint, estimated in one process (model, data, means and layers read once).

  operator-spectrum --checkpoint PT --subset STORE --root DIR --split S --operator NAME...
          --batch-size B [--float64] [--means STORE] [--layers STORE] --out STORE...
          [estimator flags] [--device D]
Under torchrun (WORLD_SIZE > 1) the data is split over the processes and rank 0 writes.
"""

from __future__ import annotations

import argparse

from crossclass import estimator
from crossclass.cli_arguments import (
    estimator_arguments,
    load_network,
    network_arguments,
)
from crossclass.errors import UserError
from crossclass.operator_names import GRAMMAR, parse_operator


def run(args: argparse.Namespace) -> None:
    from crossclass.analysis import operator_spectra
    from crossclass.curvature.distributed import is_main
    from crossclass.stores import write_store

    if len(args.operator) != len(args.out):
        raise UserError(f"give one --out per --operator: {len(args.operator)} operators, "
                        f"{len(args.out)} outputs")
    for name in args.operator:
        parse_operator(name)
    net = load_network(args)
    kwargs = estimator.from_arguments(args, net.num_classes)
    outs = dict(zip(args.operator, args.out, strict=True))
    for name, ds, params in operator_spectra(net, args.operator, estimator=kwargs,
                                             means=args.means, layers=args.layers,
                                             progress=args.progress):
        if is_main():
            write_store(ds, outs[name], keys={**net.keys, "operator": name}, params=params)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "operator-spectrum", help="spectral densities of named network operators",
        description="Spectral density stores of named operators of one checkpoint. "
                    f"Operator names: {GRAMMAR}")
    network_arguments(parser)
    parser.add_argument("--operator", required=True, nargs="+",
                        help="operator names (see description), estimated in one process")
    parser.add_argument("--means", default=None, help="means store of `extract` (reused)")
    parser.add_argument("--layers", default=None, help="layers store of `extract` (reused)")
    parser.add_argument("--out", required=True, nargs="+",
                        help="spectrum stores to write, one per --operator, in order")
    estimator_arguments(parser)
    parser.set_defaults(func=run)
