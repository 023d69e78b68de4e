"""Claims of the paper judged from the data, and the rules that judge them.

Each claim module (one per part of the paper) turns stores into `Verdict` rows and, for Table 1,
`Elimination` rows; `crossclass claims MODULE` writes them as one JSON file, and
`crossclass claims-report` gathers every module's file into `results/claims.md` and
`results/table1.md` (docs/analysis.md, "Claims"). A verdict is computed from a
measured value and a stated threshold: "holds", "fails", or "not measured" when the run lacks
the stores the claim needs. Nothing is tuned to make a claim hold.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

HOLDS, FAILS, NOT_MEASURED = "holds", "fails", "not measured"
COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Verdict:
    """One claim on one experiment: what was measured, its value, the rule and the verdict.

    claim: the paper's statement; section: where the paper makes it (e.g. "6.1");
    experiment: the key it was measured on (e.g. "digits/vgg11/n10/e20/train");
    metric: what `value` is; rule: the threshold it is held to (e.g. ">= 0.9")."""

    claim: str
    section: str
    experiment: str
    metric: str
    value: float | None
    rule: str
    verdict: str


def judge(claim: str, section: str, experiment: str, metric: str, value: float | None,
          comparison: str, threshold: float) -> Verdict:
    """The verdict of `value comparison threshold` ("not measured" for None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        verdict = NOT_MEASURED
    else:
        verdict = HOLDS if COMPARISONS[comparison](float(value), threshold) else FAILS
    return Verdict(claim, section, experiment, metric, None if value is None else float(value),
                   f"{comparison} {threshold:g}", verdict)


@dataclass(frozen=True)
class Elimination:
    """One knockout of one component from one quantity, judged for one spectral feature:
    Table 1 lists, per (quantity, feature), the components whose knockout eliminates it.

    quantity: e.g. "G", "Hess", "H^l"; feature: "outliers", "mini-bulk" or "bulk";
    component: what was knocked out (e.g. "G_class"); knockout: the operator measured (e.g.
    "G-minus-class"); before, after: the feature's metric on the quantity and on the knockout;
    eliminated: present before and absent after (None: not measured)."""

    quantity: str
    feature: str
    component: str
    knockout: str
    experiment: str
    before: float | None
    after: float | None
    eliminated: bool | None
