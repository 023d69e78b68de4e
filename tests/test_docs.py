"""The project's docs stand alone: nothing cites MATH.md, which is not in this repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_doc_or_module_cites_math_md():
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md"),
             *(REPO / "workflow" / "crossclass").rglob("*.py")]
    citing = [str(f.relative_to(REPO)) for f in files if "MATH.md" in f.read_text()]
    assert not citing, citing
