"""The station's side end to end over real HTTP against the emulator, on SQLite and PostgreSQL: a seeded act
arrives by sync, is scanned, decided in part, signed, sent, and the emulator's owners change exactly for the
accepted codes; a second sync imports nothing; each fault ends in the right state with nothing sent twice."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import Auth, make_app
from tests.operator.conftest import RECEIVER, SENDER, Emulator
from tests.signing.pki import minted
from warehouse import transfer_act
from warehouse.db import Database, get_db
from warehouse.models import ActCode, OperatorDocument, OperatorOrigin
from warehouse.operator import outbox
from warehouse.services import audit, operator_incoming, operator_outbox, operator_session, operator_sync, receiving
from warehouse.services import signing as signing_service
from warehouse.services import trust as trust_service
from warehouse.services.operator_errors import OperatorServiceError
from warehouse.services.operator_session import OperatorSettings
from warehouse.signing.signers import Pkcs12Signer
from warehouse.signing.trust import load_settings
from warehouse.timeutil import utcnow
from warehouse.vocab import Decision, Level, OutboxState


@pytest.fixture
def station(db_url: str, tmp_path: Path, emulator: Emulator) -> Iterator[Flask]:
    """The receiver's station, pointed at the emulator, with the test chain's trust store."""
    application = make_app(
        db_url, tmp_path, OPERATOR_URL=emulator.url, COMPANY_BIN=RECEIVER.bin, OPERATOR_TIMEOUT_SECONDS=1.0
    )
    trust_service.update_from_folder(Path(application.config["TRUST_DIR"]), minted().store)
    yield application
    get_db(application).dispose()


def _settings(app: Flask) -> OperatorSettings:
    return OperatorSettings.from_config(app.config)


def _instance(app: Flask) -> Path:
    return Path(app.instance_path)


def _sync(app: Flask) -> operator_sync.Round:
    return operator_sync.sync_round(get_db(app), _instance(app), _settings(app))


def _arrived(app: Flask, emulator: Emulator, key: Pkcs12Signer, **shape: int) -> tuple[int, dict[str, object]]:
    """Seed an act at the emulator, log in, sync: the act's id here."""
    seeded = emulator.seed(**shape)
    operator_session.login_with_signer(_instance(app), _settings(app), key)
    done = _sync(app)
    mine = [t for t in done.touched if t.number == seeded["number"]]
    assert [(t.direction, t.state) for t in mine] == [("incoming", "imported")]
    assert mine[0].act_id is not None
    return mine[0].act_id, seeded


def _codes(db: Database, act_id: int, level: Level) -> list[str]:
    with db.read() as s:
        rows = s.execute(
            select(ActCode.code).where(ActCode.act_id == act_id, ActCode.level == level).order_by(ActCode.pos)
        )
        return list(rows.scalars())


def _labels(emulator: Emulator, seeded: dict[str, object], level: Level) -> list[str]:
    """What a scanner reads off the goods: the seeded file's full codes (the operator keeps none of the tails)."""
    seed = int(str(seeded["number"]).rsplit("-", 1)[1])
    reader = transfer_act.read_act(emulator.tmp / f"act-{seed}.json")
    return [line.code for line in reader.lines() if line.level is level]


def _scan(db: Database, act_id: int, codes: list[str]) -> None:
    for code in codes:
        receiving.record_scan(
            db,
            act_id,
            receiving.ScanInput(raw=code, source="cli", station="station-1", client_scan_id=str(uuid.uuid4())),
        )


def _decided_and_signed(app: Flask, act_id: int, decision: str, key: Pkcs12Signer) -> None:
    db = get_db(app)
    receiving.close_act(db, act_id)
    receiving.decide(db, act_id, decision, reason="shortage" if decision != Decision.ACCEPTED else None)
    signing_service.sign_act(db, act_id, key, settings=load_settings(app.config), actor="test")


def _queue(app: Flask, act_id: int, key: Pkcs12Signer) -> int:
    db = get_db(app)
    adapter = operator_session.adapter(_settings(app))
    draft = operator_outbox.acceptance_draft(db, act_id, adapter, when=utcnow())
    return operator_outbox.enqueue(db, draft, operator_outbox.sign_draft(draft, key, load_settings(app.config)))


def _doc(db: Database, doc_id: int) -> OperatorDocument:
    with db.read() as s:
        return s.get_one(OperatorDocument, doc_id)


