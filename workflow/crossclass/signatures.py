"""Static signatures: the options a function takes, read from its source with `ast`.

The workflow checks figure and plugin options while planning, without importing the modules
(which would import torch and matplotlib). A name that a module re-exports
(`from crossclass.nets.vgg import vgg11` in crossclass/nets/__init__.py) is followed to the
module that defines it.
"""

from __future__ import annotations

import ast
from pathlib import Path


def _definition(path: Path, function: str, source_root: Path | None, depth: int = 0
                ) -> ast.FunctionDef | None:
    """The `def function` of module file `path`, following `from X import function`."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return node
    if source_root is None or depth > 8:
        return None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if any((a.asname or a.name) == function for a in node.names):
                name = next(a.name for a in node.names if (a.asname or a.name) == function)
                base = Path(source_root).joinpath(*node.module.split("."))
                for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                    if candidate.is_file():
                        return _definition(candidate, name, source_root, depth + 1)
    return None


def keyword_options(path: str | Path, function: str, *, skip: int = 0,
                    source_root: str | Path | None = None) -> list[str] | None:
    """Names `function` in module file `path` accepts by keyword, after its first `skip`
    positional parameters (a plugin's framework arguments); keyword-only parameters always.
    None when the function takes **kwargs (anything goes) or is not found statically."""
    node = _definition(Path(path), function, None if source_root is None else Path(source_root))
    if node is None or node.args.kwarg is not None:
        return None
    positional = [a.arg for a in node.args.posonlyargs + node.args.args][skip:]
    return positional + [a.arg for a in node.args.kwonlyargs]


def keyword_defaults(path: str | Path, function: str, *,
                     source_root: str | Path | None = None) -> dict:
    """{name: default} of the parameters of `function` that have literal defaults."""
    node = _definition(Path(path), function, None if source_root is None else Path(source_root))
    if node is None:
        return {}
    positional = node.args.posonlyargs + node.args.args
    defaulted = positional[len(positional) - len(node.args.defaults):]
    pairs = list(zip(defaulted, node.args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
              if d is not None]
    out = {}
    for arg, default in pairs:
        try:
            out[arg.arg] = ast.literal_eval(default)
        except ValueError:
            continue
    return out
