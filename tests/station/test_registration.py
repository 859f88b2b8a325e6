"""Registering a scanner by scanning the Data Matrix the scanners page shows, and the page itself.

The real app on a real SQLite file, the scanners page through the test client, evdev's own reader on
pipes: the code on the page is read back from its PNG and typed into a pipe as a scanner would.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from hardware.record import events_for_text
from hardware.scan import ReaderState
from tests.conftest import Auth, make_app
from tests.factories import ActFactory
from tests.hardware.conftest import Bench, wait_until
from warehouse import codes
from warehouse.db import Database
from warehouse.matching import ScanClass
from warehouse.models import AuditEntry, Scan, Scanner, User
from warehouse.services import importing
from warehouse.station.bindings import bind_scanner
from warehouse.station.registration import REGISTRATION_PREFIX, RegistrationError, RegistrationState, registration_token
from warehouse.station.routing import Binding, Route, StationRouter
from warehouse.station.scanners import ScannerStation, start_scanners
from warehouse.station.tray import TrayReason
from warehouse.web import scanners as scanners_web

KBD = "/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1950-event-kbd"
OTHER = "/dev/input/by-id/usb-Zebra_DS2208-event-kbd"


# -- the code and the router -----------------------------------------------------------------------


def test_a_registration_code_is_never_a_marking_code() -> None:
    factory = ActFactory(pallets=1, boxes=1, blocks=2, packs=2)
    factory.build()
    for code in [c for level in factory.codes.values() for c in level]:
        assert registration_token(code) is None
    code = StationRouter().registrations.issue("dock-1", issued_by="lead").code
    assert code.startswith(REGISTRATION_PREFIX) and registration_token(code) == code[len(REGISTRATION_PREFIX) :]
    assert codes.parse(code).kind is codes.Kind.INVALID  # should one reach the journal, it credits nothing
    assert registration_token("]d1" + code.lower()) == registration_token(code)  # AIM prefix, case changed
    assert registration_token(code[:-1]) is None and registration_token(code + "A") is None


def test_a_code_binds_one_unbound_scanner_once_before_it_expires() -> None:
    router = StationRouter()
    now = datetime.now(UTC)
    reg = router.registrations.issue("dock-1", issued_by="lead", user_id=3, username="staff", ttl=60, now=now)
    with pytest.raises(RegistrationError, match="unknown"):
        router.redeem_registration("A" * 24, KBD)
    taken = router.redeem_registration(reg.token, KBD, now=now)
    with pytest.raises(RegistrationError, match="used"):  # one-time, even before the binding is written
        router.redeem_registration(reg.token, OTHER, now=now)
    router.complete_registration(taken.id, Binding("dock-1", 3, 17, "staff"))
    assert router.registration(reg.id).state is RegistrationState.BOUND  # type: ignore[union-attr]
    router.open_act("dock-1", 5)
    assert router.route(KBD) == Route(5, "dock-1", 3, 17)

    late = router.registrations.issue("dock-1", issued_by="lead", ttl=60, now=now)
    with pytest.raises(RegistrationError, match="expired"):
        router.redeem_registration(late.token, OTHER, now=now + timedelta(seconds=61))
    assert late.state_at(now + timedelta(seconds=61)) is RegistrationState.EXPIRED


def test_a_bound_scanner_is_turned_away_unless_the_code_allows_a_move() -> None:
    router = StationRouter()
    router.bind(KBD, Binding("dock-2"))
    reg = router.registrations.issue("dock-1", issued_by="lead")
    with pytest.raises(RegistrationError, match="bound") as refused:
        router.redeem_registration(reg.token, KBD)
    assert refused.value.station == "dock-2"
    waiting = router.registration(reg.id)
    assert waiting is not None and (waiting.turned_away, waiting.state) == (KBD, RegistrationState.WAITING)
    assert router.redeem_registration(reg.token, OTHER).device == OTHER  # the right scanner still can
    move = router.registrations.issue("dock-1", issued_by="lead", rebind=True)
    assert router.redeem_registration(move.token, KBD).previous_station == "dock-2"


# -- the page and the scanners, together -------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    app = make_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    app.extensions["warehouse.db"].dispose()
    return folder / "warehouse.sqlite3"


@pytest.fixture
def web_app(migrated: Path, tmp_path: Path) -> Iterator[Flask]:
    shutil.copy(migrated, tmp_path / "warehouse.sqlite3")
    app = make_app(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}", tmp_path)
    if "scanners" not in app.blueprints:  # until warehouse/web/__init__.py registers it
        app.register_blueprint(scanners_web.bp)
    yield app
    app.extensions["warehouse.db"].dispose()


@pytest.fixture
def db(web_app: Flask) -> Database:
    database: Database = web_app.extensions["warehouse.db"]
    return database


@pytest.fixture
def station(web_app: Flask, bench: Bench) -> Iterator[ScannerStation]:
    web_app.config["SCANNERS"] = {"poll_interval": 0.1}
    st = start_scanners(web_app, discover_devices=bench.discover, reader_factory=bench.factory, retry_interval=0.2)
    yield st
    st.stop()
    st.sink.flush()


def login(app: Flask, username: str) -> FlaskClient:
    """A client signed in as `username`, reading the pages in English (the tests read the words)."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


