"""Code version and source hashes: what produced a store, and what a rule depends on."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from crossclass import __version__

PACKAGE_ROOT = Path(__file__).resolve().parent


def source_hash(*modules: str) -> str:
    """SHA-256 (first 16 hex) of the source of the given modules or packages.

    A package contributes every .py file below it, in sorted order, so editing any of them
    changes the hash. Names are dotted module names, e.g. "crossclass.figures.fig15".
    """
    digest = hashlib.sha256()
    for name in sorted(modules):
        origin = _origin(name)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for f in files:
            digest.update(str(f.relative_to(PACKAGE_ROOT.parent)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _origin(name: str) -> Path:
    """The source file of a module, found without importing it or its parent packages
    (so that planning a workflow never imports torch); other packages via find_spec."""
    head, _, rest = name.partition(".")
    if head == PACKAGE_ROOT.name:
        base = PACKAGE_ROOT.joinpath(*rest.split(".")) if rest else PACKAGE_ROOT
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
        raise ModuleNotFoundError(name)
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(name)
    return Path(spec.origin)


def code_version() -> str:
    """Package version plus a hash of the whole package source."""
    return f"{__version__}+src.{source_hash('crossclass')}"
