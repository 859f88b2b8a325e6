"""A station building an outgoing act: its hardware scanners put codes on the draft through the same sink."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from hardware.scan import Scan
from tests.factories import pack
from tests.shipping.conftest import SHOP_BIN, stocked
from warehouse.db import get_db
from warehouse.services import shipping, stock
from warehouse.station.routing import Binding, StationRouter
from warehouse.station.sink import ReceivingSink

KBD = "/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1950-event-kbd"


def test_scanner_puts_codes_on_a_draft_and_refusals_change_nothing(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, boxes=2)
    stock.open_aggregate(db, f.codes["pallet"][0])  # boxes ship on their own
    draft = shipping.new_act(
        db, receiver_bin=SHOP_BIN, receiver_name="ТОО Магазин", actor="test", sender=shipping.company(wholesaler.config)
    )
    router = StationRouter()
    router.set_bindings({KBD: Binding("dock-1")})
    router.open_act("dock-1", draft.id)
    sink = ReceivingSink(db, router)
    for code in (f.codes["box"][0], pack("04870000010011", 424_242), f.codes["box"][0]):
        sink(Scan(code, KBD, "evdev", "enter", b"", 2, datetime.now(UTC)))
    assert sink.flush(10)
    with db.read() as s:
        totals = shipping.totals(s, shipping.find_act(s, draft.id))
    # the box and what it holds are on the act; the unknown pack and the repeat were refused, nothing else moved
    assert router.tray() == [], router.tray()
    assert totals.codes == 1 + 2 + 6
    added = shipping.add_code(db, draft.id, f.codes["box"][0], actor="test")
    assert not added.added and added.reason == "on_this_act"
    assert router.tray() == []
