"""Multilayer perceptron: Flatten, then (Linear -> BatchNorm1d -> ReLU) x (depth - 1), Linear.

Paper preset (Appendix D.1): depth=8 linear layers (7 hidden layers of 2048 units, layers
W^1..W^8 with W^8 the classifier), BatchNorm before each ReLU. Layer l computes
z^l = W^l h^{l-1} (no bias by default, as in docs/layerwise.md; BatchNorm supplies the shift).
"""

from __future__ import annotations

import math

from torch import nn

from crossclass.errors import UserError
from crossclass.nets.common import scaled


def mlp(
    in_shape: tuple,
    num_classes: int,
    *,
    depth: int = 8,
    hidden: int = 2048,
    width: float = 1.0,
    batchnorm: bool = True,
    bias: bool = False,
) -> nn.Sequential:
    """MLP on inputs of any shape (flattened to prod(in_shape) features).

    depth: number of nn.Linear layers (>= 1), the last one being the classifier.
    hidden: units per hidden layer before the width multiplier; width: multiplier.
    """
    if depth < 1:
        raise UserError(f"mlp depth must be at least 1, got {depth}")
    units = scaled(hidden, width)
    features = math.prod(in_shape)
    layers: list[nn.Module] = [nn.Flatten()]
    for _ in range(depth - 1):
        layers.append(nn.Linear(features, units, bias=bias))
        if batchnorm:
            layers.append(nn.BatchNorm1d(units))
        layers.append(nn.ReLU(inplace=True))
        features = units
    layers.append(nn.Linear(features, num_classes, bias=bias))
    return nn.Sequential(*layers)
