"""The web layer points one way: blueprints parse, call a service, render. They open no database session,
import neither SQLAlchemy nor the app factory, and call no private service function."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "warehouse" / "web"
MODULES = sorted(WEB.glob("*.py"))
# Being made public in the receiving service; the one call left until it is.
KNOWN_PRIVATE = {"receiving._result_of"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_blueprints_leave_the_database_to_the_services(path: Path) -> None:
    text = path.read_text()
    assert "sqlalchemy" not in text
    assert not re.search(r"\.(read|write)\(\) as ", text), "a session opened in the web layer"
    assert "warehouse.factory" not in text
    private = set(re.findall(r"\b(\w+\._[a-z]\w*)\(", text)) - KNOWN_PRIVATE
    services = {"receiving", "shipping", "stock", "service", "review", "audit", "users", "devices", "importing"}
    assert not {call for call in private if call.split(".")[0] in services}


def test_the_blueprints_import_without_the_factory() -> None:
    code = (
        "import sys, warehouse.web, warehouse.web.api, warehouse.web.receive, warehouse.web.shipping; "
        "assert 'warehouse.factory' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
