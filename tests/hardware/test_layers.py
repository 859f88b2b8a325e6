"""`hardware/` is drivers only: no module of it imports the application (`warehouse`, `reports`).

Imports are read from the source with `ast`, so an import inside a function counts as much as one at the
top, and a module that is never imported by the tests is still checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"
APPLICATION = ("warehouse", "reports")


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import in `tree`, at any depth; a relative import as `.name`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def test_the_check_sees_imports_inside_functions() -> None:
    tree = ast.parse("def f():\n    from warehouse.db import Database\n    import warehouse.models as m\n")
    assert imported(tree) == [(2, "warehouse.db"), (3, "warehouse.models")]


@pytest.mark.parametrize("path", sorted(HARDWARE.glob("**/*.py")), ids=lambda p: p.name)
def test_no_hardware_module_imports_the_application(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    wrong = [f"{path.name}:{line}: {module}" for line, module in imported(tree) if module.split(".")[0] in APPLICATION]
    assert wrong == []
