"""Code version and source hashes: what produced a store, and what a rule depends on.

A rule's `code` param is `code_hash(source_root, *entry_modules)`: the hash of every module of
this package that the job can run, found statically as the import closure of its entry modules
(the subcommand module, and any module it loads by name). Imports are read with `ast` from the
files under `source_root` (the sources beside the Snakefile, not the installed copy), including
imports inside functions, so planning never imports torch and no module list is kept by hand.
The one dynamic edge, the entry-point plugins of `crossclass.plugins`, is read from
pyproject.toml.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import tomllib
from pathlib import Path

from crossclass import __version__

PACKAGE = "crossclass"
PACKAGE_ROOT = Path(__file__).resolve().parent
PLUGIN_REGISTRY = f"{PACKAGE}.plugins"


def module_file(source_root: Path, name: str) -> Path | None:
    """The file of dotted module `name` under `source_root` (a package's __init__.py), or None
    when `name` is not a module of this package (e.g. a function imported from a module)."""
    base = Path(source_root).joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def imported_modules(path: Path, name: str) -> frozenset[str]:
    """Dotted names of this package's modules that module `name` (file `path`) imports, at any
    depth of its body; `from a import b` yields `a.b` as well as `a` (b may be a module).
    Cached per file: one planning run parses each file once."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if m == PACKAGE or m.startswith(f"{PACKAGE}."))


def plugin_modules(source_root: Path) -> set[str]:
    """Modules named by this package's entry points in the pyproject.toml beside `source_root`
    (loaded by name through `crossclass.plugins`, so invisible to `imported_modules`)."""
    pyproject = Path(source_root).parent / "pyproject.toml"
    if not pyproject.is_file():
        return set()
    groups = tomllib.loads(pyproject.read_text())["project"].get("entry-points", {})
    return {target.split(":")[0] for group, entries in groups.items()
            if group.startswith(f"{PACKAGE}.") for target in entries.values()}


def import_closure(source_root: Path, *entry_modules: str) -> list[Path]:
    """Sorted files of every package module reachable from `entry_modules` by imports (with the
    parent packages' __init__.py, which run on import)."""
    source_root = Path(source_root)
    seen: dict[str, Path] = {}
    todo = list(entry_modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(source_root, name)
        if path is None:
            if name in entry_modules:
                raise ModuleNotFoundError(f"{name} not found under {source_root}")
            continue
        seen[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo += parents + sorted(imported_modules(path, name))
        if name == PLUGIN_REGISTRY:
            todo += sorted(plugin_modules(source_root))
    return sorted(set(seen.values()))


@functools.cache
def code_hash(source_root: Path, *entry_modules: str) -> str:
    """SHA-256 (first 16 hex) of the import closure of `entry_modules` under `source_root`:
    editing any module a job can run changes it, editing any other module does not."""
    source_root = Path(source_root)
    digest = hashlib.sha256()
    for f in import_closure(source_root, *entry_modules):
        digest.update(str(f.relative_to(source_root)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def code_version() -> str:
    """Package version plus a hash of the whole installed package source (stored in every
    store's attributes: what produced it)."""
    digest = hashlib.sha256()
    for f in sorted(PACKAGE_ROOT.rglob("*.py")):
        digest.update(str(f.relative_to(PACKAGE_ROOT)).encode())
        digest.update(f.read_bytes())
    return f"{__version__}+src.{digest.hexdigest()[:16]}"
