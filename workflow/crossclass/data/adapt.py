"""Input adaptation for convolutional nets: square images brought to size x size.

28x28 (MNIST, FashionMNIST) is padded by 2 on each side with replicate padding: their borders
are background, so this extends the background exactly (a constant 0 would not be the
background once the data is standardised). 8x8 digits are upsampled nearest-neighbour x4.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from crossclass.errors import UserError


def adapt_inputs(x: torch.Tensor, size: int = 32) -> torch.Tensor:
    """x (N, C, H, H) -> (N, C, size, size): unchanged if H = size, nearest-upsampled by
    size / H if H divides size, else padded (replicate, split evenly) if H < size."""
    if x.ndim != 4 or x.shape[2] != x.shape[3]:
        raise UserError(f"adapt_inputs needs square images (N, C, H, H), got {tuple(x.shape)}")
    h = x.shape[2]
    if h == size:
        return x
    if size % h == 0:
        factor = size // h
        return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
    if h < size:
        before = (size - h) // 2
        after = size - h - before
        return F.pad(x, (before, after, before, after), mode="replicate")
    raise UserError(f"adapt_inputs cannot shrink {h}x{h} images to {size}x{size}")