@pytest.fixture
def lead(web_app: Flask) -> FlaskClient:
    return login(web_app, "lead")


def plugged(bench: Bench, station: ScannerStation, key: str) -> None:
    bench.plug(key)
    assert wait_until(lambda: any(s.device == key and s.state is ReaderState.RUNNING for s in station.statuses()))


def csrf(client: FlaskClient) -> str:
    match = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/scanners").get_data(as_text=True))
    assert match
    return match.group(1)


def show_code(client: FlaskClient, **form: str) -> tuple[str, str]:
    """Ask for a registration code as the page's form does (htmx); return it as a scanner reads it from the
    PNG on the page, and the URL the page polls for its outcome."""
    r = client.post("/scanners/registrations", data=form, headers={"X-CSRFToken": csrf(client), "HX-Request": "true"})
    assert r.status_code == 200, r.get_data(as_text=True)
    html = r.get_data(as_text=True)
    png = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    poll = re.search(r'hx-get="(/scanners/registrations/[^"]+)"', html)
    assert png and poll
    [symbol] = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(png.group(1)))))
    assert symbol.format == zxingcpp.BarcodeFormat.DataMatrix
    return symbol.text, poll.group(1)


def journal(db: Database, act_id: int) -> list[Scan]:
    with db.read() as s:
        return list(s.execute(select(Scan).where(Scan.act_id == act_id).order_by(Scan.id)).scalars())


def test_scanning_the_code_on_the_page_binds_the_scanner_to_the_station_and_person(
    web_app: Flask, db: Database, bench: Bench, station: ScannerStation, lead: FlaskClient, tmp_path: Path
) -> None:
    factory = ActFactory(pallets=1, boxes=1, blocks=2, packs=2)
    act_id = importing.import_act(db, factory.write(tmp_path / "act.json")).act_id
    station.router.open_act(station.station, act_id)
    plugged(bench, station, KBD)
    fake = bench.scanners[KBD]
    fake.send(events_for_text(factory.codes["block"][0], start_time=time.time()))
    assert wait_until(lambda: [i.reason for i in station.router.tray()] == [TrayReason.UNBOUND])
    page = lead.get("/scanners").get_data(as_text=True)
    assert "Whose scanner is this?" in page and "Not bound." in page and KBD in page

    with db.read() as s:
        staff = s.execute(select(User).where(User.username == "staff")).scalar_one()
    code, poll = show_code(lead, user_id=str(staff.id), name="HH-1950 #3")
    assert lead.get(poll).status_code == 200 and "Waiting for a scanner" in lead.get(poll).get_data(as_text=True)
    fake.send(events_for_text(code, start_time=time.time()))  # the scanner reads the screen
    assert wait_until(lambda: lead.get(poll).headers.get("HX-Retarget") == "#registration")

    done = lead.get(poll)
    assert done.headers["HX-Trigger"] == scanners_web.CHANGED
    assert "is now bound to station station-1" in done.get_data(as_text=True)
    with db.read() as s:
        scanner = s.execute(select(Scanner).where(Scanner.device_key == KBD)).scalar_one()
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "scanner.bound")).scalar_one()
    assert (scanner.name, scanner.user_id, audit.actor) == ("HH-1950 #3", staff.id, "lead")

    fake.send(events_for_text(factory.codes["block"][0], start_time=time.time()))  # scanned again: counted now
    assert wait_until(lambda: len(journal(db, act_id)) == 1)
    [row] = journal(db, act_id)  # the registration code itself is in no journal
    assert (row.scan_class, row.scanner_id, row.user_id) == (ScanClass.MATCHED, scanner.id, staff.id)
    devices = lead.get("/scanners/devices").get_data(as_text=True)
    assert "HH-1950 #3" in devices and "Bound to station station-1 by now." in devices
    assert lead.get(poll).status_code == 200  # the outcome stays readable; the code cannot be used again
    fake.send(events_for_text(code, start_time=time.time()))
    assert wait_until(lambda: station.router.tray()[-1].reason is TrayReason.REGISTRATION)
    assert "used" in station.router.tray()[-1].detail


