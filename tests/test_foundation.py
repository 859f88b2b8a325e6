"""The base: configuration, SQLite durability settings, secret key, vendored htmx."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from tests.conftest import make_app
from warehouse import config
from warehouse.db import get_db

ROOT = Path(__file__).resolve().parent.parent


def test_sqlite_is_durable_and_strict(sqlite_app: Flask) -> None:
    with get_db(sqlite_app).engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    # synchronous=2 is FULL: an acknowledged scan survives a power cut, not only a crash.
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


def test_sqlite_refuses_a_dangling_reference(sqlite_app: Flask) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), get_db(sqlite_app).write() as s:
        s.execute(
            text(
                "INSERT INTO scanners (device_key, kind, name, station_id, registered_at) "
                "VALUES ('x', 'api', '', 999, '2026-01-01')"
            )
        )


def test_default_database_lives_in_the_instance_folder(tmp_path: Path, monkeypatch: object) -> None:
    cfg = config.load(tmp_path / "inst")
    assert cfg["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'warehouse.sqlite3'}"


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = config.load(tmp_path)["SECRET_KEY"]
    second = config.load(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "the key file must be private"


def test_secret_key_from_environment_wins(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WAREHOUSE_SECRET_KEY", "from-env")
    assert config.load(tmp_path)["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_vendored_htmx_matches_its_recorded_sha256() -> None:
    vendor = ROOT / "static" / "vendor"
    lines = (vendor / "SHA256SUMS").read_text().split("\n")
    recorded = dict(reversed(line.split()) for line in lines if line.strip())
    assert set(recorded) == {"htmx.min.js", "sse.min.js"}
    for name, digest in recorded.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest
    assert 'version:"2.0.11"' in (vendor / "htmx.min.js").read_text()


def test_app_starts_twice_on_the_same_database(sqlite_url: str, tmp_path: Path) -> None:
    # The app upgrades the schema on start; a second start on an upgraded database is a no-op.
    make_app(sqlite_url, tmp_path)
    app2 = make_app(sqlite_url, tmp_path)
    with get_db(app2).read() as s:
        assert s.execute(text("SELECT count(*) FROM users")).scalar() == 3
