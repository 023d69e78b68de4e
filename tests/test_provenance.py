"""Static import closures and the code hashes built on them (no module is imported)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from crossclass.provenance import code_hash, import_closure, imported_modules
from crossclass.signatures import keyword_options


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def package(tmp_path) -> Path:
    """A fake crossclass source tree: relative, absolute, nested and function-level imports,
    a name imported from a module, a plugin registry with entry points in pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.entry-points."crossclass.networks"]\n'
        'net = "crossclass.nets.net:build"\n')
    return write(tmp_path / "src", {
        "crossclass/__init__.py": "",
        "crossclass/cli.py": "from crossclass import errors\n",
        "crossclass/errors.py": "",
        "crossclass/cmd.py": """
            from .figs import common
            def run():
                from crossclass.deep.leaf import helper
                import crossclass.plugins
        """,
        "crossclass/figs/__init__.py": "",
        "crossclass/figs/common.py": "import numpy\n",
        "crossclass/deep/__init__.py": "",
        "crossclass/deep/leaf.py": "def helper(): ...\n",
        "crossclass/plugins.py": "",
        "crossclass/nets/__init__.py": "",
        "crossclass/nets/net.py": "def build(in_shape, classes, *, width=1.0, depth=2): ...\n",
        "crossclass/unused.py": "",
    })


def names(root: Path, *modules: str) -> list[str]:
    return [str(f.relative_to(root / "crossclass")) for f in import_closure(root, *modules)]


def test_closure_follows_every_kind_of_import_and_the_plugins(package):
    assert names(package, "crossclass.cli", "crossclass.cmd") == [
        "__init__.py", "cli.py", "cmd.py", "deep/__init__.py", "deep/leaf.py", "errors.py",
        "figs/__init__.py", "figs/common.py", "nets/__init__.py", "nets/net.py", "plugins.py"]
    assert names(package, "crossclass.figs.common") == [
        "__init__.py", "figs/__init__.py", "figs/common.py"]


def test_hash_changes_with_the_closure_only(package):
    before = code_hash(package, "crossclass.cmd")
    (package / "crossclass" / "unused.py").write_text("x = 1\n")
    code_hash.cache_clear()
    assert code_hash(package, "crossclass.cmd") == before
    (package / "crossclass" / "deep" / "leaf.py").write_text("def helper(): return 1\n")
    code_hash.cache_clear()
    imported_modules.cache_clear()
    assert code_hash(package, "crossclass.cmd") != before


def test_missing_entry_module_is_an_error(package):
    with pytest.raises(ModuleNotFoundError, match="crossclass.nope"):
        import_closure(package, "crossclass.nope")


def test_keyword_options_read_statically_through_reexports(package):
    net = package / "crossclass" / "nets" / "net.py"
    assert keyword_options(net, "build", skip=2) == ["width", "depth"]
    (package / "crossclass" / "nets" / "__init__.py").write_text(
        "from crossclass.nets.net import build\n")
    assert keyword_options(package / "crossclass" / "nets" / "__init__.py", "build", skip=2,
                           source_root=package) == ["width", "depth"]
    assert keyword_options(net, "missing") is None


def test_the_real_package_closures():
    """The figure command alone stays light; a figure's closure holds its own imports."""
    root = Path(__file__).resolve().parents[1] / "workflow"
    light = names(root, "crossclass.cli", "crossclass.commands.figure")
    assert not [n for n in light if n.startswith(("curvature", "linalg", "training"))], light
    assert "figures/fig5.py" in names(root, "crossclass.figures.fig6")
