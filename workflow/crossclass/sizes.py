"""Sizes of the built-in experiments without building anything (torch-free): input shape,
classes and examples of each dataset, parameter count p of each network, and from them the
memory of a job and the bytes of every store. The workflow sizes each job's resources from
these while planning, and docs/storage.md is computed from them for the paper grid.

Defaults of the plugins' options are read from their signatures (crossclass.plugins), so only
the architecture arithmetic is written here; tests/test_sizes.py builds every network and
dataset at several options and checks these numbers equal the real ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from crossclass import plugins

# name -> (input shape, classes, train examples, test examples) of the fixed datasets
FIXED = {
    "mnist": ((1, 28, 28), 10, 60000, 10000),
    "fashion_mnist": ((1, 28, 28), 10, 60000, 10000),
    "cifar10": ((3, 32, 32), 10, 50000, 10000),
    "cifar100": ((3, 32, 32), 100, 50000, 10000),
    "digits": ((1, 8, 8), 10, 1352, 445),
}
CONV_IMAGE = 32  # the convolutional nets adapt every input to (channels, 32, 32)
VGG11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


@dataclass(frozen=True)
class DatasetSize:
    """in_shape: one input's shape; classes: C; train, test: examples in the whole split."""

    in_shape: tuple[int, ...]
    classes: int
    train: int
    test: int


def dataset_size(name: str, options: dict | None = None,
                 source_root: Path | None = None) -> DatasetSize:
    """The size of dataset plugin `name` with `options` (synthetic ones from their options)."""
    if name in FIXED:
        return DatasetSize(*FIXED[name])
    o = {**plugins.plugin_defaults(plugins.DATASETS, name, source_root), **(options or {})}
    if name in ("gmm", "ccm"):
        return DatasetSize((int(o["dim"]),), int(o["num_classes"]),
                           int(o["num_classes"]) * int(o["n_train_per_class"]),
                           int(o["num_classes"]) * int(o["n_test_per_class"]))
    raise ValueError(f"no size known for dataset {name!r}")


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def layer_sizes(net: str, in_shape: tuple[int, ...], classes: int,
                options: dict | None = None, source_root: Path | None = None
                ) -> list[tuple[int, int]]:
    """(parameters, multiply-adds per example) of each layer of built-in network `net` on
    inputs of `in_shape` (BatchNorm affine parameters counted with their layer)."""
    o = {**plugins.plugin_defaults(plugins.NETWORKS, net, source_root), **(options or {})}
    width = float(o.get("width", 1.0))
    layers = []
    if net == "mlp":
        units, features = _scaled(int(o["hidden"]), width), math.prod(in_shape)
        for _ in range(int(o["depth"]) - 1):
            extra = (units if o["bias"] else 0) + (2 * units if o["batchnorm"] else 0)
            layers.append((features * units + extra, features * units))
            features = units
        layers.append((features * classes + (classes if o["bias"] else 0), features * classes))
        return layers
    channels, side = in_shape[0], in_shape[-1]

    def conv(cin, cout, kernel, out_side):
        layers.append((cin * cout * kernel * kernel + 2 * cout,
                       cin * cout * kernel * kernel * out_side * out_side))

    if net == "vgg11":
        for item in VGG11:
            if item == "M":
                side //= 2
                continue
            out = _scaled(item, width)
            conv(channels, out, 3, side)
            channels = out
        units = _scaled(int(o["head"]), width)
        layers += [((channels + 3) * units, channels * units), ((units + 3) * units, units * units),
                   (units * classes + classes, units * classes)]  # weights, bias, BN
        return layers
    if net == "resnet18":
        c0 = _scaled(64, width)
        conv(channels, c0, 3, side)
        cin = c0
        for stage, stride in zip((64, 128, 256, 512), (1, 2, 2, 2), strict=True):
            cout = _scaled(stage, width)
            for block_in, block_stride in ((cin, stride), (cout, 1)):
                side //= block_stride
                conv(block_in, cout, 3, side)
                conv(cout, cout, 3, side)
                if block_stride != 1 or block_in != cout:
                    conv(block_in, cout, 1, side)
            cin = cout
        layers.append((cin * classes + classes, cin * classes))
        return layers
    raise ValueError(f"no sizes known for net {net!r}")


def parameter_count(net: str, in_shape: tuple[int, ...], classes: int,
                    options: dict | None = None, source_root: Path | None = None) -> int:
    """p of built-in network `net` (trainable parameters, BatchNorm affine included)."""
    return sum(p for p, _ in layer_sizes(net, in_shape, classes, options, source_root))


def forward_macs(net: str, in_shape: tuple[int, ...], classes: int,
                 options: dict | None = None, source_root: Path | None = None) -> int:
    """Multiply-adds of one example's forward pass (a training step costs about 3x)."""
    return sum(m for _, m in layer_sizes(net, in_shape, classes, options, source_root))


