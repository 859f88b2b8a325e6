"""The round trip between two companies' stations (two databases): the wholesaler ships, the shop imports
the exported act, receives it with codes missing and a surplus, signs its acceptance; the wholesaler
applies it, and both ledgers are right to the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.shipping.conftest import SHOP_BIN, Stations, refused, settings, signer, stocked
from warehouse.codes import parse
from warehouse.db import Database
from warehouse.models import Act, StockCode, StockMove, User
from warehouse.services import audit, importing, receiving, review, shipping, stock
from warehouse.services import signing as signing_service
from warehouse.signing.errors import SigningError


def ident(code: str) -> str:
    identity = parse(code).identity
    assert identity is not None
    return identity


def ledger(db: Database) -> dict[str, set[str]]:
    """Identities by status, straight from the table."""
    out: dict[str, set[str]] = {}
    with db.read() as s:
        for identity, status in s.execute(select(StockCode.identity, StockCode.status)):
            out.setdefault(status, set()).add(identity)
    return out


def subtree(f: object, level: str, i: int) -> set[str]:
    """A code of the factory's act and everything the factory put inside it (by position in its lists)."""
    codes: dict[str, list[str]] = f.codes  # type: ignore[attr-defined]
    boxes, blocks = len(codes["box"]), len(codes["block"])
    per_box = blocks // boxes
    per_block = len(codes["pack"]) // blocks
    if level == "pack":
        return {ident(codes["pack"][i])}
    if level == "block":
        return {ident(codes["block"][i])} | {ident(p) for p in codes["pack"][i * per_block : (i + 1) * per_block]}
    out = {ident(codes["box"][i])}
    for k in range(i * per_box, (i + 1) * per_box):
        out |= subtree(f, "block", k)
    return out