def test_a_bound_scanner_is_turned_away_and_the_page_says_so(
    db: Database, bench: Bench, station: ScannerStation, lead: FlaskClient
) -> None:
    bind_scanner(db, KBD, "dock-2")
    station.reload_bindings()
    plugged(bench, station, KBD)
    plugged(bench, station, OTHER)
    code, poll = show_code(lead)
    bench.scanners[KBD].send(events_for_text(code, start_time=time.time()))
    assert wait_until(lambda: "bound to station dock-2 already" in lead.get(poll).get_data(as_text=True))
    assert station.router.tray()[-1].reason is TrayReason.REGISTRATION
    tray = lead.get("/scanners/devices").get_data(as_text=True)
    assert "registration code" in tray and code not in tray  # the token is not repeated in the tray
    bench.scanners[OTHER].send(events_for_text(code, start_time=time.time()))  # the new one still can
    assert wait_until(lambda: "is now bound" in lead.get(poll).get_data(as_text=True))
    assert station.router.binding_for(KBD).station == "dock-2"  # type: ignore[union-attr]  # left as it was
    assert station.router.binding_for(OTHER).station == "station-1"  # type: ignore[union-attr]
    r = lead.post(
        "/scanners/tray/clear", data={"device": KBD}, headers={"X-CSRFToken": csrf(lead), "HX-Request": "true"}
    )
    assert r.status_code == 200 and station.router.tray() == []


def test_the_page_is_for_leads_and_administrators_and_needs_csrf(web_app: Flask, station: ScannerStation) -> None:
    assert web_app.test_client().get("/scanners").status_code == 302  # to the login page
    assert login(web_app, "staff").get("/scanners").status_code == 403
    admin = login(web_app, "admin")
    assert admin.get("/scanners").status_code == 200
    assert admin.post("/scanners/registrations", data={}).status_code == 400  # no CSRF token
    _, poll = show_code(admin)
    assert login(web_app, "lead").get(poll).status_code == 404  # only who showed the code follows it


def test_an_expired_code_says_so(station: ScannerStation, lead: FlaskClient, web_app: Flask) -> None:
    with web_app.extensions["warehouse.db"].read() as s:
        lead_id = s.execute(select(User.id).where(User.username == "lead")).scalar_one()
    reg = station.router.registrations.issue(station.station, issued_by="lead", issued_by_id=lead_id, ttl=0)
    r = lead.get(f"/scanners/registrations/{reg.id}")
    assert r.headers["HX-Retarget"] == "#registration" and "HX-Trigger" not in r.headers
    assert "Nobody scanned the code in time" in r.get_data(as_text=True)


def test_without_readers_in_this_process_the_page_says_so(web_app: Flask, db: Database) -> None:
    bind_scanner(db, KBD, "station-1", username="staff", name="HH-1950 #3")
    client = login(web_app, "lead")
    page = client.get("/scanners").get_data(as_text=True)
    assert "This process reads no scanners" in page
    assert "HH-1950 #3" in page and "not connected" in page  # the bindings in the database still show
    r = client.post("/scanners/registrations", data={}, headers={"X-CSRFToken": csrf(client), "HX-Request": "true"})
    assert r.status_code == 409 and "would bind nothing" in r.get_data(as_text=True)
