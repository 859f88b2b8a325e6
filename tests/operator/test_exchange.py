"""Acts over real HTTP against the emulator: list, fetch with the tree, look codes up, accept, ship, cancel."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.operator.conftest import RECEIVER, SENDER, Emulator
from warehouse import canonical
from warehouse.operator.http import HttpOperatorAdapter
from warehouse.operator.types import (
    AcceptanceDecision,
    AcceptanceMode,
    Act,
    OperatorError,
    OutgoingLine,
    SubmissionState,
)
from warehouse.signing.signers import Pkcs12Signer

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))


@pytest.fixture
def receiver(emulator: Emulator, receiver_key: Pkcs12Signer) -> Iterator[HttpOperatorAdapter]:
    with emulator.adapter() as adapter:
        adapter.authenticate(receiver_key)
        yield adapter


def _final(adapter: HttpOperatorAdapter, doc_id: str) -> str:
    for _ in range(100):
        status = adapter.document_status(doc_id)
        if status.status != "IN_PROGRESS":
            return status.status
        time.sleep(0.02)
    raise AssertionError("still IN_PROGRESS")


def _send(adapter: HttpOperatorAdapter, signer: Pkcs12Signer, kind: str, body: bytes) -> str:
    submission = adapter.submit(kind, body, signer.sign(body))  # type: ignore[arg-type]
    assert submission.state is SubmissionState.SENT and submission.doc_id
    return submission.doc_id


def test_the_list_pages_by_keyset(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    seeded = {emulator.seed(pallets=0, boxes_per_pallet=1)["doc_id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = receiver.list_incoming_acts(*WINDOW, cursor=cursor, limit=2)
        seen += [a.id for a in page.items]
        pages += 1
        assert len(page.items) <= 2
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seeded <= set(seen) and len(seen) == len(set(seen))
    assert pages >= 3
    act = next(a for a in receiver.list_incoming_acts(*WINDOW, limit=100).items if a.id in seeded)
    assert (act.sender_bin, act.receiver_bin, act.status, act.type) == (
        SENDER.bin,
        RECEIVER.bin,
        "WAIT_ACCEPTANCE",
        "LP_SHIP_GOODS",
    )
    assert act.number.startswith("ТА-")
    # every call carried a date window, and the sender/receiver rule holds
    assert all("dateFrom=" in e["query"] and "dateTo=" in e["query"] for e in emulator.log() if "doc/list" in e["path"])
    r = httpx.get(
        f"{emulator.url}/doc/list",
        params={"pg": "tobacco", "senderInn": RECEIVER.bin, "receiverInn": RECEIVER.bin},
        headers={"Authorization": f"Bearer {receiver.session.token}"},  # type: ignore[union-attr]
    )
    assert r.status_code == 400 and "одновременно" in r.json()["error_message"]


def _fetch(emulator: Emulator, receiver: HttpOperatorAdapter, **shape: int) -> Act:
    doc_id = emulator.seed(**shape)["doc_id"]
    return receiver.get_act(doc_id, expand="tree")


def test_the_tree_comes_in_preorder_with_levels(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    act = _fetch(emulator, receiver, pallets=1, boxes_per_pallet=2, blocks_per_box=2, packs_per_block=3)
    levels = [line.level for line in act.lines]
    assert levels.count("pallet") == 1 and levels.count("box") == 2
    assert levels.count("block") == 4 and levels.count("pack") == 12
    assert [line.listed for line in act.lines].count(True) == 1 and act.lines[0].level == "pallet"
    seen: set[str] = set()
    for line in act.lines:  # preorder: a parent before its contents
        assert line.parent is None or line.parent in seen
        seen.add(line.code)
    pack = next(line for line in act.lines if line.level == "pack")
    assert len(pack.code) == 21 and pack.gtin == pack.code[:14]
    listed = receiver.get_act(act.summary.id, expand="listed")
    assert [line.code for line in listed.lines] == [act.lines[0].code]
    assert act.summary.sender_bin == SENDER.bin and act.turnover_type == "SELLING"


def test_codes_info_batches_and_keeps_per_item_errors(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    act = _fetch(emulator, receiver, pallets=0, boxes_per_pallet=5, blocks_per_box=25, packs_per_block=10)
    codes = [line.code for line in act.lines]
    assert len(codes) > 1000
    unknown = "04870999999995ZZZZZZZ"
    emulator.control("faults", {"item_504": [codes[3]]})
    start = len(emulator.log())
    infos = receiver.codes_info([*codes, unknown])
    calls = [e for e in emulator.log(start) if e["path"].endswith("/cises/info")]
    assert len(calls) == 2  # 1256 codes: batches of 1000
    assert len(infos) == len(codes) + 1
    assert infos[3].error_code == "504" and infos[-1].error_code == "404"
    ok = [i for i in infos if i.error_code is None]
    assert len(ok) == len(codes) - 1
    assert {(i.owner_bin, i.status) for i in ok} == {(SENDER.bin, "INTRODUCED")}
    assert {i.package_type for i in ok} == {"BOX", "GROUP", "UNIT"}
    r = httpx.post(
        f"{emulator.url}/cises/info",
        json=[],
        headers={"Authorization": f"Bearer {receiver.session.token}"},  # type: ignore[union-attr]
    )
    assert r.status_code == 400


def test_a_full_acceptance_moves_every_code(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    act = _fetch(emulator, receiver)
    body = receiver.acceptance_body(
        act, AcceptanceDecision(AcceptanceMode.ACCEPT_ALL), number="ПР-1", when=datetime.now(UTC)
    )
    assert body == canonical.dumps(json.loads(body))  # the bytes signed are canonical JSON
    doc_id = _send(receiver, receiver_key, "acceptance", body)
    assert _final(receiver, doc_id) == "CHECKED_OK"
    assert receiver.document_status(act.summary.id).status == "ACCEPTED"
    owners = emulator.owners([line.code for line in act.lines])
    assert set(owners.values()) == {RECEIVER.bin}


def test_a_partial_acceptance_moves_exactly_the_accepted_codes(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    act = _fetch(emulator, receiver, pallets=1, boxes_per_pallet=2, blocks_per_box=2, packs_per_block=3)
    boxes = [line for line in act.lines if line.level == "box"]
    blocks = [line for line in act.lines if line.parent == boxes[1].code]
    packs = [line for line in act.lines if line.parent == blocks[1].code]
    # box 1 whole, box 2: block 1 rejected, block 2 split (2 packs of 3 accepted)
    accepted = {boxes[0].code, packs[0].code, packs[1].code}
    rejected = {blocks[0].code, packs[2].code}
    decision = AcceptanceDecision(AcceptanceMode.PARTIAL, frozenset(accepted), frozenset(rejected))
    body = receiver.acceptance_body(act, decision, number="ПР-2", when=datetime.now(UTC))
    doc_id = _send(receiver, receiver_key, "acceptance", body)
    assert _final(receiver, doc_id) == "CHECKED_OK", receiver.document_status(doc_id).errors
    owners = emulator.owners([line.code for line in act.lines])
    under_box1 = {line.code for line in act.lines if line.parent == boxes[0].code}
    under_box1 |= {line.code for line in act.lines if line.parent in under_box1}
    mine = {boxes[0].code, *under_box1, packs[0].code, packs[1].code}
    mine |= {act.lines[0].code, boxes[1].code, blocks[1].code}  # the split packages themselves came
    assert {c for c, o in owners.items() if o == RECEIVER.bin} == mine
    assert {c for c, o in owners.items() if o == SENDER.bin} == set(owners) - mine


def test_a_wrong_list_and_cost_on_a_rejected_code_are_refused(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    act = _fetch(emulator, receiver, pallets=0, boxes_per_pallet=2, blocks_per_box=1, packs_per_block=1)
    listed = [line.code for line in act.lines if line.listed]
    body = receiver.acceptance_body(
        act,
        AcceptanceDecision(AcceptanceMode.PARTIAL, frozenset(listed), frozenset()),
        number="ПР-3",
        when=datetime.now(UTC),
    )
    doc = json.loads(body)
    doc["products"] = doc["products"][:1]  # one listed code left out
    wrong = canonical.dumps(doc)
    doc_id = _send(receiver, receiver_key, "acceptance", wrong)
    assert _final(receiver, doc_id) == "CHECKED_NOT_OK"
    assert "не совпадает" in receiver.document_status(doc_id).errors[0]
    doc = json.loads(body)
    doc["products"][0] |= {"accepted": False, "product_cost": 100}
    doc_id = _send(receiver, receiver_key, "acceptance", canonical.dumps(doc))
    assert _final(receiver, doc_id) == "CHECKED_NOT_OK"
    doc = json.loads(body) | {"accept_all": True, "reject_all": True}
    doc_id = _send(receiver, receiver_key, "acceptance", canonical.dumps(doc))
    assert _final(receiver, doc_id) == "CHECKED_NOT_OK"
    assert receiver.document_status(act.summary.id).status == "WAIT_ACCEPTANCE"  # nothing changed
    assert set(emulator.owners([line.code for line in act.lines]).values()) == {SENDER.bin}


def test_fields_are_strict_and_the_signature_must_be_of_the_bytes(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    act = _fetch(emulator, receiver, pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)
    body = receiver.acceptance_body(
        act, AcceptanceDecision(AcceptanceMode.REJECT_ALL), number="ПР-4", when=datetime.now(UTC)
    )
    with pytest.raises(OperatorError) as e:
        receiver.submit("acceptance", body, receiver_key.sign(body + b" "))
    assert (e.value.reason, e.value.message) == ("refused", "Ошибка при проверке подписи")
    for change, message in (
        ({"colour": "red"}, "Недопустимое поле: colour"),
        ({"document_number": None}, "Отсутствует обязательное поле: document_number"),
    ):
        doc = {k: v for k, v in (json.loads(body) | change).items() if v is not None}
        raw = canonical.dumps(doc)
        with pytest.raises(OperatorError) as e:
            receiver.submit("acceptance", raw, receiver_key.sign(raw))
        assert e.value.message == message


def test_an_outgoing_act_is_shipped_then_cancelled(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    # codes of our own (the receiver's), shipped back to the sender, then cancelled
    seeded = emulator.seed(mode="owned", pallets=0, boxes_per_pallet=2, blocks_per_box=1, packs_per_block=2)
    assert seeded["doc_id"] is None
    act_codes = _own_boxes(emulator)
    body = receiver.shipment_body(
        number="ОТ-1",
        when=datetime.now(UTC),
        receiver_bin=SENDER.bin,
        lines=[OutgoingLine(c, 1000, 160) for c in act_codes],
    )
    doc_id = _send(receiver, receiver_key, "shipment", body)
    assert _final(receiver, doc_id) == "WAIT_ACCEPTANCE"
    cancel = receiver.cancel_body(doc_id)
    cancel_id = _send(receiver, receiver_key, "cancel", cancel)
    assert _final(receiver, cancel_id) == "CHECKED_OK"
    assert receiver.document_status(doc_id).status == "CANCELLED"
    again = _send(receiver, receiver_key, "cancel", cancel)  # only while waiting for acceptance
    assert _final(receiver, again) == "CHECKED_NOT_OK"
    # a code we do not own cannot be shipped
    foreign = _fetch(emulator, receiver, pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)
    body = receiver.shipment_body(
        number="ОТ-2", when=datetime.now(UTC), receiver_bin=SENDER.bin, lines=[OutgoingLine(foreign.lines[0].code)]
    )
    bad = _send(receiver, receiver_key, "shipment", body)
    assert _final(receiver, bad) == "CHECKED_NOT_OK"
    assert "другому участнику" in receiver.document_status(bad).errors[0]


def _own_boxes(emulator: Emulator) -> list[str]:
    found = httpx.get(f"{emulator.root}/_emu/owned", params={"inn": RECEIVER.bin, "level": "box"}).json()
    assert len(found) >= 2
    return list(found)[-2:]


def test_the_ru_profile_uses_the_unified_envelope(ru_emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    with ru_emulator.adapter() as adapter:
        adapter.authenticate(receiver_key)
        doc_id = ru_emulator.seed(pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)["doc_id"]
        act = adapter.get_act(doc_id)
        body = adapter.acceptance_body(
            act, AcceptanceDecision(AcceptanceMode.ACCEPT_ALL), number="ПР-RU", when=datetime.now(UTC)
        )
        submitted = _send(adapter, receiver_key, "acceptance", body)
        assert _final(adapter, submitted) == "CHECKED_OK"
    created = [e for e in ru_emulator.log() if e["method"] == "POST" and "documents" in e["path"]]
    assert created[-1]["path"].endswith("/lk/documents/create") and "pg=tobacco" in created[-1]["query"]


def test_find_document_after_an_unknown_result(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    assert receiver.find_document("НЕТ-ТАКОГО", datetime.now(UTC) - timedelta(hours=1)) is None


def test_doc_cises_gives_the_leaves_only(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    act = _fetch(emulator, receiver, pallets=1, boxes_per_pallet=1, blocks_per_box=2, packs_per_block=2)
    r = httpx.get(
        f"{emulator.url}/doc/cises",
        params={"documentId": act.summary.id, "productGroup": "tobacco"},
        headers={"Authorization": f"Bearer {receiver.session.token}"},  # type: ignore[union-attr]
    )
    assert r.status_code == 200
    assert r.json()["cisList"] == [line.code for line in act.lines if line.level == "pack"]


def test_a_block_with_another_price_is_701(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    act = _fetch(emulator, receiver, pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)
    block = next(line.code for line in act.lines if line.level == "block")
    info = {i.code: i for i in receiver.codes_info([block + "\x1d8005000001", block])}
    assert info[block + "\x1d8005000001"].error_code == "701" and info[block].error_code is None


def test_a_token_past_its_ten_hours_is_refused(emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    with emulator.adapter() as adapter:
        adapter.authenticate(receiver_key)
        with emulator.adapter(token=adapter.session.token) as bare:  # type: ignore[union-attr]
            emulator.control("clock", {"advance": 10 * 3600 + 60})
            try:
                with pytest.raises(OperatorError) as e:
                    bare.codes_info(["04870999999995ZZZZZZZ"])
                assert e.value.reason == "unauthorized"
                assert adapter.codes_info(["04870999999995ZZZZZZZ"])[0].error_code == "404"  # logged in again
            finally:
                emulator.control("clock", {"advance": -(10 * 3600 + 60)})


def test_the_document_id_is_the_listed_field_the_profile_names(
    own_id_emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    """number ≠ id: the list's `number` is the sender's own, the id is in "id" (the profile's list_id_field)."""
    emulator = own_id_emulator
    seeded = [emulator.seed(pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1) for _ in range(2)]
    with emulator.adapter() as adapter:
        adapter.authenticate(receiver_key)
        listed, cursor = [], None
        while True:  # keyset paging anchors on the id too
            page = adapter.list_incoming_acts(*WINDOW, cursor=cursor, limit=1)
            listed += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted((a.id, a.number) for a in listed) == sorted((s["doc_id"], s["number"]) for s in seeded)
        act = adapter.get_act(seeded[0]["doc_id"])
        assert (act.summary.id, act.summary.number) == (seeded[0]["doc_id"], seeded[0]["number"])
        body = adapter.acceptance_body(
            act, AcceptanceDecision(AcceptanceMode.ACCEPT_ALL), number="ПР-ID", when=datetime.now(UTC)
        )
        doc_id = _send(adapter, receiver_key, "acceptance", body)
        found = adapter.find_document("ПР-ID", datetime.now(UTC) - timedelta(minutes=1))
        assert found is not None and found.doc_id == doc_id
        assert adapter.document_status(found.doc_id).doc_id == doc_id
