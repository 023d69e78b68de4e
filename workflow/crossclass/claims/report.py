"""Verdict files and the reports gathered from them.

A claim module's file (`write_rows`): JSON {"module": NAME, "verdicts": [Verdict fields ...],
"eliminations": [Elimination fields ...]}. `claims_markdown` makes the claims report (one row per
claim and experiment: metric, value, rule, verdict, then a count of each verdict);
`table1_markdown` makes Table 1: per (quantity, feature), the components whose knockout
eliminates the feature in every experiment that measured it (cell "component (k/m)" when only
k of m did; "none" when no knockout eliminated it; rows in the order first seen), with a note
for every experiment where G-project-same is not G-project-class (network.SAME_RANGE fails).
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from crossclass.claims import FAILS, HOLDS, NOT_MEASURED, Elimination, Verdict
from crossclass.claims.network import SAME_RANGE
from crossclass.errors import UserError
from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    notes=('`claims/{module}.json`: `{"module", "verdicts": [{claim, section, experiment, '
           'metric, value, rule, verdict}], "eliminations": [{quantity, feature, component, '
           'knockout, experiment, before, after, eliminated}]}` of one claim module. `claims.md`'
           ' (every verdict with its number) and `table1.md` (Table 1, then every knockout '
           'measured) are gathered from all of them and shown in the report under "Claims" '
           '(docs/analysis.md, "Claims").'),
)


def _atomic_text(text: str, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_rows(module: str, verdicts: list[Verdict], eliminations: list[Elimination],
               path: str | os.PathLike) -> Path:
    """The verdict file of one claim module, atomically."""
    payload = {"module": module, "verdicts": [asdict(v) for v in verdicts],
               "eliminations": [asdict(e) for e in eliminations]}
    return _atomic_text(json.dumps(payload, indent=1, allow_nan=True) + "\n", path)


def read_rows(paths: list[str | os.PathLike]) -> tuple[list[Verdict], list[Elimination]]:
    """Every module's rows, in the order of `paths`."""
    verdicts, eliminations = [], []
    for path in paths:
        try:
            payload = json.loads(Path(path).read_text())
            verdicts += [Verdict(**v) for v in payload["verdicts"]]
            eliminations += [Elimination(**e) for e in payload["eliminations"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise UserError(f"{path} is not a claims file ({err})") from err
    return verdicts, eliminations


def _number(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def _cell(text: str) -> str:
    """Text for a markdown table cell: its pipes (|Tr E|, ||G - CFAC||) escaped."""
    return str(text).replace("|", "\\|")


def claims_markdown(verdicts: list[Verdict]) -> str:
    """The claims report: a table of every verdict and the count of each outcome."""
    counts = Counter(v.verdict for v in verdicts)
    lines = ["# Claims of the paper, judged from this run", "",
             f"{counts[HOLDS]} hold, {counts[FAILS]} fail, {counts[NOT_MEASURED]} not measured "
             "(rules and thresholds: docs/analysis.md, \"Claims\").", "",
             "| claim | section | experiment | metric | value | rule | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for v in verdicts:
        mark = {HOLDS: "holds", FAILS: "**fails**"}.get(v.verdict, v.verdict)
        cells = (v.claim, v.section, v.experiment, v.metric, _number(v.value), v.rule, mark)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def table1(eliminations: list[Elimination]) -> dict[tuple[str, str], str]:
    """(quantity, feature) -> the Table-1 cell (see module docstring)."""
    cells: dict[tuple[str, str], dict[str, list[bool]]] = {}
    for e in eliminations:
        if e.eliminated is None:
            continue
        cells.setdefault((e.quantity, e.feature), {}).setdefault(e.component, []).append(
            e.eliminated)
    out = {}
    for key, components in cells.items():
        names = [f"{c}" if all(v) else f"{c} ({sum(v)}/{len(v)})"
                 for c, v in components.items() if any(v)]
        out[key] = ", ".join(names) or "none"
    return out


def table1_markdown(eliminations: list[Elimination],
                    verdicts: Sequence[Verdict] = ()) -> str:
    """Table 1 as markdown, its notes from `verdicts`, then every knockout measured with its
    before / after metric."""
    lines = ["# Table 1: which component's knockout eliminates each spectral feature", "",
             "| quantity | feature | eliminated by knocking out |", "| --- | --- | --- |"]
    for (quantity, feature), cell in table1(eliminations).items():
        lines.append(f"| {quantity} | {feature} | {cell} |")
    differ = [v for v in verdicts if v.claim == SAME_RANGE and v.verdict == FAILS]
    if differ:
        lines.append("")
    lines += [f"Note: on {v.experiment}, G-project-same is not G-project-class ({v.metric}): "
              "there G_{c=c'}'s projection knockout removes a different range than "
              "G_class's (docs/curvature.md)." for v in differ]
    lines += ["", "## Every knockout", "",
              "| quantity | feature | knockout | experiment | before | after | eliminated |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for e in eliminations:
        lines.append(f"| {e.quantity} | {e.feature} | {e.knockout} | {e.experiment} | "
                     f"{_number(e.before)} | {_number(e.after)} | "
                     f"{'—' if e.eliminated is None else ('yes' if e.eliminated else 'no')} |")
    return "\n".join(lines) + "\n"


def write_reports(paths: list[str | os.PathLike], claims: str | os.PathLike,
                  table: str | os.PathLike) -> None:
    """Gather the verdict files `paths` into the claims report and Table 1 (markdown)."""
    verdicts, eliminations = read_rows(paths)
    _atomic_text(claims_markdown(verdicts), claims)
    _atomic_text(table1_markdown(eliminations, verdicts), table)
