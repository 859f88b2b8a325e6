"""Scanners into receiving: the real app on a real SQLite file, evdev's reader on pipes, pyserial on a pty.

The path under test is the one in production: reader -> the sink's writer thread -> router -> `record_scan` -> journal.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select

from hardware.evdev_reader import EvdevReader
from hardware.record import EventWriter, events_for_text
from hardware.replay import replay_events
from hardware.scan import UNKNOWN, ReaderState
from tests.conftest import Auth, make_app
from tests.factories import ActFactory
from tests.hardware.conftest import Bench, wait_until
from tests.hardware.test_serial_reader import Cable
from warehouse.cli.scanners import scanners_cli
from warehouse.db import Database
from warehouse.matching import ScanClass
from warehouse.models import Scan, Station
from warehouse.services import importing, receiving
from warehouse.station.bindings import BindingError, bind_scanner
from warehouse.station.scanners import ScannerStation, read_status, scanners_of, start_scanners
from warehouse.station.tray import TrayReason

KBD = "/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1950-event-kbd"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database with the demo users, copied for each test: migrating and hashing the demo
    passwords for every test would take most of this module's time."""
    folder = tmp_path_factory.mktemp("template")
    app = make_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    app.extensions["warehouse.db"].dispose()  # the last connection checkpoints the WAL into the file
    return folder / "warehouse.sqlite3"


@pytest.fixture
def sqlite_app(migrated: Path, tmp_path: Path) -> Iterator[Flask]:
    shutil.copy(migrated, tmp_path / "warehouse.sqlite3")
    app = make_app(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}", tmp_path)
    yield app
    app.extensions["warehouse.db"].dispose()


@pytest.fixture
def db(sqlite_app: Flask) -> Database:
    database: Database = sqlite_app.extensions["warehouse.db"]
    return database


@pytest.fixture
def act(db: Database, tmp_path: Path) -> tuple[int, ActFactory]:
    factory = ActFactory(pallets=1, boxes=2, blocks=2, packs=3)
    return importing.import_act(db, factory.write(tmp_path / "act.json")).act_id, factory


def start(app: Flask, bench: Bench, **scanners: object) -> ScannerStation:
    app.config["SCANNERS"] = {"poll_interval": 0.1, **scanners}
    return start_scanners(app, discover_devices=bench.discover, reader_factory=bench.factory, retry_interval=0.2)


@pytest.fixture
def station(sqlite_app: Flask, bench: Bench) -> Iterator[ScannerStation]:
    st = start(sqlite_app, bench)
    yield st
    st.stop()


def journal(db: Database, act_id: int) -> list[Scan]:
    with db.read() as s:
        return list(s.execute(select(Scan).where(Scan.act_id == act_id).order_by(Scan.id)).scalars())


def plugged(bench: Bench, station: ScannerStation, key: str = KBD) -> None:
    bench.plug(key)
    assert wait_until(lambda: any(s.device == key and s.state is ReaderState.RUNNING for s in station.statuses()))


def test_a_bound_scanners_scan_is_journaled_with_its_evidence(
    db: Database, act: tuple[int, ActFactory], bench: Bench, station: ScannerStation
) -> None:
    act_id, factory = act
    binding = bind_scanner(db, KBD, "dock-1", username="staff", name="HH-1950 #3")
    station.reload_bindings()
    station.router.open_act("dock-1", act_id)
    plugged(bench, station)
    block = factory.codes["block"][0]
    bench.scanners[KBD].send(events_for_text(block, start_time=time.time()))
    assert wait_until(lambda: len(journal(db, act_id)) == 1)
    [row] = journal(db, act_id)
    assert (row.raw, row.source, row.scan_class, row.credited) == (block, "evdev", ScanClass.MATCHED, 4)  # + 3 packs
    assert (row.scanner_id, row.user_id) == (binding.scanner_id, binding.user_id) and row.user_id is not None
    with db.read() as s:
        assert s.get(Station, row.station_id).name == "dock-1"  # type: ignore[union-attr]
    assert row.raw_events is not None
    [replayed] = replay_events(row.raw_events).scans  # the journal's evidence replays to the same code
    assert (replayed.text, replayed.terminator) == (block, "enter")
    assert receiving.act_summary(db, act_id).to_json()["credited"]["block"] == 1


