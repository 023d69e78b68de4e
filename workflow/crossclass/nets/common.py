"""Shared checks and sizing for the built-in networks."""

from __future__ import annotations

from crossclass.errors import UserError


def scaled(channels: int, width: float) -> int:
    """`channels * width`, rounded, at least 1 (the width multiplier of every built-in net)."""
    if width <= 0:
        raise UserError(f"width multiplier must be positive, got {width}")
    return max(1, round(channels * width))


def image_channels(in_shape: tuple, size: int, net: str) -> int:
    """Channel count of an image shape (C, size, size); a one-line error for any other shape."""
    in_shape = tuple(in_shape)
    if len(in_shape) != 3 or in_shape[1:] != (size, size):
        raise UserError(
            f"{net} needs inputs of shape (channels, {size}, {size}), got {in_shape}; "
            f"adapt them with crossclass.data.adapt_inputs(x, size={size})"
        )
    return int(in_shape[0])
