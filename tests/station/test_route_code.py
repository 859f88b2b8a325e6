"""A scanner of the station scans an act's route code: that act gets the station's next scans (issue 15,
item 6: scanners move by an explicit action at the station, never by a page being read)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from hardware.scan import Scan
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan as ScanRow
from warehouse.services import importing
from warehouse.station.routing import Binding, StationRouter, route_code
from warehouse.station.sink import ReceivingSink

KBD = "/dev/input/by-id/usb-Honeywell-event-kbd"


def test_scanning_an_acts_route_code_feeds_that_act(sqlite_app: Flask, tmp_path: Path) -> None:
    db = get_db(sqlite_app)
    first, second = (ActFactory(number=f"ТА-{n}") for n in (1, 2))
    ids = [importing.import_act(db, f.write(tmp_path / f"{f.number}.json")).act_id for f in (first, second)]
    router = StationRouter()
    router.set_bindings({KBD: Binding("dock-1")})
    router.open_act("dock-1", ids[0])
    sink = ReceivingSink(db, router)
    texts = [first.codes["pack"][0], route_code(ids[1]), second.codes["pack"][0]]
    for text in texts:
        sink(Scan(text, KBD, "evdev", "enter", b"", 2, datetime.now(UTC)))
    assert sink.close()
    with db.read() as s:
        rows = [(r.act_id, r.raw) for r in s.execute(select(ScanRow).order_by(ScanRow.id)).scalars()]
    # the route code itself is journaled nowhere; the scans on either side of it went to their acts
    assert rows == [(ids[0], texts[0]), (ids[1], texts[2])]
    assert router.act_for("dock-1") == ids[1] and router.tray() == []


def test_a_route_code_moves_the_act_to_the_station_for_its_handhelds(sqlite_app: Flask, tmp_path: Path) -> None:
    """An act started at dock-2 whose route code a dock-1 scanner scans is received at dock-1 from then on:
    dock-1's handhelds scan into it, dock-2's are refused (warehouse.services.devices)."""
    from warehouse.services import receiving
    from warehouse.services.receiving.stations import receiving_station

    db = get_db(sqlite_app)
    f = ActFactory()
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    receiving.record_scan(db, act_id, receiving.ScanInput(raw=f.codes["pack"][0], source="api", station="dock-2"))
    router = StationRouter()
    router.set_bindings({KBD: Binding("dock-1")})
    sink = ReceivingSink(db, router)
    sink(Scan(route_code(act_id), KBD, "evdev", "enter", b"", 2, datetime.now(UTC)))
    assert sink.close()
    with db.read() as s:
        assert receiving_station(s, act_id) == "dock-1"
