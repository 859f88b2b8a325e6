"""Building an outgoing act: refusals in three languages, never a code twice (also from two stations at
once, on SQLite and PostgreSQL), totals and prices, signing, documents split at the limit."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import pack
from tests.shipping.conftest import SHOP_BIN, WHOLESALER_BIN, refused, settings, signer, stocked
from warehouse import transfer_act
from warehouse.db import Database, get_db
from warehouse.models import Act, ActCode, AuditEntry, StockCode, StockMove
from warehouse.services import shipping, stock
from warehouse.services.shipping import ShippingError
from warehouse.signing import errors as signing_errors
from warehouse.signing.errors import SigningError


def new(app: Flask, **kw: str) -> int:
    return shipping.new_act(
        get_db(app),
        receiver_bin=kw.get("bin", SHOP_BIN),
        receiver_name="ТОО «Магазин»",
        sender=shipping.company(app.config),
        actor="test",
    ).id


def test_refusals_say_why_in_three_languages(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    first, second = new(wholesaler), new(wholesaler)
    pallet, box, block = f.codes["pallet"][0], f.codes["box"], f.codes["block"]

    inside = shipping.add_code(db, first, box[0])
    assert (inside.scan_class, inside.reason) == ("refused", "inside_aggregate")
    assert inside.message("en") == f"Box {box[0]} is inside pallet {pallet}: open it first or ship it whole"
    assert inside.message("ru") == f"Короб {box[0]} лежит в паллете {pallet}: вскройте её или отгрузите целиком"
    assert "ішінде" in inside.message("kk")

    assert shipping.add_code(db, first, pallet).added
    again = shipping.add_code(db, first, pallet)
    assert again.to_json("en") == {
        "input": pallet,
        "class": "refused",
        "reason": "on_this_act",
        "message": f"Already on this act: Pallet {pallet}",
        "code": pallet,
        "level": "pallet",
        "codes": 0,
    }
    assert shipping.add_code(db, first, block[0]).message("en") == f"Already on this act inside box {box[0]}"
    other = shipping.add_code(db, second, pallet)
    assert other.reason == "on_other_draft" and "ТА-" in other.message("ru") and "Басқа" in other.message("kk")
    with refused(stock.StockError, "not_available"):
        stock.open_aggregate(db, pallet)

    unknown = pack(f.codes["block"][0][2:16], 999_999)
    assert shipping.add_code(db, second, unknown).message("en") == f"Not in stock: {unknown}"
    assert "Кода нет на складе" in shipping.add_code(db, second, unknown).message("ru")
    code = f.codes["pack"][0]
    bad = shipping.add_code(db, second, code[:13] + str((int(code[13]) + 1) % 10) + code[14:])  # GTIN misread
    assert bad.reason == "invalid" and bad.message("en").startswith("Code not recognised. ")
    assert shipping.add_code(db, second, "4870000010011").reason == "product"
    assert shipping.add_code(db, second, "  ").reason == "empty"

    shipping.sign(db, first, signer(), settings=settings(wholesaler))
    shipped = shipping.add_code(db, second, box[1])
    assert shipped.reason == "already_shipped"
    assert shipped.message("en") == f"Already shipped with act ТА-{first:06d}: Box {box[1]}"
    with refused(ShippingError, "not_draft"):
        shipping.add_code(db, first, box[1])
    # A refusal writes nothing: only the one reservation and the shipment are journaled.
    with db.read() as s:
        kinds = s.execute(select(StockMove.kind, func.count()).group_by(StockMove.kind)).all()
        assert dict(kinds) == {"received": 15, "reserved": 15, "shipped": 15}


def test_opening_and_taking_off(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    act = new(wholesaler)
    pallet, box, block = f.codes["pallet"][0], f.codes["box"], f.codes["block"]
    with refused(stock.StockError, "inside_aggregate") as e:
        stock.open_aggregate(db, box[0])
    assert e.value.message("en") == f"Box {box[0]} is inside pallet {pallet}: open that first"
    assert e.value.message("ru") == f"Короб {box[0]} лежит в паллете {pallet}: сначала вскройте её"
    opened = stock.open_aggregate(db, pallet, actor="test")
    assert (opened.level, opened.contents) == ("pallet", 2)
    with refused(stock.StockError, "already_opened") as again:
        stock.open_aggregate(db, pallet)
    assert again.value.message("ru") == f"Паллета {pallet} уже вскрыта"
    scanned = shipping.add_code(db, act, pallet)
    assert scanned.reason == "opened" and scanned.message("ru") == f"Паллета {pallet} вскрыта: сканируйте её содержимое"
    stock.open_aggregate(db, box[0])
    with refused(stock.StockError, "not_an_aggregate"):
        stock.open_aggregate(db, f.codes["pack"][0])
    assert shipping.add_code(db, act, block[0]).codes == 3
    added = shipping.add_code(db, act, box[1])
    assert added.codes == 7  # what it holds, level by level (issue 16, item 10), not "with 6 inside"
    assert added.message("ru") == f"Добавлено: Короб {box[1]} (внутри: блоков: 2, пачек: 4)"
    taken = shipping.remove_code(db, act, f.codes["block"][2])
    assert taken.reason == "remove_parent" and not taken.added
    off = shipping.remove_code(db, act, box[1])
    assert off.added and off.message("en") == f"Taken off the act: Box {box[1]} (inside: blocks: 2, packs: 4)"
    assert shipping.remove_code(db, act, box[1]).reason == "not_on_act"
    with db.read() as s:
        view = stock.find(s, box[1])
        assert view is not None and view.row.status == "in_stock" and view.inside == 6
        assert [m.kind for m in view.moves] == ["released", "reserved", "received"]
        found = stock.find(s, block[1])  # found by any code: here the block, loose since its box was opened
        assert found is not None and found.ancestors == [] and found.contents == 2
        top = {a.code: a.contents for a in stock.aggregates(s)}
        assert top == {box[1]: 2}
        assert (
            s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "stock.opened")
            ).scalar_one()
            == 2
        )


def test_totals_prices_and_documents(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=2, boxes=2, blocks=2, packs=3, products=(1001, 1002))
    act = new(wholesaler)
    for pallet in f.codes["pallet"]:
        stock.open_aggregate(db, pallet)
    stock.open_aggregate(db, f.codes["box"][3])
    for code in (*f.codes["box"][:3], f.codes["block"][6]):
        assert shipping.add_code(db, act, code).added
    stock.open_aggregate(db, f.codes["block"][7])
    assert shipping.add_code(db, act, f.codes["pack"][21]).added  # a loose pack
    g1, g2 = f.codes["block"][0][2:16], f.codes["block"][1][2:16]
    shipping.set_price(db, act, g1, "block", 112_000)
    shipping.set_price(db, act, g1, "pack", 11_500)
    shipping.set_price(db, act, g2, "pack", 13_000)
    with refused(ShippingError, "bad_price"):
        shipping.set_price(db, act, g1, "box", 1)
    summary = shipping.act_summary(db, act)
    totals = summary.to_json()
    assert totals["levels"] == {"pallet": 0, "box": 3, "block": 7, "pack": 22}
    lines = {g["gtin"]: g for g in totals["by_gtin"]}
    # Even blocks are g1's, odd ones g2's; the loose pack 21 came out of block 7 (g2).
    assert lines[g1]["blocks"] == 4 and lines[g1]["packs"] == 12
    assert lines[g2]["blocks"] == 3 and lines[g2]["packs"] == 10
    assert lines[g1]["amount"] == 4 * 112_000  # packs inside priced blocks are paid with the block
    assert lines[g2]["amount"] == 10 * 13_000
    assert totals["amount"] == 4 * 112_000 + 10 * 13_000

    with refused(ShippingError, "too_big") as big:
        shipping.prepare(db, act, max_codes=8)
    assert f"Box {f.codes['box'][0]} holds 9 codes" in big.value.message("en")
    prepared = shipping.prepare(db, act, max_codes=12)
    assert [d.codes for d in prepared.documents] == [9, 9, 9, 5]
    # Deterministic, and each part stands alone as a transfer-act/1 the importer reads.
    assert [d.sha256 for d in shipping.prepare(db, act, max_codes=12).documents] == [
        d.sha256 for d in prepared.documents
    ]
    outcome = shipping.sign(db, act, signer(), settings=settings(wholesaler), max_codes=12)
    assert len(outcome.documents) == 4
    paths = shipping.export(db, act, tmp_path / "x.csv")
    assert [p.name for p in paths] == ["x.1.csv", "x.2.csv", "x.3.csv", "x.4.csv"]
    rows = list(csv.reader(io.StringIO(paths[0].read_text(encoding="utf-8-sig"))))
    assert ["#receiver.bin", SHOP_BIN] in rows and ["#sender.bin", WHOLESALER_BIN] in rows
    header, read = transfer_act.load_act(paths[3])
    assert header.number == f"ТА-{act:06d}/4" and len(read) == 5
    xlsx = shipping.export(db, act, tmp_path / "x.xlsx")
    assert transfer_act.load_act(xlsx[0])[1][0].code == f.codes["box"][0]
    json_files = shipping.export(db, act, tmp_path / "x.json")
    data = json.loads(json_files[6].read_bytes())
    assert data["products"][0]["price"] == 112_000 and data["products"][0]["name"] == "Marlboro Red"
    # After signing, the totals come from the frozen tree, and the reports' counters are there.
    assert shipping.act_summary(db, act).to_json()["levels"] == totals["levels"]
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(ActCode).where(ActCode.act_id == act)).scalar_one() == 32
        assert (
            s.execute(
                select(func.count()).select_from(ActCode).where(ActCode.act_id == act, ActCode.parent_id.is_(None))
            ).scalar_one()
            == 5
        )


def test_new_act_checks_the_receiver(wholesaler: Flask) -> None:
    db = get_db(wholesaler)
    with refused(ShippingError, "bad_bin") as e:
        new(wholesaler, bin="123456789012")
    assert e.value.message("en") == (
        "BIN/IIN 123456789012 is not valid: 12 digits with a correct check digit are needed"
    )
    with refused(ShippingError, "own_bin"):
        new(wholesaler, bin=WHOLESALER_BIN)
    with refused(ShippingError, "no_name"):
        shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="  ", sender=shipping.company(wholesaler.config))
    with refused(ShippingError, "bad_basis"):
        shipping.new_act(
            db,
            receiver_bin=SHOP_BIN,
            receiver_name="X",
            sender=shipping.company(wholesaler.config),
            basis=[shipping.parse_basis("ESF:1:20-11-2026")],
        )
    with refused(ShippingError, "bad_company_bin"):
        shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="X", sender=transfer_act.Party("Мы", "123456789021"))
    act = shipping.new_act(
        db,
        receiver_bin=SHOP_BIN,
        receiver_name="  ТОО   Магазин ",
        sender=shipping.company(wholesaler.config),
        basis=[shipping.parse_basis("SNT:KZ-1")],
    )
    assert (act.number, act.receiver_name, act.status) == (f"ТА-{act.id:06d}", "ТОО Магазин", "draft")
    assert act.basis == [{"type": "SNT", "number": "KZ-1", "date": act.date.isoformat()}]
    with refused(ShippingError, "empty_act"):
        shipping.prepare(db, act.id)


def test_a_scan_during_signing_makes_the_signature_stale(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=2, boxes=1, blocks=1, packs=1)
    act = new(wholesaler)
    shipping.add_code(db, act, f.codes["pallet"][0])
    prepared = shipping.prepare(db, act)
    key = signer()
    signatures = [key.sign(d.content) for d in prepared.documents]
    shipping.add_code(db, act, f.codes["pallet"][1])  # another station scans meanwhile
    with pytest.raises(SigningError, match="content_mismatch"):
        shipping.accept_signatures(db, act, signatures, settings=settings(wholesaler))
    assert shipping.act_summary(db, act).act.status == "draft"
    fresh = shipping.prepare(db, act)
    done = shipping.accept_signatures(
        db, act, [key.sign(d.content) for d in fresh.documents], settings=settings(wholesaler)
    )
    assert done.certificate.iin == "123456789011"


def _race(url: str, calls: list[str | tuple[int, str]]) -> list[object]:
    """At the same moment, each from its own station (own engine and connections): put (act, code) on an act,
    or open a code."""
    barrier = threading.Barrier(len(calls))
    stations = [Database(url) for _ in calls]

    def run(i: int) -> object:
        arg = calls[i]
        barrier.wait()
        try:
            if isinstance(arg, str):
                return stock.open_aggregate(stations[i], arg)
            return shipping.add_code(stations[i], arg[0], arg[1])
        except stock.StockError as e:
            return e

    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, range(len(calls))))
    finally:
        for station in stations:
            station.dispose()


def test_two_stations_never_ship_one_code_twice(station: Flask, tmp_path: Path, db_url: str) -> None:
    app = station
    db = get_db(app)
    f = stocked(db, tmp_path, pallets=1, boxes=6, blocks=2, packs=1)
    stock.open_aggregate(db, f.codes["pallet"][0])
    first, second = new(app), new(app)
    for box in f.codes["box"][:5]:
        results = _race(db_url, [(first, box), (second, box)])
        added = [r for r in results if isinstance(r, shipping.AddResult) and r.added]
        refused = [r for r in results if isinstance(r, shipping.AddResult) and not r.added]
        assert len(added) == 1 and len(refused) == 1, results
        assert refused[0].reason in ("on_other_draft", "changed")
    # Opening a box while another station ships it: one of the two wins, never both.
    box = f.codes["box"][5]
    results = _race(db_url, [(first, box), box])
    won = [r for r in results if isinstance(r, stock.OpenResult) or (isinstance(r, shipping.AddResult) and r.added)]
    assert len(won) == 1, results
    with db.read() as s:
        on_acts = dict(
            s.execute(
                select(StockCode.act_id, func.count()).where(StockCode.status == "reserved").group_by(StockCode.act_id)
            ).all()
        )
        reservations = s.execute(
            select(func.count()).select_from(StockMove).where(StockMove.kind == "reserved")
        ).scalar_one()
    assert sum(on_acts.values()) == reservations  # every reservation journaled once, none lost
    assert sum(on_acts.values()) in (5 * 5, 5 * 5 + 5)
    for act_id in (first, second):
        if act_id in on_acts:
            shipping.sign(db, act_id, signer(), settings=settings(app))
    with db.read() as s:
        shipped = s.execute(
            select(StockCode.identity, func.count())
            .where(StockCode.status == "shipped")
            .group_by(StockCode.identity)
            .having(func.count() > 1)
        ).all()
        frozen = s.execute(
            select(ActCode.identity, func.count())
            .join(Act, Act.id == ActCode.act_id)
            .where(Act.direction == "outgoing")
            .group_by(ActCode.identity)
            .having(func.count() > 1)
        ).all()
    assert shipped == [] and frozen == []  # no code is on two outgoing acts


def test_warnings_are_told_in_the_readers_language() -> None:
    # a warning of applying an acceptance, and one of the signing checks, through one function
    assert shipping.warning_message("other_file", "ru") == (
        "Получатель принял не подписанный JSON, а другую выгрузку этого акта"
    )
    assert shipping.warning_message("other_file", "en").startswith("The receiver imported another export")
    assert shipping.warning_message("expired", "kk") == signing_errors.message("expired", "kk")
