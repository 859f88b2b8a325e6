"""Several station processes on one PostgreSQL (issue 19): start-up upgrades that never race, one act
scanned from several processes at once with nothing credited twice, a screen at one station hearing a scan
made at another, and a dropped database connection that loses no scan.

Every station is a real process (`warehouse run` or `warehouse db upgrade`) on the suite's throwaway cluster.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from hardware.config import ScannerConfig
from hardware.scan import Scan as HwScan
from tests import served
from tests.conftest import Auth, LiveServer, make_app
from tests.factories import ActFactory
from tests.pg import Cluster
from tests.web.test_receiving_live import Stream, last
from warehouse import migrate
from warehouse.db import Database, get_db
from warehouse.models import Scan, Station
from warehouse.services import devices, importing, receiving
from warehouse.services.users import authenticate
from warehouse.station.bindings import bind_scanner
from warehouse.station.routing import Binding, StationRouter
from warehouse.station.scanners import EXTENSION, ScannerStation
from warehouse.station.sink import ReceivingSink
from warehouse.vocab import Level, ScanClass

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres

# Each process imports the app, says so, then waits for the go that all get at once: their upgrades overlap.
UPGRADE_AT = (
    "import sys; from warehouse.factory import create_app; from warehouse.db import get_db; "
    "from warehouse import migrate; app = create_app({'AUTO_MIGRATE': False}); "
    "print('ready', flush=True); sys.stdin.readline(); migrate.upgrade(get_db(app).engine); print('ok')"
)


def test_four_stations_upgrading_an_empty_database_at_once_all_start(pg_cluster: Cluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AT],
            env={
                **os.environ,
                "WAREHOUSE_DATABASE_URL": url,
                "WAREHOUSE_INSTANCE_PATH": str(tmp_path / f"station-{k}"),
                "WAREHOUSE_SECRET_KEY": "upgrade-test",
                "WAREHOUSE_BACKUP_DIR": "off",
            },
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for k in range(4)
    ]
    # once every one has imported the app (a fixed 6 s wait did this before), all are told to go at once
    for child in children:
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline() == b"ready\n", child.stderr.read()
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
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


def _stations_on(
    pg_cluster: Cluster, folder: Path, n: int, **act: int
) -> tuple[served.Prepared, list[served.Prepared]]:
    """A PostgreSQL warehouse with an act, and `n` stations dock-1 … dock-n on it, each with its own handheld
    token and instance folder (the same secret key: one login works at every station, as behind one proxy)."""
    prepared = served.prepare(folder, url=pg_cluster.new_database(), **act)
    db = Database(prepared.env["WAREHOUSE_DATABASE_URL"])
    docks = []
    try:
        for k in range(1, n + 1):
            with db.write() as s:
                token = devices.issue_token(s, f"TSD-{k}", f"dock-{k}", authenticate(s, "staff", "staff"))
            env = {
                **prepared.env,
                "WAREHOUSE_STATION": f"dock-{k}",
                "WAREHOUSE_INSTANCE_PATH": str(folder / f"dock-{k}"),
            }
            docks.append(replace(prepared, env=env, token=token))
    finally:
        db.dispose()
    return prepared, docks


def _post_scans(url: str, token: str, act_id: int, scans: list[tuple[str, str]]) -> list[dict[str, object]]:
    conn = http.client.HTTPConnection(*url.removeprefix("http://").split(":"), timeout=10)  # type: ignore[arg-type]
    try:
        body = json.dumps({"scans": [{"code": c, "scan_id": i} for c, i in scans]})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", f"/api/v1/acts/{act_id}/scans", body=body, headers=headers)
        r = conn.getresponse()
        answer = json.loads(r.read())
        assert r.status == 200, answer
        results: list[dict[str, object]] = answer["results"]
        return results
    finally:
        conn.close()


def _join(prepared: served.Prepared, docks: list[served.Prepared], code: str) -> None:
    """Each dock's staff scan one code with its own field: every dock receives the act."""
    db = Database(prepared.env["WAREHOUSE_DATABASE_URL"])
    try:
        for dock in docks:
            station_name = dock.env["WAREHOUSE_STATION"]
            receiving.record_scan(
                db, prepared.act_id, receiving.ScanInput(raw=code, source="browser", station=station_name)
            )
    finally:
        db.dispose()


