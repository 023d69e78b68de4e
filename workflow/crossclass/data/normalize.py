"""Per-channel standardisation of image data with statistics of the train split.

x: (N, C, H, W) of raw pixel values; mean_c and std_c are taken over the N x H x W values of
channel c in the TRAIN split and applied to both splits: x' = (x - mean_c) / std_c.
"""

from __future__ import annotations

import torch

_CHUNK = 4096


def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) standard deviation per channel of x (N, C, ...), each (C,) float64.

    Accumulated in float64 over chunks of examples, so uint8 data is never copied whole.
    """
    channels = x.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    total_sq = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, x.shape[0], _CHUNK):
        chunk = x[start:start + _CHUNK].to(torch.float64).transpose(0, 1).reshape(channels, -1)
        total += chunk.sum(dim=1)
        total_sq += (chunk * chunk).sum(dim=1)
    count = x.numel() // channels
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(0).sqrt()
    return mean, std


def standardize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(x - mean_c) / std_c per channel, as float32; x (N, C, ...), mean and std (C,)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    scale = torch.where(std > 0, std, torch.ones_like(std)).to(torch.float32).view(shape)
    return (x.to(torch.float32) - mean.to(torch.float32).view(shape)) / scale
