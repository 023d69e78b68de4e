"""The claims report and Table 1 (claims.report) from known rows: every verdict's line, the
counts, Table 1's cells (all, some "(k/m)", none, unmeasured knockouts left out) and its
every-knockout list, through the verdict files as the workflow writes them."""

from __future__ import annotations

import math
import re

from crossclass.claims import Elimination, judge
from crossclass.claims.report import (
    claims_markdown,
    read_rows,
    table1,
    table1_markdown,
    write_reports,
    write_rows,
)


def knockout(quantity, feature, component, op, exp, before, after, eliminated):
    return Elimination(quantity, feature, component, op, exp, before, after, eliminated)


ELIMINATIONS = [
    # G outliers: G_class in 2 of 3 measured experiments (a 4th unmeasured), G_cross in none
    knockout("G", "outliers", "G_class", "G-minus-class", "a", 10.0, 1.1, True),
    knockout("G", "outliers", "G_class", "G-project-class", "a", 10.0, 1.2, True),
    knockout("G", "outliers", "G_class", "G-minus-class", "b", 9.0, 3.0, False),
    knockout("G", "outliers", "G_class", "G-minus-class", "c", None, 1.0, None),
    knockout("G", "outliers", "G_cross", "G-minus-cross", "a", 10.0, 10.0, False),
    # G bulk: G_within everywhere
    knockout("G", "bulk", "G_within", "G-minus-within", "a", 0.5, 0.001, True),
    knockout("G", "bulk", "G_within", "G-minus-within", "b", 0.4, 0.002, True),
    # Hess mini-bulk: measured, never eliminated
    knockout("Hess", "mini-bulk", "E", "hess-minus-E", "a", 1.0, 1.2, False),
    # W^l outliers: only unmeasured rows, so no cell at all
    knockout("W^l", "C outliers", "W_class", "W-minus-class", "a layer 1", None, math.nan,
             None),
]


def test_table1_cells():
    """A component in every measured experiment stands alone; in some, with "(k/m)" over its
    measured knockouts (subtraction and projection both count); a component that never
    eliminated is left out, "none" when no component did; unmeasured knockouts count nowhere."""
    cells = table1(ELIMINATIONS)
    assert cells == {("G", "outliers"): "G_class (2/3)", ("G", "bulk"): "G_within",
                     ("Hess", "mini-bulk"): "none"}


def test_table1_lists_every_component_that_eliminated_in_first_seen_order():
    rows = [knockout("G", "outliers", "G_cross", "G-minus-cross", "a", 10.0, 1.0, True),
            knockout("G", "outliers", "G_class", "G-minus-class", "a", 10.0, 1.0, True),
            knockout("G", "outliers", "G_class", "G-minus-class", "b", 10.0, 9.0, False)]
    assert table1(rows) == {("G", "outliers"): "G_cross, G_class (1/2)"}


def table_rows(text, header):
    """The rows of the markdown table under `header` in `text`: cells split at unescaped
    pipes, "\\|" read back as "|"."""
    lines = text.splitlines()
    start = lines.index(header) + 2
    out = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        out.append([cell.strip().replace("\\|", "|") for cell in cells])
    return out


def test_table1_markdown():
    text = table1_markdown(ELIMINATIONS)
    assert text.startswith("# Table 1: which component's knockout eliminates each spectral "
                           "feature\n")
    assert table_rows(text, "| quantity | feature | eliminated by knocking out |") == [
        ["G", "outliers", "G_class (2/3)"], ["G", "bulk", "G_within"],
        ["Hess", "mini-bulk", "none"]]
    every = table_rows(text, "| quantity | feature | knockout | experiment | before | after | "
                             "eliminated |")
    assert len(every) == len(ELIMINATIONS)       # unmeasured ones too, marked "—"
    assert every[0] == ["G", "outliers", "G-minus-class", "a", "10", "1.1", "yes"]
    assert every[2][-1] == "no"
    assert every[3][4:] == ["—", "1", "—"]        # before None, eliminated None
    assert every[5][4:6] == ["0.5", "0.001"]      # 4 significant digits
    assert every[-1][3:] == ["a layer 1", "—", "nan", "—"]


def test_claims_markdown_rows_and_counts():
    verdicts = [judge("x is big", "5.1", "toy/a", "x", 2.0, ">=", 1.0),
                judge("x is big", "5.1", "toy/b", "x", 0.123456, ">=", 1.0),
                judge("y is small", "6.1", "toy/a", "y", None, "<", 0.5),
                judge("y is small", "6.1", "toy/b", "y", math.nan, "<", 0.5)]
    text = claims_markdown(verdicts)
    assert "1 hold, 1 fail, 2 not measured" in text
    rows = table_rows(text, "| claim | section | experiment | metric | value | rule | verdict |")
    assert rows == [["x is big", "5.1", "toy/a", "x", "2", ">= 1", "holds"],
                    ["x is big", "5.1", "toy/b", "x", "0.1235", ">= 1", "**fails**"],
                    ["y is small", "6.1", "toy/a", "y", "—", "< 0.5", "not measured"],
                    ["y is small", "6.1", "toy/b", "y", "nan", "< 0.5", "not measured"]]


def test_reports_through_the_verdict_files(tmp_path):
    """Rows written by two modules come back in file order and make both reports."""
    v = [judge("x is big", "5.1", "toy/a", "x", 2.0, ">=", 1.0)]
    files = [write_rows("network", v, ELIMINATIONS[:5], tmp_path / "n.json"),
             write_rows("layerwise", [], ELIMINATIONS[5:], tmp_path / "l.json")]
    verdicts, eliminations = read_rows(files)
    assert verdicts == v
    assert [e.knockout for e in eliminations] == [e.knockout for e in ELIMINATIONS]
    assert math.isnan(eliminations[-1].after)
    write_reports(files, tmp_path / "claims.md", tmp_path / "table1.md")
    table = (tmp_path / "table1.md").read_text()
    assert ["G", "outliers", "G_class (2/3)"] in table_rows(
        table, "| quantity | feature | eliminated by knocking out |")


def test_pipes_in_a_metric_stay_in_their_cell():
    """Metrics such as |Tr E| / sum |lambda| and ||G-CFAC|| / ||G-KFAC|| are escaped: every
    row has the table's seven cells."""
    verdicts = [judge("E is symmetric about 0", "5.1", "toy/a", "|Tr E| / sum |lambda|", 0.3,
                      "<=", 0.2),
                judge("CFAC", "7.11", "toy/a", "layer 1 (1): ||G-CFAC|| / ||G-KFAC||", 0.5,
                      "<", 1.0)]
    text = claims_markdown(verdicts)
    header = "| claim | section | experiment | metric | value | rule | verdict |"
    for line in text.splitlines()[text.splitlines().index(header):]:
        if line.startswith("|"):
            assert len(re.split(r"(?<!\\)\|", line)) == 9, line
    rows = table_rows(text, header)
    assert [r[3] for r in rows] == ["|Tr E| / sum |lambda|",
                                    "layer 1 (1): ||G-CFAC|| / ||G-KFAC||"]
    assert [r[6] for r in rows] == ["**fails**", "holds"]