def test_ship_receive_with_discrepancies_and_apply_the_acceptance(stations: Stations, tmp_path: Path) -> None:
    a, b = stations.a, stations.b
    f = stocked(a, tmp_path, pallets=1, boxes=4, blocks=2, packs=3)  # 1 + 4 + 8 + 24 = 37 codes
    box, block = f.codes["box"], f.codes["block"]

    # The wholesaler builds the act: three boxes and one block of the fourth box, which is opened for it.
    out = shipping.new_act(
        a,
        receiver_bin=SHOP_BIN,
        receiver_name='ТОО "Магазин <1>"',
        sender=shipping.company(stations.wholesaler.config),
        basis=[shipping.Basis("ESF", "KZ-ESF-2026-77", "2026-11-19")],
        actor="test",
    )
    assert shipping.add_code(a, out.id, box[0]).reason == "inside_aggregate"
    stock.open_aggregate(a, f.codes["pallet"][0], actor="test")
    assert [shipping.add_code(a, out.id, c).added for c in box[:3]] == [True] * 3
    assert shipping.add_code(a, out.id, block[6]).reason == "inside_aggregate"
    stock.open_aggregate(a, box[3], actor="test")
    assert shipping.add_code(a, out.id, block[6]).codes == 4
    gtin = block[0][2:16]
    shipping.set_price(a, out.id, gtin, "block", 112_000, actor="test")

    # Two documents of at most 20 codes: [box 0, box 1] and [box 2, block 6]; no box is cut.
    signed = shipping.sign(a, out.id, signer(), settings=settings(stations.wholesaler), actor="lead", max_codes=20)
    assert [(d.number, d.codes) for d in signed.documents] == [(f"{out.number}/1", 18), (f"{out.number}/2", 13)]
    assert signed.warnings == ()
    files = shipping.export(a, out.id, tmp_path / "out.json", actor="test")
    assert [p.name for p in files] == ["out.1.json", "out.1.p7s", "out.2.json", "out.2.p7s"]
    assert shipping.act_summary(a, out.id).act.status == "sent"
    shipped = subtree(f, "box", 0) | subtree(f, "box", 1) | subtree(f, "box", 2) | subtree(f, "block", 6)
    assert ledger(a)["shipped"] == shipped

    # The shop imports both documents as incoming acts and checks the wholesaler's signature.
    shop_settings = settings(stations.shop)
    assert signing_service.verify(shop_settings, files[0].read_bytes(), files[1].read_bytes()).valid
    first = importing.import_act(b, files[0]).act_id
    second = importing.import_act(b, files[2]).act_id
    with b.read() as s:
        head = s.get(Act, first)
        assert head is not None and head.sender_bin == "123456789013" and head.number == f"{out.number}/1"
        assert [b_["number"] for b_ in head.basis] == ["KZ-ESF-2026-77"]

    # Part 1: box 0 whole; of box 1 only block 2 arrived (block 3 is missing); block 7, still the
    # wholesaler's, travelled without being on the act: a surplus the shop's lead accepts.
    for code in (box[0], block[2], block[7]):
        receiving.record_scan(b, first, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(b, first, actor="staff")
    with b.read() as s:
        surplus = [line for line in review.lines(s, s.get(Act, first)) if line.kind == "surplus"]  # type: ignore[arg-type]
    assert [line.code for line in surplus] == [block[7]]
    lead = _user(b, "lead")
    review.resolve(b, first, resolution="accept", reason="surplus", comment=None, user=lead, scan_id=surplus[0].scan_id)
    receiving.decide(b, first, "accepted_with_discrepancies", reason="shortage", actor="lead")
    # Part 2 arrives whole.
    for code in (box[2], block[6]):
        receiving.record_scan(b, second, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(b, second, actor="staff")
    receiving.decide(b, second, "accepted", actor="lead")
    entered = [stock.enter_accepted(b, act_id, actor="lead") for act_id in (first, second)]
    assert [(e.codes, e.surplus) for e in entered] == [(13, 1), (13, 0)]
    answers = [
        signing_service.sign_act(b, act_id, signer(), settings=shop_settings, actor="lead")
        for act_id in (first, second)
    ]

    # The wholesaler applies the two acceptances.
    doc1, doc2 = answers[0].documents[0], answers[1].documents[0]
    result = shipping.apply_acceptance(
        a, out.id, doc1.content, answers[0].signatures[0], settings=settings(stations.wholesaler), actor="lead"
    )
    assert (result.decision, result.transfer_part, result.status) == ("accepted_with_discrepancies", 1, "sent")
    assert result.returned == 4 and result.returned_codes == [block[3]]
    assert result.broken_up == [box[1]]
    assert [(c.code, c.accepted, c.ours) for c in result.surplus] == [(block[7], True, True)]
    with refused(shipping.ShippingError, "already_applied"):
        shipping.apply_acceptance(
            a, out.id, doc1.content, answers[0].signatures[0], settings=settings(stations.wholesaler)
        )
    final = shipping.apply_acceptance(
        a, out.id, doc2.content, answers[1].signatures[0], settings=settings(stations.wholesaler), actor="lead"
    )
    assert (final.returned, final.status) == (0, "discrepancies")

    # The wholesaler's ledger, to the code.
    returned = subtree(f, "block", 3)
    assert ledger(a) == {
        "shipped": shipped - returned,
        "in_stock": returned | subtree(f, "block", 7),
        "disaggregated": {ident(f.codes["pallet"][0]), ident(box[3])},
    }
    with a.read() as s:
        back = s.execute(select(StockCode).where(StockCode.identity == ident(block[3]))).scalar_one()
        assert back.parent_id is None and back.act_id is None  # box 1 is gone: the block is loose
        kinds = [
            k
            for (k,) in s.execute(
                select(StockMove.kind).where(StockMove.stock_code_id == back.id).order_by(StockMove.id)
            )
        ]
        assert kinds == ["received", "reserved", "shipped", "returned"]
        assert audit.verify(s).ok
    # The shop's ledger: what it accepted, the surplus block included (without packs it never saw).
    assert ledger(b) == {
        "in_stock": (
            subtree(f, "box", 0)
            | subtree(f, "block", 2)
            | {ident(block[7])}
            | subtree(f, "box", 2)
            | subtree(f, "block", 6)
        )
    }
    with b.read() as s:
        assert audit.verify(s).ok
    # What the wholesaler holds can be shipped again; what left cannot.
    again = shipping.new_act(
        a,
        receiver_bin=SHOP_BIN,
        receiver_name="ТОО Магазин",
        actor="test",
        sender=shipping.company(stations.wholesaler.config),
    )
    assert shipping.add_code(a, again.id, block[3]).added
    assert shipping.add_code(a, again.id, box[0]).reason == "already_shipped"


def test_a_tampered_or_foreign_acceptance_changes_nothing(stations: Stations, tmp_path: Path) -> None:
    a, b = stations.a, stations.b
    f = stocked(a, tmp_path, pallets=1, boxes=2, blocks=1, packs=2)
    stock.open_aggregate(a, f.codes["pallet"][0])
    out = shipping.new_act(
        a, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(stations.wholesaler.config)
    )
    shipping.add_code(a, out.id, f.codes["box"][0])
    shipping.sign(a, out.id, signer(), settings=settings(stations.wholesaler))
    [doc, _sig] = shipping.export(a, out.id, tmp_path / "act.json")
    incoming = importing.import_act(b, doc).act_id
    receiving.close_act(b, incoming)  # nothing arrived
    receiving.decide(b, incoming, "rejected", reason="shortage")
    answer = signing_service.sign_act(b, incoming, signer(), settings=settings(stations.shop))
    content, signature = answer.documents[0].content, answer.signatures[0]
    other = shipping.new_act(
        a, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(stations.wholesaler.config)
    )
    shipping.add_code(a, other.id, f.codes["box"][1])
    shipping.sign(a, other.id, signer(), settings=settings(stations.wholesaler))
    before = ledger(a)

    tampered = content.replace(b'"accepted":false', b'"accepted":true ')
    with pytest.raises(SigningError) as e:
        shipping.apply_acceptance(a, out.id, tampered, signature, settings=settings(stations.wholesaler))
    assert e.value.reason in ("content_mismatch", "bad_signature")
    untrusted = stations.wholesaler.config | {"TRUST_DIR": str(tmp_path / "no-store")}
    from warehouse.signing.trust import load_settings

    with pytest.raises(SigningError, match="no_trust_store"):
        shipping.apply_acceptance(a, out.id, content, signature, settings=load_settings(untrusted, {}))
    with refused(shipping.ShippingError, "wrong_act"):
        shipping.apply_acceptance(a, other.id, content, signature, settings=settings(stations.wholesaler))
    assert ledger(a) == before

    # The genuine one, rejected: everything comes back, the box whole.
    result = shipping.apply_acceptance(a, out.id, content, signature, settings=settings(stations.wholesaler))
    assert (result.status, result.returned, result.returned_codes) == ("rejected", 4, [f.codes["box"][0]])
    with a.read() as s:
        view = stock.find(s, f.codes["box"][0])
        assert view is not None and view.row.status == "in_stock" and view.inside == 3
    assert json.loads(content)["decision"] == "rejected"


def _user(db: Database, username: str) -> User:
    with db.read() as s:
        return s.execute(select(User).where(User.username == username)).scalar_one()
