"""A big import never stops the scanners: the write lock is taken in short steps, never for the whole file.

SQLite has one writer at a time. An import used to hold the write lock while it read the whole file, so
every scan of every other act waited for it (a full truck: 10 s), and one waiting longer than the busy
timeout failed with "database is locked". These tests scan another act while a big import runs.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import make_app
from warehouse import db as db_module
from warehouse import transfer_act
from warehouse.db import Database, get_db
from warehouse.services import importing
from warehouse.services.receiving import ScanInput, record_scan
from warehouse.vocab import ScanClass

BIG = {"pallets": 8, "boxes_per_pallet": 30, "blocks_per_box": 50, "packs_per_block": 10}  # 132,248 codes
SCANNER_BUSY_TIMEOUT_MS = 1_000  # a scan that waits longer than this fails with "database is locked"


def _write(path: Path, number: str, seed: int, **shape: int) -> list[transfer_act.ActLine]:
    header, generated = transfer_act.generate_act(seed=seed, **shape)
    lines = list(generated)
    transfer_act.write_json(path, dataclasses.replace(header, number=number), iter(lines))
    return lines


@pytest.fixture
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Database]:
    """The importer's database and the scanners' one, on the same SQLite file: the scanners' busy timeout
    is short, so a scan that waits for the write lock too long fails as it would after 30 s."""
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    app = make_app(url, tmp_path)
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", SCANNER_BUSY_TIMEOUT_MS)
    scanners = Database(url)
    yield get_db(app), scanners
    scanners.dispose()
    get_db(app).dispose()


def test_scans_of_another_act_go_on_while_a_big_import_runs(station: tuple[Database, Database], tmp_path: Path) -> None:
    db, scanners = station
    small = _write(
        tmp_path / "small.json", "SMALL", 1, pallets=1, boxes_per_pallet=2, blocks_per_box=50, packs_per_block=10
    )
    open_act = importing.import_act(db, tmp_path / "small.json").act_id
    packs = [line.code for line in small if line.level is transfer_act.Level.PACK]
    _write(tmp_path / "big.json", "BIG", 2, **BIG)

    done = threading.Event()
    outcome: dict[str, object] = {}

    def big_import() -> None:
        try:
            outcome["result"] = importing.import_act(db, tmp_path / "big.json")
        except BaseException as e:  # reported by the test below
            outcome["error"] = e
        finally:
            done.set()

    waits: list[float] = []
    failures: list[str] = []
    thread = threading.Thread(target=big_import)
    started = time.perf_counter()
    thread.start()
    i = 0
    while not done.is_set() and i < len(packs):
        t0 = time.perf_counter()
        try:
            result = record_scan(scanners, open_act, ScanInput(raw=packs[i], source="api", station="dock-2"))
            assert result.scan_class == ScanClass.MATCHED
        except Exception as e:  # "database is locked" is the defect this test is about
            failures.append(f"{type(e).__name__}: {e}")
        waits.append(time.perf_counter() - t0)
        i += 1
        time.sleep(0.02)  # a scanner at 50 scans a second
    thread.join()
    import_seconds = time.perf_counter() - started
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert isinstance(result, importing.ImportResult) and result.codes == 132_248
    assert not failures, failures[:3]
    assert len(waits) >= 10, f"the import took {import_seconds:.1f} s, only {len(waits)} scans ran"
    # The import took seconds; no scan waited for more than a few of its short steps.
    assert max(waits) < 0.5, f"a scan waited {max(waits):.2f} s during a {import_seconds:.1f} s import"
    with scanners.read() as s:
        journaled = s.execute(text("SELECT count(*) FROM scans WHERE act_id = :a"), {"a": open_act}).scalar_one()
    assert journaled == len(waits)
