"""Layers point one way (docs/architecture.md): each rule read from the source with `ast`, so an import
inside a function counts as much as one at the top. hardware/ and the blueprints have their own checks
(tests/hardware/test_layers.py, tests/web/test_layers.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = [
    "warehouse/codes.py",
    "warehouse/code_errors.py",
    "warehouse/layouts.py",
    "warehouse/identifiers.py",
    "warehouse/messages.py",
    "warehouse/vocab.py",
    "warehouse/matching.py",
    "warehouse/canonical.py",
    "warehouse/scan_limits.py",
    "warehouse/transfer_act",
    "warehouse/signing",
    "warehouse/operator/outbox.py",
    "warehouse/operator/decision.py",
    "reports",
]
WEB = ("flask", "flask_babel", "flask_htmx", "flask_wtf", "jinja2")  # werkzeug.security hashes passwords: allowed
DATABASE = ("sqlalchemy", "psycopg", "sqlite3", "alembic")
EDGES = ("warehouse.web", "warehouse.cli", "warehouse.factory", "warehouse.station")


def _modules(*paths: str) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        path = ROOT / p
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == r or name.startswith(r + ".") for r in roots)


@pytest.mark.parametrize("path", _modules(*PURE), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_pure_core_imports_neither_flask_nor_the_database(path: Path) -> None:
    wrong = [n for n in _imports(path) if _under(n, WEB + DATABASE + EDGES + ("warehouse.services",))]
    assert wrong == []


@pytest.mark.parametrize("path", _modules("warehouse/services"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_services_leave_flask_and_the_edges_alone(path: Path) -> None:
    assert [n for n in _imports(path) if _under(n, WEB + EDGES)] == []


@pytest.mark.parametrize("path", _modules("reports"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_reports_use_only_the_vocabulary_and_the_words_of_the_application(path: Path) -> None:
    allowed = ("warehouse.messages", "warehouse.vocab", "warehouse.identifiers")
    assert [n for n in _imports(path) if _under(n, ("warehouse",)) and not _under(n, allowed)] == []


OPERATOR = [p for p in _modules("warehouse/operator") if "emulator" not in p.parts]


@pytest.mark.parametrize("path", OPERATOR, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_operator_adapter_imports_neither_flask_nor_the_database(path: Path) -> None:
    wrong = [n for n in _imports(path) if _under(n, WEB + DATABASE + EDGES + ("warehouse.services",))]
    assert wrong == []


@pytest.mark.parametrize("path", _modules("warehouse/operator/emulator"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_emulator_is_a_program_of_its_own(path: Path) -> None:
    """Flask and its own SQLite file (sqlite3) are allowed; the station's database and services are not."""
    station = (
        "sqlalchemy",
        "psycopg",
        "alembic",
        "warehouse.services",
        "warehouse.web",
        "warehouse.db",
        "warehouse.models",
        "warehouse.station",
        "warehouse.cli",
        "warehouse.factory",
    )
    assert [n for n in _imports(path) if _under(n, station)] == []


def test_the_check_sees_a_late_import() -> None:
    sample = ROOT / "tests" / "test_layers.py"
    assert "ast" in _imports(sample)
