"""The station's side of the exchange that needs no operator: the kept session, the decision as the operator
will be told it, and the operator's word on codes as review lines (real SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import ActFactory
from warehouse.db import Database
from warehouse.models import Act, ActCode, OperatorCodeCheck, User
from warehouse.operator.decision import decide
from warehouse.operator.types import AcceptanceMode, Session
from warehouse.services import operator_session, receiving, review
from warehouse.services.importing import import_act
from warehouse.services.operator_errors import OperatorServiceError
from warehouse.services.operator_outbox import decision_nodes
from warehouse.services.operator_session import OperatorSettings
from warehouse.timeutil import utcnow
from warehouse.vocab import Decision, DiscrepancyKind

URL = "http://127.0.0.1:9/api/v3/true-api"
SETTINGS = OperatorSettings(URL, "kz_ismet_v3", None)


def test_the_session_is_kept_owner_only_and_read_back(tmp_path: Path) -> None:
    until = utcnow() + timedelta(hours=10)
    operator_session.save(tmp_path, Session("tok-1", "987654321090", until), URL)
    path = tmp_path / operator_session.SESSION_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "password" not in path.read_text()
    assert operator_session.current(tmp_path, SETTINGS) == Session("tok-1", "987654321090", until)
    assert operator_session.participant_bin(tmp_path, SETTINGS) == "987654321090"


def test_no_session_or_an_expired_one_asks_to_log_in(tmp_path: Path) -> None:
    with pytest.raises(OperatorServiceError) as missing:
        operator_session.current(tmp_path, SETTINGS)
    assert missing.value.reason == "login_needed"
    operator_session.save(tmp_path, Session("tok", "987654321090", utcnow() + timedelta(seconds=30)), URL)
    with pytest.raises(OperatorServiceError) as expired:
        operator_session.current(tmp_path, SETTINGS)
    assert expired.value.reason == "session_expired"
    assert "log in to the operator" in expired.value.message("en")


def test_a_session_for_another_operator_is_not_used(tmp_path: Path) -> None:
    operator_session.save(tmp_path, Session("tok", "987654321090", utcnow() + timedelta(hours=1)), URL)
    other = OperatorSettings("http://127.0.0.1:10/api/v3/true-api", "kz_ismet_v3", None)
    with pytest.raises(OperatorServiceError) as refused:
        operator_session.current(tmp_path, other)
    assert refused.value.reason == "login_needed"


def test_without_an_operator_url_nothing_is_called(tmp_path: Path) -> None:
    with pytest.raises(OperatorServiceError) as refused:
        operator_session.current(tmp_path, OperatorSettings(None, "kz_ismet_v3", None))
    assert refused.value.reason == "not_configured"


def _received(db: Database, tmp_path: Path, scanned: int) -> tuple[int, ActFactory]:
    """An act (1 pallet, 2 boxes of 2 blocks of 3 packs) with its first `scanned` packs scanned, then closed."""
    factory = ActFactory()
    act_id = import_act(db, factory.write(tmp_path / "act.json")).act_id
    for code in factory.codes["pack"][:scanned]:
        receiving.record_scan(
            db,
            act_id,
            receiving.ScanInput(raw=code, source="cli", station="station-1", client_scan_id=str(uuid.uuid4())),
        )
    receiving.close_act(db, act_id)
    return act_id, factory


def _lead(db: Database) -> User:
    with db.read() as s:
        return s.execute(select(User).where(User.username == "lead")).scalar_one()


def test_a_partial_decision_lists_the_split_aggregates_by_their_contents(db: Database, tmp_path: Path) -> None:
    act_id, factory = _received(db, tmp_path, scanned=9)  # box 1 whole (6 packs), 3 of box 2's 6 packs
    receiving.decide(db, act_id, Decision.ACCEPTED_WITH_DISCREPANCIES, reason="shortage")
    with db.read() as s:
        answer = decide(decision_nodes(s, act_id, Decision.ACCEPTED_WITH_DISCREPANCIES))
    boxes, blocks = factory.codes["box"], factory.codes["block"]
    assert answer.mode is AcceptanceMode.PARTIAL
    assert answer.accepted == {boxes[0], blocks[2]}  # box 1; box 2's first block (packs 7..9)
    assert answer.rejected == {blocks[3]}  # its second block, none of whose packs came


def test_accepted_and_rejected_acts_are_all_or_nothing(db: Database, tmp_path: Path) -> None:
    act_id, _ = _received(db, tmp_path, scanned=12)
    with db.read() as s:
        assert decide(decision_nodes(s, act_id, Decision.ACCEPTED)).mode is AcceptanceMode.ACCEPT_ALL
        assert decide(decision_nodes(s, act_id, Decision.REJECTED)).mode is AcceptanceMode.REJECT_ALL


def test_a_code_the_operator_flagged_is_a_review_line_and_refused_unless_the_lead_accepts_it(
    db: Database, tmp_path: Path
) -> None:
    act_id, factory = _received(db, tmp_path, scanned=12)  # everything scanned
    flagged_pack = factory.codes["pack"][0]
    with db.write() as s:
        code_id = s.execute(
            select(ActCode.id).where(ActCode.act_id == act_id, ActCode.code == flagged_pack)
        ).scalar_one()
        s.add(
            OperatorCodeCheck(
                act_id=act_id,
                act_code_id=code_id,
                problem=DiscrepancyKind.NOT_OWNED,
                status="INTRODUCED",
                owner_bin="111111111110",
            )
        )
    with db.read() as s:
        act = s.get_one(Act, act_id)
        lines = review.lines(s, act, "en")
    line = next(line for line in lines if line.kind == DiscrepancyKind.NOT_OWNED)
    assert line.code == flagged_pack and "111111111110" in (line.message or "")
    with pytest.raises(receiving.ReceivingError) as contradicts:
        receiving.decide(db, act_id, Decision.ACCEPTED)
    assert contradicts.value.reason == "decision_contradicts"
    with db.read() as s:
        answer = decide(decision_nodes(s, act_id, Decision.ACCEPTED_WITH_DISCREPANCIES))
    assert flagged_pack in answer.rejected
    review.resolve(
        db, act_id, resolution="accept", reason=None, comment="owner updated", user=_lead(db), act_code_id=code_id
    )
    with db.read() as s:
        assert decide(decision_nodes(s, act_id, Decision.ACCEPTED_WITH_DISCREPANCIES)).mode is AcceptanceMode.ACCEPT_ALL
