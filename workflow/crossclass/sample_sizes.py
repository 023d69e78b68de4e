"""The paper's training-set sizes: log-spaced integers (numpy only, so that the command line
can name them without importing torch)."""

from __future__ import annotations

import numpy as np

from crossclass.errors import UserError


def log_spaced_sizes(low: int, high: int, count: int) -> tuple[int, ...]:
    """`count` integers floor(geomspace(low, high)): 10, 13, 19, ..., 136, ..., 1351, ..., 5000
    for (10, 5000, 20), the sizes the paper's figures name. Error if two coincide."""
    sizes = tuple(int(s) for s in np.floor(np.geomspace(low, high, count) + 1e-9))
    if len(set(sizes)) != count:
        raise UserError(f"{count} log-spaced sizes in [{low}, {high}] are not distinct: {sizes}")
    return sizes


PAPER_SAMPLE_SIZES = log_spaced_sizes(10, 5000, 20)