def test_a_scan_at_one_station_reaches_a_screen_at_another_within_a_second(pg_cluster: Cluster, tmp_path: Path) -> None:
    prepared, (a, b) = _stations_on(pg_cluster, tmp_path, 2, boxes=1, blocks=2, packs=3)
    with served.station(a) as at_a, served.station(b) as at_b:
        cookie, _ = served.login(at_b)
        screens = served.Screens(at_b, f"/acts/{prepared.act_id}/events", cookie, 2)
        try:
            screens.open()
            # the first scan shows the relay listening (a loaded machine may take seconds to start a process)
            (first,) = _post_scans(at_a, a.token, prepared.act_id, [(prepared.codes[5], "live-first")])
            row = int(str(first["journal_id"]))
            deadline = time.perf_counter() + 10
            while not all(row in s.rows_at for s in screens.screens) and time.perf_counter() < deadline:
                time.sleep(0.01)
            seen: dict[int, float] = {}
            for k, code in enumerate(prepared.codes[:5]):
                sent = time.perf_counter()
                (result,) = _post_scans(at_a, a.token, prepared.act_id, [(code, f"live-{k}")])
                row = int(str(result["journal_id"]))
                while not all(row in s.rows_at for s in screens.screens) and time.perf_counter() - sent < 3:
                    time.sleep(0.005)
                seen[row] = max(s.rows_at.get(row, float("inf")) for s in screens.screens) - sent
        finally:
            screens.close()
    late = {row: took for row, took in seen.items() if took > 1.0}
    assert len(seen) == 5 and not late, f"rows that reached station B's screens late (s): {late}"


def test_four_stations_scanning_one_act_at_once_credit_each_code_once(pg_cluster: Cluster, tmp_path: Path) -> None:
    """Every station's handheld scans every pack of the act, in its own order, at the same time: each pack is
    credited once, the others are duplicates, and the act's counters equal its journal."""
    prepared, docks = _stations_on(pg_cluster, tmp_path, 4, boxes=2, blocks=3, packs=10)
    first, packs = prepared.codes[0], prepared.codes[1:]
    _join(prepared, docks, first)
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(served.station(dock)) for dock in docks]
        results: dict[int, list[dict[str, object]]] = {}

        def work(k: int) -> None:
            order = packs[k::1] + packs[:k] if k % 2 else list(reversed(packs))
            results[k] = [
                r
                for chunk in range(0, len(order), 3)
                for r in _post_scans(
                    urls[k],
                    docks[k].token,
                    prepared.act_id,
                    [(c, f"d{k}-{chunk + j}") for j, c in enumerate(order[chunk : chunk + 3])],
                )
            ]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    classes = Counter(str(r["class"]) for rs in results.values() for r in rs)
    assert len(results) == 4 and classes == {"matched": len(packs), "duplicate": 3 * len(packs)}, classes
    db = Database(prepared.env["WAREHOUSE_DATABASE_URL"])
    try:
        summary = receiving.act_summary(db, prepared.act_id)
        with db.read() as s:
            journal = s.execute(
                select(Scan.scan_class, func.count()).where(Scan.act_id == prepared.act_id).group_by(Scan.scan_class)
            ).all()
            credited_by_journal = s.execute(
                select(func.sum(Scan.credited)).where(Scan.act_id == prepared.act_id)
            ).scalar()
        by_station = _by_station(db, prepared.act_id)
    finally:
        db.dispose()
    assert summary.levels[Level.PACK].credited == len(prepared.codes)
    assert sum(c.credited for c in summary.levels.values()) == credited_by_journal  # counters equal the journal
    assert dict(journal) == {ScanClass.MATCHED: len(prepared.codes), ScanClass.DUPLICATE: 3 * len(packs) + 3}
    assert by_station == {f"dock-{k}": 1 + len(packs) for k in range(1, 5)}


def _by_station(db: Database, act_id: int) -> dict[str, int]:
    with db.read() as s:
        rows = s.execute(
            select(Station.name, func.count())
            .join(Scan, Scan.station_id == Station.id)
            .where(Scan.act_id == act_id)
            .group_by(Station.name)
        ).all()
    return {name: count for name, count in rows}


