"""The package's shape: one direction of flow, no import cycles, block types in one place."""

from __future__ import annotations

import ast
from pathlib import Path

from archspec.blocks import block_types
from tests.conftest import ROOT

PACKAGE = ROOT / "archspec"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules imported when `path` is imported (not in functions or `if TYPE_CHECKING:`)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
IMPORTS = {
    name: {target for target in top_level_imports(path) if target in MODULES} - {name}
    for name, path in MODULES.items()
}


def test_no_module_of_archspec_imports_itself_through_others():
    # A package's own __init__ importing its submodules is how a package is built, not a cycle.
    edges = {
        name: {t for t in targets if not t.startswith(f"{name}.")}
        for name, targets in IMPORTS.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, "import cycle: " + " -> ".join([*visiting, name])
        if name in done:
            return
        visiting.append(name)
        for target in sorted(edges[name]):
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)


def test_only_the_keras_backend_imports_keras_at_import_time():
    importers = {
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(t == "keras" or t.startswith("keras.") for t in top_level_imports(path))
    }
    assert importers == {"archspec.backends.keras"}


def test_block_types_are_named_only_in_their_own_modules():
    """No hand-kept list of block types: code outside archspec/blocks/ derives them."""
    names = set(block_types())
    for path in PACKAGE.rglob("*.py"):
        if path.is_relative_to(PACKAGE / "blocks"):
            continue
        strings = {
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert not names & strings, f"{path.relative_to(ROOT)} names block types {names & strings}"