def test_a_scan_cut_by_an_unplug_is_journaled_and_never_credited(
    db: Database, act: tuple[int, ActFactory], bench: Bench, station: ScannerStation
) -> None:
    act_id, factory = act
    bind_scanner(db, KBD, "dock-1")
    station.reload_bindings()
    station.router.open_act("dock-1", act_id)
    plugged(bench, station)
    block = factory.codes["block"][0]
    cut_at = block.index("\x1d93")  # "01…21…<GS>8005…" and the cable comes out before the check part
    w = EventWriter(start=time.time())
    w.type(block[:cut_at])
    bench.scanners[KBD].send(w.data())
    time.sleep(0.01)
    bench.unplug(KBD)
    assert wait_until(lambda: len(journal(db, act_id)) == 1)
    [row] = journal(db, act_id)
    assert row.raw == block[:cut_at] + UNKNOWN
    assert (row.scan_class, row.credited) == (ScanClass.INVALID, 0)
    assert row.raw_events is not None and len(row.raw_events) % 24 == 0
    assert receiving.act_summary(db, act_id).to_json()["credited"] == {"pallet": 0, "box": 0, "block": 0, "pack": 0}


def test_an_unbound_scanner_waits_in_the_tray_until_bound(
    sqlite_app: Flask, db: Database, act: tuple[int, ActFactory], bench: Bench
) -> None:
    act_id, factory = act
    sqlite_app.config["SCANNERS"] = {"poll_interval": 0.1}
    station = start_scanners(
        sqlite_app, discover_devices=bench.discover, reader_factory=bench.factory, reload_interval=0.0
    )  # bindings re-read before every scan
    try:
        station.router.open_act("dock-1", act_id)
        plugged(bench, station)
        bench.scanners[KBD].send(events_for_text(factory.codes["box"][0], start_time=time.time()))
        assert wait_until(lambda: len(station.router.tray()) == 1)
        [item] = station.router.tray()
        assert (item.reason, item.scan.device, item.scan.text) == (TrayReason.UNBOUND, KBD, factory.codes["box"][0])
        assert journal(db, act_id) == []  # never credited to a guess
        # bound from another shell, as a lead would: the running station honours it on the next scan
        result = CliRunner().invoke(
            scanners_cli,
            ["bind", KBD, "--station", "dock-1", "--name", "HH-1950 #3"],
            obj=ScriptInfo(create_app=lambda: sqlite_app),
        )
        assert result.exit_code == 0, result.stderr
        bench.scanners[KBD].send(events_for_text(factory.codes["box"][0], start_time=time.time()))
        assert wait_until(lambda: len(journal(db, act_id)) == 1)
    finally:
        station.stop()
    assert journal(db, act_id)[0].scan_class == ScanClass.MATCHED


def test_no_act_open_and_act_closed_meanwhile(
    db: Database, act: tuple[int, ActFactory], bench: Bench, station: ScannerStation
) -> None:
    act_id, factory = act
    bind_scanner(db, KBD, "dock-1")
    station.reload_bindings()
    plugged(bench, station)
    fake = bench.scanners[KBD]
    fake.send(events_for_text(factory.codes["pack"][0], start_time=time.time()))
    assert wait_until(lambda: len(station.router.tray()) == 1)
    assert station.router.tray()[0].reason is TrayReason.NO_ACT
    station.router.open_act("dock-1", act_id)
    receiving.close_act(db, act_id)  # receiving ended on another station
    fake.send(events_for_text(factory.codes["pack"][1], start_time=time.time()))
    assert wait_until(lambda: len(station.router.tray()) == 2)
    refused = station.router.tray()[1]
    assert refused.reason is TrayReason.REFUSED and "ended" in refused.detail
    assert station.router.act_for("dock-1") is None  # later scans no longer go there
    assert journal(db, act_id) == []


def test_unbound_scanners_can_belong_to_this_station(
    sqlite_app: Flask, db: Database, act: tuple[int, ActFactory], bench: Bench
) -> None:
    act_id, factory = act
    station = start(sqlite_app, bench, unbound="station")
    try:
        station.router.open_act(sqlite_app.config["STATION"], act_id)
        plugged(bench, station)
        bench.scanners[KBD].send(events_for_text(factory.codes["pack"][0], start_time=time.time()))
        assert wait_until(lambda: len(journal(db, act_id)) == 1)
    finally:
        station.stop()
    assert journal(db, act_id)[0].scanner_id is None


