"""Group commit: scans that gather while the journal writes go in together, and change nothing else.

`record_scans` must classify and credit exactly as `record_scan` one scan at a time; the sink must write
what gathered in one transaction, keep arrival order, and lose nothing when a batch fails.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from hardware.scan import Scan
from tests.conftest import make_app
from tests.factories import GS, ActFactory, gtin, pack
from tests.hardware.conftest import wait_until
from warehouse.db import Database
from warehouse.models import Scan as ScanRow
from warehouse.services import importing, receiving
from warehouse.services.receiving import ScanInput, ScanResult, record_scans
from warehouse.station import sink as sink_module
from warehouse.station.routing import Binding, Route, StationRouter
from warehouse.station.sink import ReceivingSink
from warehouse.station.tray import TrayReason

KBD = "/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1950-event-kbd"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ActFactory, int]:
    """A migrated database with the demo users and two acts (ours, and one more), copied for each database
    a test needs."""
    folder = tmp_path_factory.mktemp("template")
    app = make_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    db: Database = app.extensions["warehouse.db"]
    factory = ActFactory(pallets=1, boxes=2, blocks=2, packs=3)
    act_id = importing.import_act(db, factory.write(folder / "act.json")).act_id
    other = ActFactory(number="ТА-000124", start=1000, pallets=1, boxes=1, blocks=1, packs=1)
    assert importing.import_act(db, other.write(folder / "other.json")).act_id == act_id + 1
    db.dispose()
    return folder / "warehouse.sqlite3", factory, act_id


@pytest.fixture
def databases(template: tuple[Path, ActFactory, int], tmp_path: Path) -> Iterator[list[Database]]:
    made = []
    for name in ("a", "b"):
        shutil.copy(template[0], tmp_path / f"{name}.sqlite3")
        made.append(Database(f"sqlite:///{tmp_path / name}.sqlite3"))
    yield made
    for db in made:
        db.dispose()


def journal_rows(db: Database, act_id: int) -> list[tuple[object, ...]]:
    """The journal, without what differs between two runs (the clock time a duplicate's message quotes)."""
    with db.read() as s:
        rows = s.execute(select(ScanRow).where(ScanRow.act_id == act_id).order_by(ScanRow.id)).scalars()
        return [
            (
                r.raw,
                r.scan_class,
                r.reason,
                {k: v for k, v in (r.detail or {}).items() if k != "time"},
                r.credited,
                r.scanner_id,
                r.station_id,
                r.act_code_id,
            )
            for r in rows
        ]


def test_a_batch_classifies_and_credits_as_one_scan_at_a_time(
    template: tuple[Path, ActFactory, int], databases: list[Database]
) -> None:
    _, factory, act_id = template
    block, box = factory.codes["block"][0], factory.codes["box"][1]
    stranger = pack(gtin(4242), 1)  # a product the act does not hold
    raws = [
        block,
        factory.codes["pack"][0],  # matched; then a pack inside it: already counted
        factory.codes["pack"][4],
        factory.codes["pack"][4],  # matched, then the same pack again
        stranger,
        stranger,
        "not a code",
        block.replace(GS, ""),  # wrong product twice, invalid, GS repaired
        "#WH:OPEN",
        box,
        "#WH:UNDO",  # the box opened, not counted; undo (the last counted pack)
        "#WH:FULL_CHECK",
        factory.codes["box"][0],
        "#WH:TRUSTED",  # full check opens a box too
        box,
        factory.codes["pack"][-1],
    ]  # a box credits its rest; a pack of it is then a duplicate
    inputs = [ScanInput(raw=r, source="evdev", station="dock-1", client_scan_id=f"t:{i}") for i, r in enumerate(raws)]
    one_db, batch_db = databases
    one = [receiving.record_scan(one_db, act_id, i) for i in inputs]
    batch = record_scans(batch_db, act_id, inputs[:3]) + record_scans(batch_db, act_id, inputs[3:])
    assert {"command", "matched", "duplicate", "reversed"} <= {r.scan_class.value for r in one}
    assert [r.scan_class for r in batch] == [r.scan_class for r in one]
    assert [(r.credited, r.outcome.reason, r.kind) for r in batch] == [
        (r.credited, r.outcome.reason, r.kind) for r in one
    ]
    assert journal_rows(batch_db, act_id) == journal_rows(one_db, act_id)
    assert receiving.act_summary(batch_db, act_id).to_json() == receiving.act_summary(one_db, act_id).to_json()
    again = record_scans(batch_db, act_id, [inputs[0], inputs[0]])  # retried: the first result, not a new row
    assert all(r.replayed and r.scan_id == batch[0].scan_id for r in again)
    assert len(journal_rows(batch_db, act_id)) == len(raws)


def test_a_closed_act_refuses_the_whole_batch(
    template: tuple[Path, ActFactory, int], databases: list[Database]
) -> None:
    _, factory, act_id = template
    db = databases[0]
    receiving.close_act(db, act_id)
    with pytest.raises(receiving.ReceivingError) as refused:
        record_scans(db, act_id, [ScanInput(raw=c) for c in factory.codes["pack"][:2]])
    assert refused.value.reason == "act_not_open"
    assert journal_rows(db, act_id) == []


def test_end_receiving_mid_batch_is_the_last_scan_recorded(
    template: tuple[Path, ActFactory, int], databases: list[Database]
) -> None:
    _, factory, act_id = template
    db = databases[0]
    packs = factory.codes["pack"]
    results = record_scans(db, act_id, [ScanInput(raw=r, station="dock-1") for r in [packs[0], "#WH:CLOSE", packs[1]]])
    assert [r.outcome.reason.value for r in results] == ["credited", "closing"]  # the third is left to the caller
    assert receiving.act_summary(db, act_id).status == "closed"
    assert [r[0] for r in journal_rows(db, act_id)] == [packs[0], "#WH:CLOSE"]

    sink, router, seen = sink_for(databases[1], act_id)  # through the scanners: the rest meets a closed act
    with busy(databases[1]):
        sink(scans_of([packs[2]])[0])
        assert wait_until(lambda: sink.backlog == 0)
        for scan in scans_of([packs[0], "#WH:CLOSE", packs[1]]):
            sink(scan)
    assert sink.flush()
    assert [s.text for s, _ in seen] == [packs[2], packs[0], "#WH:CLOSE"]
    assert [(i.reason, i.scan.text) for i in router.tray()] == [(TrayReason.REFUSED, packs[1])]


class Transactions:
    """Counts committed write transactions on a database's connections."""

    def __init__(self, db: Database) -> None:
        self.count = 0

        @event.listens_for(db.engine, "commit")
        def committed(conn: Connection) -> None:
            if conn.get_execution_options().get("warehouse_write"):
                self.count += 1


def scans_of(codes: list[str], device: str = KBD) -> list[Scan]:
    return [Scan(c, device, "evdev", "enter", b"", 2, datetime.now(UTC)) for c in codes]


def sink_for(
    db: Database, act_id: int, **kwargs: object
) -> tuple[ReceivingSink, StationRouter, list[tuple[Scan, ScanResult]]]:
    router = StationRouter()
    router.set_bindings({KBD: Binding("dock-1")})
    router.open_act("dock-1", act_id)
    seen: list[tuple[Scan, ScanResult]] = []
    sink = ReceivingSink(db, router, on_result=lambda scan, result: seen.append((scan, result)), **kwargs)  # type: ignore[arg-type]
    return sink, router, seen


@contextmanager
def busy(db: Database) -> Iterator[None]:
    """Another station holds the database's write lock: the journal's writer waits on its first batch while
    the next scans gather behind it."""
    other = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
        time.sleep(0.2)
    finally:
        other.execute("COMMIT")
        other.close()


def test_scans_that_gather_while_the_database_is_busy_are_written_together(
    template: tuple[Path, ActFactory, int], databases: list[Database]
) -> None:
    _, factory, act_id = template
    db = databases[0]
    transactions = Transactions(db)
    sink, router, seen = sink_for(db, act_id)
    packs = factory.codes["pack"]
    first, *rest = scans_of(packs)
    with busy(db):
        sink(first)
        assert wait_until(lambda: sink.backlog == 0)  # taken: the writer waits for the lock with it
        for scan in rest:
            sink(scan)
        time.sleep(0.1)
        assert sink.backlog == len(rest)
    assert sink.flush()
    assert transactions.count == 2  # the first scan alone, then all that gathered in one transaction
    rows = journal_rows(db, act_id)
    assert [r[0] for r in rows] == packs and {r[1] for r in rows} == {"matched"}  # arrival order, each its row
    assert [s.text for s, _ in seen] == packs and router.tray() == []


def test_a_batch_that_fails_is_recorded_one_scan_at_a_time(
    template: tuple[Path, ActFactory, int], databases: list[Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, factory, act_id = template
    db = databases[0]

    def broken(*args: object, **kwargs: object) -> list[ScanResult]:
        raise RuntimeError("a bug in the batch path")

    monkeypatch.setattr(sink_module, "record_scans", broken)
    sink, router, seen = sink_for(db, act_id)
    blocks = factory.codes["block"]
    first, *rest = scans_of(blocks)
    with busy(db):
        sink(first)  # written alone; the next three gather and fail together
        assert wait_until(lambda: sink.backlog == 0)
        for scan in rest:
            sink(scan)
    assert sink.flush()
    assert [r[0] for r in journal_rows(db, act_id)] == blocks  # none lost, in order
    assert len(seen) == len(blocks) and router.tray() == []


def test_a_refused_batch_goes_to_the_tray(template: tuple[Path, ActFactory, int], databases: list[Database]) -> None:
    _, factory, act_id = template
    db = databases[0]
    sink, router, seen = sink_for(db, act_id)
    router.bind("demo-scanner", Binding("dock-2"))
    router.open_act("dock-2", act_id + 1)  # another act, still open
    receiving.close_act(db, act_id)  # receiving of ours ended on another station
    with busy(db):
        sink(scans_of(["0" * 18], device="demo-scanner")[0])  # written alone, to the other act
        assert wait_until(lambda: sink.backlog == 0)
        for scan in scans_of(factory.codes["pack"][:2]):  # together, to the closed act
            sink(scan)
    assert sink.flush()
    assert [i.reason for i in router.tray()] == [TrayReason.REFUSED, TrayReason.REFUSED], router.tray()
    assert "ended" in router.tray()[0].detail
    assert router.act_for("dock-2") == act_id + 1 and router.act_for("dock-1") is None and len(seen) == 1


def test_a_batch_on_each_database(db: Database, tmp_path: Path) -> None:
    """SQLite and PostgreSQL: a code twice in one batch, a retried batch, the tallies."""
    factory = ActFactory(number="ТА-000777", start=5000, pallets=1, boxes=1, blocks=1, packs=2)
    act_id = importing.import_act(db, factory.write(tmp_path / "act.json")).act_id
    block, first_pack = factory.codes["block"][0], factory.codes["pack"][0]
    inputs = [
        ScanInput(raw=c, station="dock-1", client_scan_id=f"pg:{i}")
        for i, c in enumerate([first_pack, block, block, "junk"])
    ]
    results = record_scans(db, act_id, inputs)
    assert [r.scan_class.value for r in results] == ["matched", "matched", "duplicate", "invalid"]
    assert [r.credited for r in results] == [1, 4, 0, 0]  # the block, its other pack, then its box and pallet
    assert all(r.replayed for r in record_scans(db, act_id, inputs))
    summary = receiving.act_summary(db, act_id).to_json()
    assert summary["credited"]["pack"] == 2 and summary["scans"] == {"duplicate": 1, "invalid": 1, "matched": 2}


def test_the_input_keeps_the_moment_the_scanner_sent_its_terminator() -> None:
    sent = datetime(2026, 3, 2, 9, 15, 7, 250_000, tzinfo=UTC)
    scan = Scan("0104600", KBD, "evdev", "enter", b"", 2, sent)
    assert sink_module.scan_input(scan, Route(1, "dock-1", None, None)).received_at == sent


def test_close_writes_what_is_queued_and_takes_no_more(
    template: tuple[Path, ActFactory, int], databases: list[Database], caplog: pytest.LogCaptureFixture
) -> None:
    _, factory, act_id = template
    db = databases[0]
    sink, router, seen = sink_for(db, act_id)
    first, *rest = scans_of(factory.codes["pack"][:4])
    with busy(db):
        sink(first)
        for scan in rest:
            sink(scan)
    assert sink.close()
    assert [r[0] for r in journal_rows(db, act_id)] == factory.codes["pack"][:4]
    late = scans_of([factory.codes["pack"][4]])[0]
    sink(late)  # the station stopped: logged, not recorded
    assert sink.flush(0.2) and len(journal_rows(db, act_id)) == 4
    assert "not recorded" in caplog.text and router.tray() == [] and len(seen) == 4
