"""`warehouse demo --operator`'s emulator: a real child process seeded with the demo act, the station logged in,
one sync over HTTP imports it, and the emulator stops with its owner."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from tests.conftest import make_app
from warehouse.cli.operator import operator_cli
from warehouse.db import get_db
from warehouse.services import demo_operator


def _sync(app: Flask) -> list[dict[str, object]]:
    result = app.test_cli_runner().invoke(operator_cli, ["sync", "--json"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_the_demo_act_waits_at_the_emulator_and_one_sync_imports_it(sqlite_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"  # make_app's instance folder: the session login keeps is the station's
    operator = demo_operator.start(instance)
    try:
        assert operator.url.startswith("http://127.0.0.1:") and operator.url.endswith("/api/v3/true-api")
        session = demo_operator.login(instance, operator)
        assert session.participant_bin == operator.company_bin
        env = operator.env()
        station = make_app(
            sqlite_url,
            tmp_path,
            OPERATOR_URL=env["WAREHOUSE_OPERATOR_URL"],
            OPERATOR_PROFILE=env["WAREHOUSE_OPERATOR_PROFILE"],
            COMPANY_BIN=env["WAREHOUSE_COMPANY_BIN"],
        )
        try:
            touched = _sync(station)
            assert [(t["number"], t["direction"], t["state"]) for t in touched] == [
                (demo_operator.DEMO_OPERATOR_ACT, "incoming", "imported")
            ]
            assert _sync(station) == []  # imported once
        finally:
            get_db(station).dispose()
    finally:
        operator.stop()
    assert operator.process.poll() is not None