def net_input_shape(net: str, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The input shape `net` sees: conv nets adapt images to (channels, 32, 32)."""
    if net in ("vgg11", "resnet18"):
        return (in_shape[0] if len(in_shape) == 3 else 1, CONV_IMAGE, CONV_IMAGE)
    return in_shape


def means_bytes(p: int, classes: int, itemsize: int = 4) -> int:
    """The extended-gradient means g_{c,c'}: p x C x C values."""
    return p * classes * classes * itemsize


def layer_dims(net: str, in_shape: tuple[int, ...], classes: int, options: dict | None = None,
               source_root: Path | None = None, conv: bool = False) -> list[tuple[int, int]]:
    """(d_in, d_out) of each analysed layer of built-in network `net` in module order: its
    nn.Linear layers, and with `conv` its nn.Conv2d layers as (C_in k^2, C_out)."""
    o = {**plugins.plugin_defaults(plugins.NETWORKS, net, source_root), **(options or {})}
    width = float(o.get("width", 1.0))
    if net == "mlp":
        units = _scaled(int(o["hidden"]), width)
        widths = [math.prod(in_shape), *[units] * (int(o["depth"]) - 1), classes]
        return list(zip(widths[:-1], widths[1:], strict=True))
    convs, channels = [], in_shape[0]
    if net == "vgg11":
        for item in VGG11:
            if item != "M":
                convs.append((channels * 9, _scaled(item, width)))
                channels = _scaled(item, width)
        units = _scaled(int(o["head"]), width)
        return [*(convs if conv else []), (channels, units), (units, units), (units, classes)]
    if net == "resnet18":
        cin = _scaled(64, width)
        convs.append((channels * 9, cin))
        for stage, stride in zip((64, 128, 256, 512), (1, 2, 2, 2), strict=True):
            cout = _scaled(stage, width)
            for block_in, block_stride in ((cin, stride), (cout, 1)):
                convs += [(block_in * 9, cout), (cout * 9, cout)]
                if block_stride != 1 or block_in != cout:
                    convs.append((block_in, cout))
            cin = cout
        return [*(convs if conv else []), (cin, classes)]
    raise ValueError(f"no sizes known for net {net!r}")


def layer_stream_bytes(dims: list[tuple[int, int]], classes: int, probes: int = 32) -> int:
    """Peak bytes of streaming the largest of the layers `dims` (layerwise.streaming, float64):
    the C H_c and Delta_c sums, one class's C gradient means, the probes and their products,
    and one batch's errors (at most STREAM_BATCH_ELEMENTS values)."""
    C = classes
    return max((C * (d_in * d_in + d_out * d_out + d_in * d_out) + 2 * probes * d_in * d_out
                + STREAM_BATCH_ELEMENTS) * FLOAT64 for d_in, d_out in dims)


FLOAT64 = 8
STREAM_BATCH_ELEMENTS = 2 ** 27  # a streamed layer's batch holds at most this many errors


def layers_store_bytes(dims: list[tuple[int, int]], classes: int, matrices: bool = True) -> int:
    """Bytes of a layers store (float64) of the analysed layers `dims`: per layer H, H_class,
    H_within and the C H_c (d_in^2 each), five Delta parts and the C Delta_c (d_out^2),
    delta_cc (C^2 d_out), five weight parts and the KFAC eigenvalues (d_in d_out), class means;
    without matrices only the O(C^2) class-indexed values and the scalars."""
    C, total = classes, 0
    for d_in, d_out in dims:
        small = 4 * C * C + 4 * C + 16
        if matrices:
            small += ((3 + C) * d_in * d_in + (5 + C) * d_out * d_out + C * C * d_out
                      + 6 * d_in * d_out + C * (d_in + d_out) + 3 * d_out)
        total += small
    return total * FLOAT64


def means_store_bytes(p: int, classes: int, keep_means: bool = True) -> int:
    """Bytes of a means store (float64): the p C^2 means when kept, the weights and the
    eigenvalues of the low-rank parts (about 3 C^2)."""
    return ((means_bytes(p, classes, 1) if keep_means else 0) + 3 * classes * classes
            + 2 * classes) * FLOAT64


CHECKPOINT_CONTAINER = 16 * 2**10  # the pickled state's structure and zip records, any p


def checkpoint_bytes(p: int) -> int:
    """Bytes of one checkpoint file: the float32 weights and their SGD momentum (8 p), and the
    container (CHECKPOINT_CONTAINER: measured 16.5-17 KiB for a tiny MLP); BatchNorm buffers,
    RNG states and the history are O(width + epochs)."""
    return 8 * p + CHECKPOINT_CONTAINER


def spectrum_store_bytes(grid: int, lanczos_steps: int, start_vectors: int, top: int) -> int:
    """Bytes of a spectrum store: density and abscissa (and the sign split of log spectra)
    on `grid`, Ritz values and weights, the top eigenvalues (float64)."""
    return (4 * grid + 2 * lanczos_steps * start_vectors + top) * FLOAT64
