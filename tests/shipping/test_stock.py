"""The ledger: only what a decision accepted enters (the lead's resolutions included), once; a code that
left and comes back is the same row again; what the ledger already holds is never overwritten."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.conftest import Auth
from tests.factories import ActFactory, pack
from tests.shipping.conftest import SHOP_BIN, settings, signer
from warehouse.codes import parse
from warehouse.db import get_db
from warehouse.models import Act, StockCode, StockMove, User
from warehouse.services import importing, receiving, review, shipping, stock


def ident(code: str) -> str:
    identity = parse(code).identity
    assert identity is not None
    return identity


def held(app: Flask) -> dict[str, str | None]:
    """identity -> identity of its parent, for every code in stock."""
    with get_db(app).read() as s:
        rows = s.execute(
            select(StockCode.id, StockCode.identity, StockCode.parent_id).where(StockCode.status == "in_stock")
        ).all()
    by_id = {r.id: r.identity for r in rows}
    return {r.identity: by_id.get(r.parent_id) if r.parent_id else None for r in rows}


def test_what_enters_the_stock(station: Flask, tmp_path: Path) -> None:
    db = get_db(station)
    f = ActFactory(number="ПР-1", pallets=1, boxes=3, blocks=2, packs=2)
    data = f.build()
    act_id = importing.import_act(db, f.write(tmp_path / "in.json")).act_id
    gtin = f.codes["block"][0][2:16]
    extra, unwanted = pack(gtin, 900_001), pack(gtin, 900_002)
    for code in (f.codes["box"][0], f.codes["block"][2], f.codes["pack"][6], extra, unwanted):
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(db, act_id)
    with db.read() as s:
        act = s.get(Act, act_id)
        assert act is not None
        lines = {line.code: line for line in review.lines(s, act)}
        lead = s.execute(select(User).where(User.username == "lead")).scalar_one()
    # The lead accepts the wholly missing box 2 (found on another truck) and the surplus pack `extra`;
    # pack 7 (missing from block 3) and `unwanted` stay refused.
    review.resolve(
        db,
        act_id,
        resolution="found_later",
        reason=None,
        comment="на другой машине",
        user=lead,
        act_code_id=lines[f.codes["box"][2]].act_code_id,
    )
    review.resolve(
        db, act_id, resolution="accept", reason="surplus", comment=None, user=lead, scan_id=lines[extra].scan_id
    )

    client = station.test_client()
    Auth(client).login("lead")
    page = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    client.post(
        f"/acts/{act_id}/decide",
        data={"decision": "accepted_with_discrepancies", "reason": "shortage", "csrf_token": csrf.group(1)},
    )

    box0, box1, box2 = (c for c in data["products"][0]["children"])

    def tree(node: dict[str, Any], parent: str | None = None) -> dict[str, str | None]:
        out = {ident(node["code"]): parent}
        for child in node.get("children", []):
            out.update(tree(child, ident(node["code"])))
        return out

    block2 = box1["children"][0]
    expected = {**tree(box0), **tree(box2), **tree(block2), ident(f.codes["pack"][6]): None, ident(extra): None}
    assert held(station) == expected  # box 1 and the pallet are not whole: they did not enter, their parts are loose
    again = stock.enter_accepted(db, act_id)
    assert again.already and (again.codes, again.surplus, again.conflicts) == (18, 1, 0)

    # Box 0 leaves, then comes back with another act, together with block 2, which never left.
    out = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(station.config))
    assert shipping.add_code(db, out.id, f.codes["box"][0]).added
    shipping.sign(db, out.id, signer(), settings=settings(station))
    back = {**data, "number": "ВОЗВРАТ-1", "products": [box0, block2]}
    path = tmp_path / "back.json"
    path.write_text(json.dumps(back, ensure_ascii=False), encoding="utf-8")
    second = importing.import_act(db, path).act_id
    for code in (f.codes["box"][0], f.codes["block"][2]):
        receiving.record_scan(db, second, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(db, second)
    receiving.decide(db, second, "accepted")
    [entered] = stock.enter_pending(db, actor="test")
    assert (entered.act_id, entered.codes, entered.conflicts) == (second, 7, 3)
    assert held(station) == expected
    with db.read() as s:
        row = s.execute(select(StockCode).where(StockCode.identity == ident(f.codes["box"][0]))).scalar_one()
        assert (row.status, row.source_act_id, row.act_id) == ("in_stock", second, None)
        moves = [
            k
            for (k,) in s.execute(
                select(StockMove.kind).where(StockMove.stock_code_id == row.id).order_by(StockMove.id)
            )
        ]
        assert moves == ["received", "reserved", "shipped", "received"]
        kept = s.execute(select(StockCode).where(StockCode.identity == ident(f.codes["block"][2]))).scalar_one()
        assert kept.source_act_id == act_id  # held already: left as it was


def test_a_rejected_act_enters_nothing_and_only_decided_acts_enter(wholesaler: Flask, tmp_path: Path) -> None:
    db = get_db(wholesaler)
    f = ActFactory(number="ПР-2", pallets=1, boxes=1, blocks=1, packs=1)
    act_id = importing.import_act(db, f.write(tmp_path / "in.json")).act_id
    try:
        stock.enter_accepted(db, act_id)
    except stock.StockError as e:
        assert e.reason == "not_decided" and "no decision" in e.message("en")
    else:
        raise AssertionError("entered an act without a decision")
    receiving.record_scan(db, act_id, receiving.ScanInput(raw=f.codes["pallet"][0], source="cli"))
    receiving.close_act(db, act_id)
    receiving.decide(db, act_id, "rejected", reason="damage")
    result = stock.enter_accepted(db, act_id)
    assert (result.decision, result.codes, result.surplus) == ("rejected", 0, 0)
    with get_db(wholesaler).read() as s:
        assert stock.totals(s).codes == 0
    assert stock.enter_pending(db) == []
