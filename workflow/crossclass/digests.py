"""SHA-256 content digests that prove a store's files unchanged since they were written.

A store folder holds a manifest, `DIGESTS.sha256`, in the format `sha256sum` writes and
checks (`cd STORE && sha256sum -c DIGESTS.sha256`): one line `<64 hex digits>  <relative
path>` per file, sorted by path. Snakemake's marker file in a directory() output is no part
of the store and is never listed. (Checkpoints carry their digest inside: see
crossclass.training.checkpoint.)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MANIFEST = "DIGESTS.sha256"
UNLISTED = frozenset({MANIFEST, ".snakemake_timestamp"})
_BLOCK = 1 << 20


def file_digest(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def listed_files(folder: Path) -> list[str]:
    """Every file below `folder` that its manifest lists (POSIX relative paths, sorted)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name not in UNLISTED)


def write_manifest(folder: str | os.PathLike) -> Path:
    """Write the manifest of every file below `folder` (call it once the folder is complete)."""
    folder = Path(folder)
    lines = [f"{file_digest(folder / name)}  {name}\n" for name in listed_files(folder)]
    path = folder / MANIFEST
    path.write_text("".join(lines))
    return path


def manifest_damage(folder: str | os.PathLike) -> str | None:
    """None if every file the manifest of `folder` lists is there with its recorded digest and
    no other file is; else what is wrong, in a few words naming the first bad file."""
    folder = Path(folder)
    try:
        rows = [line.split("  ", 1) for line in (folder / MANIFEST).read_text().splitlines()]
        recorded = {name: digest for digest, name in rows}
    except (OSError, UnicodeDecodeError, ValueError):
        return f"its digest manifest {MANIFEST} is missing or unreadable"
    present = listed_files(folder)
    for name in present:
        if name not in recorded:
            return f"{name} is not in its digest manifest"
    for name, digest in recorded.items():
        if not (folder / name).is_file():
            return f"{name} is missing"
        if file_digest(folder / name) != digest:
            return f"{name} does not match its recorded digest"
    return None