def test_a_station_whose_database_connection_drops_keeps_its_scanners_scans_in_order(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    """Two hardware scanners feed dock-1 while its PostgreSQL backends are terminated again and again, then
    while the database refuses connections for longer than the sink's retry delays: every scan ends journaled
    exactly once, in each scanner's order, nothing waits in the tray, and the station knew it was cut off."""
    url = pg_cluster.new_database()
    app = make_app(url, tmp_path)
    db: Database = app.extensions["warehouse.db"]
    f = ActFactory(pallets=1, boxes=2, blocks=5, packs=10)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    scanners = ("/dev/input/by-id/usb-scanner-a-event-kbd", "/dev/input/by-id/usb-scanner-b-event-kbd")
    router = StationRouter()
    router.set_bindings({device: Binding("dock-1") for device in scanners})
    router.open_act("dock-1", act_id)
    sink = ReceivingSink(db, router)
    name = make_url(url).database
    admin = psycopg.connect(f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname=postgres", autocommit=True)
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    stop, lost_seen = threading.Event(), []

    def cut() -> None:
        while not stop.wait(0.03):
            admin.execute(kill, (name,))
            if sink.database_lost_since is not None:
                lost_seen.append(sink.database_lost_since)

    cutter = threading.Thread(target=cut)
    cutter.start()
    try:
        for k, code in enumerate(f.codes["pack"]):
            device = scanners[k % 2]
            if k == len(f.codes["pack"]) // 2:  # the database goes away for 3 s: longer than every retry delay
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(kill, (name,))
                threading.Timer(3.0, admin.execute, (f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',)).start()
            sink(HwScan(code, device, "evdev", "enter", b"", 2, datetime.now(UTC)))
            time.sleep(0.01)
        time.sleep(3.5)
    finally:
        stop.set()
        cutter.join()
    assert sink.close(timeout=30)
    admin.close()
    with db.read() as s:
        rows = s.execute(select(Scan.raw, Scan.client_scan_id).where(Scan.act_id == act_id).order_by(Scan.id)).all()
    assert len(rows) == len(f.codes["pack"]) and len({r.client_scan_id for r in rows}) == len(rows)
    assert [r.raw for r in rows] == f.codes["pack"], "scans out of their arrival order"
    assert router.tray() == []
    assert lost_seen, "the station never knew its database was gone"
    assert sink.database_lost_since is None
    db.dispose()


def test_a_page_asked_while_the_database_is_unreachable_answers_a_translated_503(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    """The station's own database refuses connections: a logged-in page answers 503 with the reason in the
    asker's language (a page, or for htmx the fragment it swaps in), not a 500 traceback; back when it is."""
    url = pg_cluster.new_database()
    app = make_app(url, tmp_path)
    client = app.test_client()
    assert Auth(client).login().status_code == 302
    name = make_url(url).database
    admin = psycopg.connect(f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname=postgres", autocommit=True)
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    admin.execute(kill, (name,))
    try:
        page = client.get("/", headers={"Accept-Language": "en"})
        assert page.status_code == 503
        assert "cannot reach its database" in page.get_data(as_text=True)
        fragment = client.get("/", headers={"Accept-Language": "en", "HX-Request": "true"})
        assert fragment.status_code == 503
        assert "cannot reach its database" in fragment.get_data(as_text=True)
        assert "<html" not in fragment.get_data(as_text=True)
        kk = client.get("/", headers={"Accept-Language": "kk"}).get_data(as_text=True)
        assert "cannot reach" not in kk and "дерекқор" in kk.lower()
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    assert client.get("/", follow_redirects=True).status_code == 200  # the station is back
    get_db(app).dispose()


def test_the_receiving_screen_says_while_its_scanners_have_lost_the_database(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    """The station's database refuses connections while its hardware scanner scans: the screen's open stream,
    which cannot ask the database, says since when it is lost and how many scans wait (from the station's real
    sink), and takes the banner away once the database is back and the scans are written."""
    url = pg_cluster.new_database()
    app = make_app(url, tmp_path, LIVE_KEEPALIVE_SECONDS=1.0, LIVE_DATABASE_CHECK_SECONDS=0.2)
    db = get_db(app)
    f = ActFactory(pallets=1, boxes=1, blocks=1, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    here, device = str(app.config["STATION"]), "/dev/input/by-id/usb-scanner-a-event-kbd"
    bind_scanner(db, device, here)
    # The station's scanners as `warehouse run` keeps them (not started: no device to read, the sink is fed here)
    scanners = app.extensions[EXTENSION] = ScannerStation(db, ScannerConfig(), station=here, discover_devices=list)
    scanners.reload_bindings()
    scanners.router.open_act(here, act_id)
    viewer = app.test_client()
    assert Auth(viewer).login("lead").status_code == 302
    page = viewer.get(f"/acts/{act_id}").get_data(as_text=True)
    assert 'sse-swap="database"' in page and '<div id="database-lost"></div>' in page  # up: nothing said
    cookie = viewer.get_cookie("session")
    assert cookie is not None
    server = LiveServer(app)
    stream = Stream(server, f"/acts/{act_id}/events", cookie.value)
    name = make_url(url).database
    admin = psycopg.connect(f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname=postgres", autocommit=True)
    kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    try:
        stream.wait(lambda e: any(n == "database" for n, _ in e))  # the stream is up (the banner, empty)
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(kill, (name,))
        for code in f.codes["block"][:1] + f.codes["pack"][:1]:
            scanners.sink(HwScan(code, device, "evdev", "enter", b"", 2, datetime.now(UTC)))
        got = stream.wait(lambda e: ": 2;" in last(e, "database"))
        banner = last(got, "database")
        lost = scanners.sink.database_lost_since
        assert lost is not None and scanners.sink.held == 2
        assert "Связь с базой данных потеряна в " + datetime.fromtimestamp(lost, UTC).strftime("%H:%M") in banner
        assert 'role="alert"' in banner
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    try:
        got = stream.wait(lambda e: "Связь" not in last(e, "database"))
        assert '<div id="database-lost"></div>' in last(got, "database")
        assert scanners.sink.flush() and scanners.sink.held == 0 and scanners.sink.database_lost_since is None
    finally:
        stream.close()
        server.stop()
    with db.read() as s:
        assert s.execute(select(Scan.raw).where(Scan.act_id == act_id).order_by(Scan.id)).scalars().all() == (
            f.codes["block"][:1] + f.codes["pack"][:1]
        )
    assert scanners.router.tray() == []
    scanners.sink.close()
    db.dispose()