def _until_final(app: Flask, doc_id: int, rounds: int = 20) -> OperatorDocument:
    for _ in range(rounds):
        doc = _doc(get_db(app), doc_id)
        if doc.state.final:
            return doc
        time.sleep(0.1)
        _sync(app)
    return _doc(get_db(app), doc_id)


def _creates(emulator: Emulator, since: int) -> int:
    """Acceptances the emulator made (answered 200) since the log's entry `since`."""
    path = emulator.profile.create_path("acceptance")
    return sum(
        1 for e in emulator.log(since) if e["method"] == "POST" and e["path"].endswith(path) and e["status"] == 200
    )


def test_an_act_arrives_is_accepted_in_part_and_ownership_moves_exactly(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    db = get_db(station)
    act_id, seeded = _arrived(station, emulator, receiver_key)
    with db.read() as s:
        origin = s.get_one(OperatorOrigin, act_id)
    assert origin.doc_id == seeded["doc_id"] and origin.status == "WAIT_ACCEPTANCE"
    again = _sync(station)  # a second sync imports nothing
    assert again.imported == 0 and all(t.number != seeded["number"] for t in again.touched)

    assert (
        operator_incoming.check_codes(
            db, operator_session.session_adapter(_instance(station), _settings(station)), act_id
        ).not_owned
        == 0
    )
    packs, blocks = _codes(db, act_id, Level.PACK), _codes(db, act_id, Level.BLOCK)
    labels = _labels(emulator, seeded, Level.PACK)
    assert [label[:21] for label in labels] == packs
    half = len(packs) // 2 + 1  # the first box whole, one pack of the second
    _scan(db, act_id, labels[:half])
    scanned = packs[:half]
    _decided_and_signed(station, act_id, Decision.ACCEPTED_WITH_DISCREPANCIES, receiver_key)
    before = len(emulator.log())
    doc_id = _queue(station, act_id, receiver_key)
    assert _doc(db, doc_id).state is OutboxState.QUEUED and _doc(db, doc_id).body  # stored before sending

    doc = _until_final(station, doc_id)
    assert doc.state is OutboxState.ACCEPTED, (doc.state, doc.messages)
    assert _creates(emulator, before) == 1
    owners = emulator.owners(packs + blocks)
    assert {c for c in packs if owners[c] == RECEIVER.bin} == set(scanned)
    assert {c for c in packs if owners[c] == SENDER.bin} == set(packs) - set(scanned)
    # Blocks accepted whole move, the block none of whose packs came stays; a split block's own code is
    # the operator's to decide (it is not in the acceptance, its contents are).
    assert {owners[c] for c in blocks[:2]} == {RECEIVER.bin} and owners[blocks[3]] == SENDER.bin


def test_the_answer_lost_after_success_is_found_by_lookup_never_sent_twice(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    emulator.control("faults", {"drop_response": {"count": 1, "delay": 1.6}})
    before = len(emulator.log())
    _sync(station)
    assert _doc(get_db(station), doc_id).state is OutboxState.UNKNOWN
    doc = _until_final(station, doc_id)
    assert doc.state is OutboxState.ACCEPTED and doc.doc_id
    time.sleep(1.7)  # the dropped answer's request is logged once its sleep is over
    assert _creates(emulator, before) == 1
    with get_db(station).read() as s:
        moves = [e.details["status"] for e in audit.for_act(s, act_id) if e.action == "operator.state"]
    assert moves[::-1][:2] == ["queued->sending", "sending->unknown"]


def test_an_acceptance_the_list_never_shows_is_not_sent_again_once_its_shipment_is_accepted(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is lost and the operator's list lags behind (it shows nothing for as long as the station waits
    for it): the shipment, ACCEPTED, says the acceptance went through, and it is not sent a second time."""
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    monkeypatch.setattr(outbox, "LOOKUP_GRACE", timedelta(0))  # waiting for the list is over at once
    emulator.control("clock", {"delay": 0})
    emulator.control("faults", {"drop_response": {"count": 1, "delay": 1.6}, "list_lag": 1000})
    before = len(emulator.log())
    _sync(station)
    assert _doc(get_db(station), doc_id).state is OutboxState.UNKNOWN
    doc = _until_final(station, doc_id)
    assert doc.state is OutboxState.ACCEPTED
    time.sleep(1.7)  # the dropped answer's request is logged once its sleep is over
    path = emulator.profile.create_path("acceptance")
    posts = [e for e in emulator.log(before) if e["method"] == "POST" and e["path"].endswith(path)]
    assert len(posts) == 1


def test_codes_no_longer_the_senders_are_flagged_and_a_504_flags_nothing(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    db = get_db(station)
    act_id, seeded = _arrived(station, emulator, receiver_key)
    packs = _codes(db, act_id, Level.PACK)
    _scan(db, act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    assert _until_final(station, doc_id).state is OutboxState.ACCEPTED  # every code is ours now
    emulator.control("faults", {"item_504": [packs[0]]})
    adapter = operator_session.session_adapter(_instance(station), _settings(station))
    result = operator_incoming.check_codes(db, adapter, act_id)
    with db.read() as s:
        total = len(list(s.execute(select(ActCode.id).where(ActCode.act_id == act_id)).scalars()))
    assert (result.codes, result.not_owned, result.not_in_circulation) == (total, total - 1, 0)
    flagged = {c.act_code_id for c in operator_incoming.flagged(db, act_id)}
    with db.read() as s:
        first = s.execute(select(ActCode.id).where(ActCode.act_id == act_id, ActCode.code == packs[0])).scalar_one()
    assert first not in flagged and len(flagged) == total - 1

    client = station.test_client()  # the same through the act's operator page, in English
    auth = Auth(client)
    auth.login("lead")
    client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": auth.csrf("/login")})
    page = client.get(f"/acts/{act_id}/operator").get_data(as_text=True)
    assert "Accepted by the operator" in page and "Check the codes at the operator" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    checked = client.post(f"/acts/{act_id}/operator/check", data={"csrf_token": token.group(1)}, follow_redirects=True)
    assert f"Checked {total} codes: not owned by the sender {total - 1}" in checked.get_data(as_text=True)


def test_a_burst_of_429_and_503_leaves_it_queued_then_it_goes_once(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    path = emulator.profile.create_path("acceptance")
    emulator.control("faults", {"burst": {"status": 503, "count": 2, "path": path}})
    before = len(emulator.log())
    _sync(station)
    doc = _doc(get_db(station), doc_id)
    assert doc.state is OutboxState.QUEUED and doc.next_attempt_at is not None and doc.status == "unavailable"
    emulator.control("faults", {"burst": {"status": 429, "count": 1, "path": path}})
    _sync(station)
    assert _doc(get_db(station), doc_id).state is OutboxState.QUEUED
    assert _until_final(station, doc_id).state is OutboxState.ACCEPTED
    assert _creates(emulator, before) == 1  # the refused tries were answered before anything was made


def test_an_expired_token_stops_the_round_and_asks_to_log_in(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    emulator.control("faults", {"expire_token": 1})
    with pytest.raises(OperatorServiceError) as stopped:
        _sync(station)
    assert stopped.value.reason == "session_expired"
    assert _doc(get_db(station), doc_id).state is OutboxState.QUEUED
    last = operator_sync.last_sync(get_db(station))
    assert last is not None and not last.ok and last.error == "session_expired"
    with pytest.raises(OperatorServiceError):  # the kept token is gone: every page asks to log in
        operator_session.current(_instance(station), _settings(station))
    operator_session.login_with_signer(_instance(station), _settings(station), receiver_key)
    assert _until_final(station, doc_id).state is OutboxState.ACCEPTED


def test_stuck_in_progress_stays_sent_and_is_polled_not_resent(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    emulator.control("faults", {"stuck": 1})
    before = len(emulator.log())
    for _ in range(3):
        _sync(station)
        time.sleep(0.1)
    doc = _doc(get_db(station), doc_id)
    assert (doc.state, doc.status) == (OutboxState.SENT, "IN_PROGRESS")
    emulator.control("release", {})
    assert _until_final(station, doc_id).state is OutboxState.ACCEPTED
    assert _creates(emulator, before) == 1


def test_a_processing_error_is_final_with_the_operators_message(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer
) -> None:
    act_id, seeded = _arrived(station, emulator, receiver_key)
    _scan(get_db(station), act_id, _labels(emulator, seeded, Level.PALLET))
    _decided_and_signed(station, act_id, Decision.ACCEPTED, receiver_key)
    doc_id = _queue(station, act_id, receiver_key)
    emulator.control("faults", {"processing_error": 1})
    before = len(emulator.log())
    doc = _until_final(station, doc_id)
    assert (doc.state, doc.status) == (OutboxState.ERROR, "PROCESSING_ERROR") and doc.messages
    for _ in range(2):
        _sync(station)
    assert _creates(emulator, before) == 1
