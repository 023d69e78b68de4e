"""Plugin registries: datasets and networks are found through Python entry points.

Groups (declare them in your own package's pyproject.toml to add plugins without editing
this repository):
  crossclass.datasets   name -> callable(root: Path, download: bool, **options) -> ArraySplits
  crossclass.networks   name -> callable(in_shape: tuple, num_classes: int, **options) -> nn.Module
The built-in plugins are declared the same way in this project's pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from crossclass.errors import UserError

DATASETS = "crossclass.datasets"
NETWORKS = "crossclass.networks"


def available(group: str) -> list[str]:
    """Sorted names registered in an entry-point group."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load(group: str, name: str) -> Callable[..., Any]:
    """The plugin registered as `name` in `group`; a one-line error naming the choices if none."""
    matches = [ep for ep in entry_points(group=group) if ep.name == name]
    if not matches:
        kind = group.rsplit(".", 1)[-1]
        raise UserError(f"unknown {kind[:-1]} {name!r}; available: {', '.join(available(group))}")
    return matches[0].load()
