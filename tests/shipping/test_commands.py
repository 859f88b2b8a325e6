"""Command codes at the shipping dock, on SQLite and PostgreSQL: REMOVE_LAST takes off what this station put on
last, REMOVE_NEXT takes the station's next scanned code off (once, refused or not); the receiving screen's
commands change nothing on an outgoing act, and the outgoing ones nothing on an incoming act."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.factories import ActFactory
from tests.shipping.conftest import SHOP_BIN, stocked
from warehouse import matching
from warehouse.db import Database, get_db
from warehouse.services import importing, receiving, shipping, stock

LAST, NEXT = "#WH:REMOVE_LAST", "#WH:REMOVE_NEXT"


def _draft(app: Flask) -> int:
    db = get_db(app)
    return shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(app.config)).id


def _on_act(db: Database, act: int) -> list[str]:
    with db.read() as s:
        return sorted(code for code, _level in shipping.roots(s, act))


def test_remove_last_takes_off_this_stations_codes_newest_first(station: Flask, tmp_path: Path) -> None:
    db = get_db(station)
    f = stocked(db, tmp_path, pallets=1, boxes=3, blocks=2, packs=2)
    stock.open_aggregate(db, f.codes["pallet"][0])
    act = _draft(station)
    box = f.codes["box"]
    assert shipping.scan(db, act, LAST, station="dock-1").reason == "nothing_to_remove"
    assert shipping.scan(db, act, box[0], station="dock-1").added
    assert shipping.scan(db, act, box[1], station="dock-2").added  # another station's, after ours
    assert shipping.scan(db, act, box[2], station="dock-1").added

    off = shipping.scan(db, act, LAST, station="dock-1")
    assert (off.scan_class, off.reason, off.args["code"]) == ("removed", "removed", box[2])
    assert off.message("en") == f"Taken off the act: Box {box[2]} (inside: blocks: 2, packs: 4)"
    assert shipping.scan(db, act, LAST, station="dock-1").args["code"] == box[0]  # scanned again: the one before
    nothing = shipping.scan(db, act, LAST, station="dock-1")
    assert (nothing.added, nothing.reason) == (False, "nothing_to_remove")
    assert nothing.message("ru") == "Нечего снимать: эта станция не добавляла кодов в этот акт"
    assert _on_act(db, act) == [box[1]]  # dock-2's code stays
    with db.read() as s:
        assert stock.find(s, box[2]).row.status == "in_stock"  # type: ignore[union-attr]
    # the command is read under any keyboard layout: Shift+3 is № under the Russian one
    assert shipping.scan(db, act, "№ЦРЖКУЬЩМУ_ДФЫЕ", station="dock-2").args["code"] == box[1]


def test_remove_next_takes_off_the_next_scan_of_the_station_once(station: Flask, tmp_path: Path) -> None:
    db = get_db(station)
    f = stocked(db, tmp_path, pallets=1, boxes=3, blocks=2, packs=2)
    stock.open_aggregate(db, f.codes["pallet"][0])
    act = _draft(station)
    box = f.codes["box"]
    for code in box:
        assert shipping.scan(db, act, code, station="dock-1").added

    armed = shipping.scan(db, act, NEXT, station="dock-1")
    assert (armed.added, armed.scan_class) == (True, "command")
    assert armed.message("en") == "The next code scanned will be taken off the act"
    with db.read() as s:
        assert shipping.removing_next(s, act, "dock-1") and not shipping.removing_next(s, act, "dock-2")
    assert shipping.scan(db, act, box[2], station="dock-2").reason == "on_this_act"  # not armed there
    off = shipping.scan(db, act, box[0], station="dock-1")
    assert (off.scan_class, off.args["code"]) == ("removed", box[0])
    assert shipping.scan(db, act, box[0], station="dock-1").added  # spent: the next one goes on again

    shipping.scan(db, act, NEXT, station="dock-1")
    refused = shipping.scan(db, act, f.codes["block"][0], station="dock-1")  # inside a box on the act
    assert (refused.added, refused.reason) == (False, "remove_parent")
    with db.read() as s:
        assert not shipping.removing_next(s, act, "dock-1")  # a refusal spends it too
    assert sorted(_on_act(db, act)) == sorted(box)


def test_the_other_screens_commands_change_nothing(station: Flask, tmp_path: Path) -> None:
    db = get_db(station)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    act = _draft(station)
    assert shipping.scan(db, act, f.codes["pallet"][0], station="dock-1").added
    undo = shipping.scan(db, act, "#WH:UNDO", station="dock-1")
    assert (undo.added, undo.reason) == (False, "receiving_command")
    assert undo.message("en") == "This command is for receiving: on an outgoing act it changes nothing"
    assert _on_act(db, act) == [f.codes["pallet"][0]]

    incoming = ActFactory(number="ПР-9000", start=5000)
    act_id = importing.import_act(db, incoming.write(tmp_path / "in-9000.json")).act_id
    assert receiving.record_scan(db, act_id, receiving.ScanInput(raw=incoming.codes["box"][0], source="cli")).credited
    result = receiving.record_scan(db, act_id, receiving.ScanInput(raw=LAST, source="cli"))
    assert (result.scan_class, result.outcome.reason) == ("command", "outgoing_command")
    assert result.message("en") == "This command is for outgoing acts: nothing changed"
    assert matching.sound_of(result.scan_class, result.outcome.reason) == "error"
    summary = receiving.act_summary(db, act_id)
    assert summary.levels["box"].credited == 1  # the box is still counted
