"""`crossclass extract`: extended-gradient means, layer statistics and summary of one
checkpoint and split (docs/analysis.md).

  extract --checkpoint PT --subset STORE --root DIR --split S --batch-size B [--device D]
          [--float64] [--conv-layers] --out-means STORE --out-layers STORE
          --out-summary STORE
Under torchrun (WORLD_SIZE > 1) the data is split over the processes
(crossclass.curvature.distributed; --device cuda is cuda:LOCAL_RANK) and rank 0 writes.
"""

from __future__ import annotations

import argparse

from crossclass.cli_arguments import (
    device_and_progress,
    load_network,
    network_arguments,
)


def run(args: argparse.Namespace) -> None:
    from crossclass.analysis import extract

    net = load_network(args)
    extract(net, out_means=args.out_means, out_layers=args.out_layers,
            out_summary=args.out_summary, keys=net.keys,
            conv=args.conv_layers, keep_means=args.keep_means,
            layer_matrices=args.layer_matrices, progress=args.progress)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "extract", help="means, layer statistics and summary of one checkpoint and split",
        description="Extended-gradient means (p x C x C), per-layer section-7 statistics "
                    "and loss/error/||grad|| of one checkpoint on one split, as three stores.")
    network_arguments(parser)
    parser.add_argument("--out-means", required=True, help="means store to write")
    parser.add_argument("--out-layers", required=True, help="layers store to write")
    parser.add_argument("--out-summary", required=True, help="summary store to write")
    parser.add_argument("--conv-layers", action="store_true",
                        help="also analyse every nn.Conv2d layer (KFC view, docs/layerwise.md)")
    parser.add_argument("--keep-means", action=argparse.BooleanOptionalAction, default=True,
                        help="store the p x C x C means (else their eigenvalues and weights "
                             "only; spectra jobs then recompute them in memory)")
    parser.add_argument("--layer-matrices", action=argparse.BooleanOptionalAction, default=True,
                        help="store each layer's matrices (else its scalars and class-indexed "
                             "values only)")
    device_and_progress(parser)
    parser.set_defaults(func=run)
