"""Plugin registries: datasets and networks are found through Python entry points.

Groups (declare them in your own package's pyproject.toml to add plugins without editing
this repository):
  crossclass.datasets   name -> callable(root: Path, download: bool, **options) -> ArraySplits
  crossclass.networks   name -> callable(in_shape: tuple, num_classes: int, **options) -> nn.Module
The built-in plugins are declared the same way in this project's pyproject.toml.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from crossclass.errors import UserError
from crossclass.signatures import keyword_defaults, keyword_options

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


PLUGIN_ARGUMENTS = {DATASETS: 2, NETWORKS: 2}  # (root, download) and (in_shape, num_classes)


def _plugin_source(group: str, name: str, source_root: Path | None
                   ) -> tuple[Path, str, Path] | None:
    """(module file, function name, source root) of plugin `name` of `group`, found without
    importing it (this package's plugins under `source_root` when given); None if not found."""
    target = next(ep.value for ep in entry_points(group=group) if ep.name == name)
    module, _, function = target.partition(":")
    head, *rest = module.split(".")
    if source_root is not None and head == __package__:
        root = Path(source_root)
        base = root.joinpath(*module.split("."))
    else:
        spec = importlib.util.find_spec(head)  # the top-level package only: nothing imported
        if spec is None or not spec.submodule_search_locations:
            return None
        base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
        root = base.parents[len(rest)]
    path = next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)
    return None if path is None else (path, function, root)


def plugin_options(group: str, name: str, source_root: Path | None = None) -> list[str] | None:
    """The options plugin `name` of `group` takes, read statically from its signature; None
    when it takes **options or its source cannot be found."""
    source = _plugin_source(group, name, source_root)
    if source is None:
        return None
    path, function, root = source
    return keyword_options(path, function, skip=PLUGIN_ARGUMENTS[group], source_root=root)


def plugin_defaults(group: str, name: str, source_root: Path | None = None) -> dict:
    """{option: literal default} of plugin `name` of `group`, read statically."""
    source = _plugin_source(group, name, source_root)
    if source is None:
        return {}
    path, function, root = source
    return keyword_defaults(path, function, source_root=root)
