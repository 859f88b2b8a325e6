"""The instance folder and the SQLite database are the owner's only: they name people and what they did."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.conftest import make_app
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.services import importing


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_station_keeps_its_files_to_its_owner(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which left the database 0644
    try:
        db_file = tmp_path / "data" / "warehouse.sqlite3"
        app = make_app(f"sqlite:///{db_file}", tmp_path)
        importing.import_act(get_db(app), ActFactory().write(tmp_path / "act.json"))  # writes: a WAL appears
        instance = Path(app.instance_path)
        assert _mode(instance) == 0o700
        for file in (db_file, db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm")):
            assert file.exists() and _mode(file) == 0o600, file
        get_db(app).dispose()
    finally:
        os.umask(old)


def test_files_made_before_lose_group_and_others_rights(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    db_file = tmp_path / "warehouse.sqlite3"
    app = make_app(f"sqlite:///{db_file}", tmp_path)
    get_db(app).dispose()
    db_file.chmod(0o644)
    instance.chmod(0o755)
    again = make_app(f"sqlite:///{db_file}", tmp_path)
    assert _mode(db_file) == 0o600 and _mode(instance) == 0o700
    get_db(again).dispose()
