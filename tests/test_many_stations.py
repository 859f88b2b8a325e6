"""Several station processes on one PostgreSQL (issue 19): start-up upgrades that never race, one act
scanned from several processes at once with nothing credited twice, a screen at one station hearing a scan
made at another, and a dropped database connection that loses no scan.

Every station is a real process (`warehouse run` or `warehouse db upgrade`) on the suite's throwaway cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pg import Cluster
from warehouse import migrate

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres

# Each process imports the app, then waits for the same moment so that their upgrades overlap.
UPGRADE_AT = (
    "import sys, time; from warehouse.factory import create_app; from warehouse.db import get_db; "
    "from warehouse import migrate; app = create_app({'AUTO_MIGRATE': False}); "
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time())); migrate.upgrade(get_db(app).engine); print('ok')"
)


def test_four_stations_upgrading_an_empty_database_at_once_all_start(pg_cluster: Cluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    at = time.time() + 6.0  # after each has imported the app, on a busy 2-core machine
    children = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AT, str(at)],
            env={
                **os.environ,
                "WAREHOUSE_DATABASE_URL": url,
                "WAREHOUSE_INSTANCE_PATH": str(tmp_path / f"station-{k}"),
                "WAREHOUSE_SECRET_KEY": "upgrade-test",
                "WAREHOUSE_BACKUP_DIR": "off",
            },
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for k in range(4)
    ]
    outcomes = [child.communicate(timeout=120) for child in children]
    failed = [err.decode()[-800:] for (out, err), child in zip(outcomes, children, strict=True) if child.returncode]
    assert not failed, failed
    engine = create_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
            assert "scans" in inspect(conn).get_table_names()
    finally:
        engine.dispose()