def test_four_scanners_at_once_every_scan_journaled_and_attributed(
    db: Database, act: tuple[int, ActFactory], bench: Bench, station: ScannerStation
) -> None:
    act_id, factory = act
    keys = [f"{KBD}-{i}" for i in range(4)]
    ids = {key: bind_scanner(db, key, "dock-1").scanner_id for key in keys}
    station.reload_bindings()
    station.router.open_act("dock-1", act_id)
    for key in keys:
        plugged(bench, station, key)
    packs = factory.codes["pack"]

    def scan_with(i: int) -> None:
        for pack in packs[i::4]:
            bench.scanners[keys[i]].send(events_for_text(pack, start_time=time.time()))

    senders = [threading.Thread(target=scan_with, args=(i,)) for i in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert wait_until(lambda: len(journal(db, act_id)) == len(packs), timeout=5)
    rows = journal(db, act_id)
    assert sorted(r.raw for r in rows) == sorted(packs)
    assert all(r.scanner_id == ids[keys[packs.index(r.raw) % 4]] for r in rows)
    assert receiving.act_summary(db, act_id).to_json()["credited"]["pack"] == len(packs)


def test_a_serial_scanner_through_discovery_keeps_gs(
    sqlite_app: Flask, db: Database, act: tuple[int, ActFactory], tmp_path: Path
) -> None:
    act_id, factory = act
    cable = Cable(tmp_path / "usb-Honeywell_1950g_COM-if00")
    cable.plug()
    sqlite_app.config["SCANNERS"] = {
        "dev_root": str(tmp_path / "dev"),
        "sys_root": str(tmp_path / "sys"),
        "serial": [{"path": str(cable.link), "terminators": ["CRLF", "CR"]}],
    }
    bind_scanner(db, f"serial:{cable.link}", "dock-1")
    station = start_scanners(sqlite_app)  # the real discovery and reader factory
    try:
        station.router.open_act("dock-1", act_id)
        assert wait_until(lambda: [s.state for s in station.statuses()] == [ReaderState.RUNNING])
        block = factory.codes["block"][1]
        cable.send(block.encode() + b"\r\n")
        assert wait_until(lambda: len(journal(db, act_id)) == 1)
    finally:
        station.stop()
        cable.unplug()
    [row] = journal(db, act_id)
    assert (row.raw, row.source, row.scan_class) == (block, "serial", ScanClass.MATCHED)
    assert row.raw_events == block.encode() + b"\r\n"


def test_list_shows_bindings_and_states_of_the_running_station(
    sqlite_app: Flask, db: Database, bench: Bench, station: ScannerStation
) -> None:
    bind_scanner(db, KBD, "dock-1", username="lead")
    bind_scanner(db, "serial:/dev/serial/by-id/usb-Gone-if00", "dock-2")
    station.reload_bindings()
    plugged(bench, station)
    assert scanners_of(sqlite_app) is station

    def written() -> bool:  # the station writes its status file from the reader's thread, a moment later
        return bool(read_status(sqlite_app.instance_path).get(KBD, {}).get("state") == "running")

    assert wait_until(written, timeout=5)
    result = CliRunner().invoke(scanners_cli, ["list", "--json"], obj=ScriptInfo(create_app=lambda: sqlite_app))
    assert result.exit_code == 0, result.stderr
    rows = {o["key"]: o for o in map(json.loads, result.stdout.splitlines())}
    # the bench's devices are not in sysfs: listed as bound scanners, with the running reader's state
    assert (rows[KBD]["station"], rows[KBD]["user"], rows[KBD]["state"]) == ("dock-1", "lead", "running")
    gone = rows["serial:/dev/serial/by-id/usb-Gone-if00"]
    assert (gone["kind"], gone["station"], gone["present"], gone["state"]) == ("serial", "dock-2", False, None)
    status = json.loads(Path(sqlite_app.instance_path, "scanners-status.json").read_text())
    assert status["pid"] == os.getpid() and status["devices"][KBD]["state"] == "running"


def test_bind_refuses_what_it_cannot_do(sqlite_app: Flask, db: Database) -> None:
    with pytest.raises(BindingError, match="no such user"):
        bind_scanner(db, KBD, "dock-1", username="nobody")
    with pytest.raises(BindingError, match="devices token"):
        bind_scanner(db, "api:TSD-07", "dock-1")
    alone = CliRunner().invoke(scanners_cli, ["bind", KBD, "--station", "dock-1"])
    assert alone.exit_code == 1 and "warehouse scanners bind" in alone.stderr


def test_readers_never_wait_on_a_busy_database_and_stop_writes_what_they_handed_over(
    sqlite_app: Flask, db: Database, act: tuple[int, ActFactory], bench: Bench
) -> None:
    act_id, factory = act
    bind_scanner(db, KBD, "dock-1")
    station = start(sqlite_app, bench)
    packs = factory.codes["pack"]
    other = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    try:
        station.reload_bindings()
        station.router.open_act("dock-1", act_id)
        plugged(bench, station)
        reader = station.manager.readers()[KBD]
        assert isinstance(reader, EvdevReader)
        other.execute("BEGIN IMMEDIATE")  # another station holds the write lock
        for pack in packs:
            bench.scanners[KBD].send(events_for_text(pack, start_time=time.time()))
        # every scan decoded and handed over while the writer still waits for the lock
        assert wait_until(lambda: reader.scans == len(packs))
        assert journal(db, act_id) == []
    finally:
        other.execute("COMMIT")
        other.close()
        station.stop()  # at once: what is queued is written before stop returns
    assert [r.raw for r in journal(db, act_id)] == packs  # in the order scanned


def test_stop_mode_holds_a_hardware_scanner_until_it_or_the_screen_confirms(
    sqlite_app: Flask, db: Database, act: tuple[int, ActFactory], bench: Bench
) -> None:
    """Issue 16: the station's stop mode (WAREHOUSE_STOP_MODE) holds its hardware scanners too. After an
    error from a scanner, that scanner's scans are journaled as held (counted nowhere, to be scanned again)
    while another scanner goes on; the receiving screen shows which scanner is stopped and why; the
    scanner's own #WH:CONFIRM, or Enter on the station's screen, lets it go on."""
    act_id, factory = act
    sqlite_app.config.update(STOP_MODE=True, STATION="dock-1")  # the screen is dock-1's
    other = KBD.replace("1950", "1952")
    binding = bind_scanner(db, KBD, "dock-1", name="HH-1950 #3")
    bind_scanner(db, other, "dock-1", name="HH-1952 #1")
    station = start(sqlite_app, bench)
    try:
        station.router.open_act("dock-1", act_id)
        plugged(bench, station)
        plugged(bench, station, other)

        def send(key: str, text: str, rows: int) -> Scan:
            bench.scanners[key].send(events_for_text(text, start_time=time.time()))
            assert wait_until(lambda: len(journal(db, act_id)) == rows)
            return journal(db, act_id)[-1]

        surplus = factory.codes["pack"][0][:14] + "ZZZZZZZ" + factory.codes["pack"][0][21:]
        assert send(KBD, surplus, 1).scan_class == ScanClass.SURPLUS
        held = send(KBD, factory.codes["block"][0], 2)
        assert (held.scan_class, held.credited, held.scanner_id) == (ScanClass.HELD, 0, binding.scanner_id)
        assert send(other, factory.codes["block"][1], 3).scan_class == ScanClass.MATCHED  # another scanner goes on

        client = sqlite_app.test_client()
        auth = Auth(client)
        auth.login("staff")
        page = client.get(f"/acts/{act_id}").get_data(as_text=True)
        assert 'data-testid="stops"' in page and "HH-1950 #3" in page and surplus in page
        assert "HH-1952" not in page.split('data-testid="stops"')[1].split("</div>")[0]

        assert send(KBD, "#WH:CONFIRM", 4).reason == "confirmed"  # the scanner's own confirm
        assert send(KBD, factory.codes["block"][0], 5).scan_class == ScanClass.MATCHED  # scanned again: counted

        assert send(KBD, surplus, 6).scan_class == ScanClass.DUPLICATE  # another error: stopped again
        assert send(KBD, factory.codes["block"][2], 7).scan_class == ScanClass.HELD
        token = auth.csrf(f"/acts/{act_id}")
        answer = client.post(f"/acts/{act_id}/scans", data={"code": "#WH:CONFIRM", "csrf_token": token})
        assert answer.status_code == 303  # Enter on the station's screen confirms for its scanners
        assert 'data-testid="stops"' not in client.get(f"/acts/{act_id}").get_data(as_text=True)
        assert send(KBD, factory.codes["block"][2], 9).scan_class == ScanClass.MATCHED
    finally:
        station.stop()
    rows = journal(db, act_id)
    assert [r.scan_class for r in rows].count(ScanClass.HELD) == 2
    assert receiving.act_summary(db, act_id).to_json()["credited"]["block"] == 3  # each held block counted once
