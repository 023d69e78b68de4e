"""The learning-rate sweep of Appendix D.1: `count` log-spaced initial rates from `high` down
to `low` (paper: 100 rates for VGG11 and ResNet18, 25 for the MLP, in [1e-4, 0.25]).

Torch-free: the workflow plans the sweep's jobs from it (run folder batchB/lrK is rate K of
this list, trained in the job of batch B: crossclass.run_layout) and `crossclass train` is
given the rate itself.
"""

from __future__ import annotations

import math

from crossclass.errors import UserError


def lr_grid(count: int, low: float, high: float) -> list[float]:
    """Rates high, ..., low (count of them, geometric steps, 6 significant digits so that a
    rate prints and parses back exactly); [high] when count == 1."""
    if count < 1 or not 0 < low <= high:
        raise UserError(f"a sweep needs count >= 1 and 0 < lr_min <= lr_max, got count = "
                        f"{count}, lr_min = {low}, lr_max = {high}")
    if count == 1:
        return [float(high)]
    hi, lo = math.log10(high), math.log10(low)
    return [float(f"{10 ** (hi + (lo - hi) * i / (count - 1)):.6g}") for i in range(count)]

