"""Deadlines that scale with the machine: a bound stated for the reference machine (2 idle
cores, where a Python process imports torch in REFERENCE_IMPORT_S) grows with how much slower
this machine is at that measured baseline, so a slow or loaded machine does not fail a test
that a fast one passes. Tests wait on files, log lines and process states; these are only the
bounds after which a wait counts as hung."""

from __future__ import annotations

import functools
import subprocess
import sys
import time

REFERENCE_IMPORT_S = 2.2  # `python -c "import torch"` on the reference machine


@functools.cache
def slowness() -> float:
    """This machine's torch import time over the reference's, at least 1 (measured once)."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return max(1.0, (time.monotonic() - start) / REFERENCE_IMPORT_S)


def within(seconds: float) -> float:
    """A bound of `seconds` on the reference machine, scaled to this one."""
    return seconds * slowness()
