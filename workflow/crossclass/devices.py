"""Torch devices by name: `auto` is CUDA when present, else the CPU (every `--device`)."""

from __future__ import annotations

import torch

from crossclass.errors import UserError


def resolve_device(name: str | torch.device) -> torch.device:
    """"auto" -> cuda when available, else cpu; any other name as given, checked to exist."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise UserError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but CUDA is not available")
    return device
