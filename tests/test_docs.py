"""The project's docs stand alone (nothing cites MATH.md, which is not in this repository) and
the package docstring names all of the package."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_no_doc_or_module_cites_math_md():
    files = [REPO / "README.md", *(REPO / "docs").glob("*.md"),
             *(REPO / "workflow" / "crossclass").rglob("*.py")]
    citing = [str(f.relative_to(REPO)) for f in files if "MATH.md" in f.read_text()]
    assert not citing, citing


def test_the_package_docstring_names_every_subpackage_and_module():
    import pkgutil
    import re

    import crossclass

    unnamed = [m.name for m in pkgutil.iter_modules(crossclass.__path__)
               if not re.search(rf"(^|[\s,]){m.name}([\s,]|$)", crossclass.__doc__)]
    assert not unnamed, unnamed


def test_stores_doc_is_rendered_from_the_schemas_beside_the_code():
    from crossclass.store_docs import render

    assert (REPO / "docs" / "stores.md").read_text() == render(), (
        "docs/stores.md is stale: python -m crossclass.store_docs > docs/stores.md")
