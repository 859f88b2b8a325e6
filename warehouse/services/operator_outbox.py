"""The outbox of documents for the operator: built, signed and stored before they are sent; sent once.

A document (our acceptance of an incoming act, our outgoing act's shipment, its cancellation) is built by the
profile's adapter from what the station decided, signed with the same signers as `warehouse sign` (only a
signature that verifies over the exact bytes, by the signer's own certificate, is kept), and stored `queued`
with its bytes, its detached CMS and their SHA-256 in one transaction. Sending is separate (`send_due`,
`reconcile`, `poll`, each move audited), by the rules of warehouse/operator/outbox.py: claimed by a
compare-and-set to `sending` and committed before the request goes out, so two processes never send the same
document, and a crash while sending leaves it `sending`, which is looked up, never sent blindly again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import Act, ActCode, Decision, OperatorCodeCheck, OperatorDocument, OperatorOrigin, User
from warehouse.operator import outbox
from warehouse.operator.decision import Node, decide
from warehouse.operator.types import (
    AcceptanceDecision,
    ActLine,
    ActSummary,
    DocStatus,
    OperatorAdapter,
    OperatorError,
    OutgoingLine,
    SubmissionState,
)
from warehouse.operator.types import Act as OperatorAct
from warehouse.services import audit
from warehouse.services import signing as signing_service
from warehouse.services.acts import find_act
from warehouse.services.operator_errors import OperatorServiceError
from warehouse.signing import acceptance
from warehouse.signing.signers import Signer
from warehouse.signing.trust import SigningSettings
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction, OperatorDocKind, OutboxState

log = logging.getLogger(__name__)

# A document `sending` for longer than this was left so by a process that died while sending.
STALE_SENDING: Final = timedelta(minutes=5)
_ACTIVE: Final = (
    OutboxState.QUEUED,
    OutboxState.SENDING,
    OutboxState.SENT,
    OutboxState.UNKNOWN,
    OutboxState.WAITING,
    OutboxState.ACCEPTED,
)
_CODES_BATCH: Final = 20_000
_KINDS: Final[dict[OperatorDocKind, Literal["acceptance", "shipment", "cancel"]]] = {
    OperatorDocKind.ACCEPTANCE: "acceptance",
    OperatorDocKind.SHIPMENT: "shipment",
    OperatorDocKind.CANCEL: "cancel",
}


@dataclass(frozen=True)
class Touched:
    """One document a round moved (the `operator sync --json` line)."""

    number: str
    direction: str
    state: str
    kind: str = ""
    act_id: int | None = None
    messages: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "direction": self.direction,
            "state": self.state,
            "kind": self.kind,
            "act_id": self.act_id,
            "messages": list(self.messages),
        }


# --- what the operator is told: built from the station's records ------------------------------------------


def _refuse(reason: str) -> OperatorServiceError:
    return OperatorServiceError(reason)


def _flagged_ids(s: Session, act_id: int) -> set[int]:
    return set(s.execute(select(OperatorCodeCheck.act_code_id).where(OperatorCodeCheck.act_id == act_id)).scalars())


def decision_nodes(s: Session, act_id: int, decision: str) -> Iterator[Node]:
    """The act's codes in preorder with the station's accepted flag, by the rule the signed acceptance document
    follows (warehouse.signing.acceptance.code_accepted; a lead's resolution on an aggregate covers what is
    inside it). A code the operator flagged (not owned by the sender, not in circulation) counts as accepted
    only by the lead's word on its line, not by its scan."""
    by_code, _ = signing_service._latest_resolutions(s, act_id)
    flagged = _flagged_ids(s, act_id)
    stmt = (
        select(ActCode.id, ActCode.parent_id, ActCode.code, ActCode.credited_scan_id)
        .where(ActCode.act_id == act_id)
        .order_by(ActCode.pos, ActCode.id)
        .execution_options(yield_per=_CODES_BATCH)
    )
    codes: dict[int, str] = {}
    inherited: dict[int, Any] = {}
    for code_id, parent_id, code, credited_scan_id in s.connection().execute(stmt):
        codes[code_id] = code
        own = by_code.get(code_id)
        resolution = own or (inherited.get(parent_id) if parent_id is not None else None)
        if resolution is not None:
            inherited[code_id] = resolution
        credited = credited_scan_id is not None and code_id not in flagged
        accepted = acceptance.code_accepted(decision, credited, resolution.resolution if resolution else None)
        yield Node(code, codes.get(parent_id) if parent_id is not None else None, accepted)


def operator_act(s: Session, act: Act, origin: OperatorOrigin) -> OperatorAct:
    """The operator's act as the station holds it: the tops of its trees are what the shipment listed."""
    rows = s.execute(
        select(ActCode.id, ActCode.parent_id, ActCode.code, ActCode.level, ActCode.gtin, ActCode.price, ActCode.vat)
        .where(ActCode.act_id == act.id)
        .order_by(ActCode.pos, ActCode.id)
    ).all()
    text = {r.id: r.code for r in rows}
    lines = tuple(
        ActLine(
            code=r.code,
            level=str(r.level),
            parent=text.get(r.parent_id) if r.parent_id is not None else None,
            listed=r.parent_id is None,
            gtin=r.gtin,
            price_tiyn=r.price,
            vat_tiyn=r.vat,
        )
        for r in rows
    )
    summary = ActSummary(
        id=origin.doc_id,
        number=origin.number,
        doc_date=origin.doc_date or act.created_at,
        type=origin.doc_type,
        status=origin.status,
        sender_bin=act.sender_bin,
        sender_name=act.sender_name,
        receiver_bin=act.receiver_bin,
        receiver_name=act.receiver_name,
    )
    return OperatorAct(summary, origin.doc_date, act.turnover.upper() if act.turnover else None, lines)


def _number(s: Session, act: Act, kind: OperatorDocKind) -> str:
    n = s.execute(
        select(func.count())
        .select_from(OperatorDocument)
        .where(OperatorDocument.act_id == act.id, OperatorDocument.kind == kind)
    ).scalar_one()
    return f"WH{act.id}-{kind.value[0].upper()}{n + 1}"


def _one_active(s: Session, act: Act, kind: OperatorDocKind) -> None:
    active = s.execute(
        select(OperatorDocument.id).where(
            OperatorDocument.act_id == act.id, OperatorDocument.kind == kind, OperatorDocument.state.in_(_ACTIVE)
        )
    ).first()
    if active is not None:
        raise OperatorServiceError("already_queued", number=act.number)


@dataclass(frozen=True)
class Draft:
    """A document to sign: its exact bytes, made for `when` (rebuilt the same from the same records)."""

    act_id: int
    kind: OperatorDocKind
    number: str
    when: datetime
    body: bytes
    decision: AcceptanceDecision | None = None


def acceptance_draft(db: Database, ref: str | int, adapter: OperatorAdapter, *, when: datetime) -> Draft:
    """The operator's acceptance of a signed incoming act, from its decision. Raises OperatorServiceError."""
    with db.read() as s:
        act = find_act(s, ref, refuse=_refuse, direction=Direction.INCOMING)
        origin = s.get(OperatorOrigin, act.id)
        if origin is None:
            raise OperatorServiceError("not_from_operator", number=act.number)
        if act.status != ActStatus.SIGNED:
            raise OperatorServiceError("not_signed", number=act.number)
        _one_active(s, act, OperatorDocKind.ACCEPTANCE)
        decision = s.execute(
            select(Decision).where(Decision.act_id == act.id).order_by(Decision.id.desc()).limit(1)
        ).scalar_one()
        answer = decide(decision_nodes(s, act.id, decision.decision))
        number = _number(s, act, OperatorDocKind.ACCEPTANCE)
        body = adapter.acceptance_body(operator_act(s, act, origin), answer, number=number, when=when)
        return Draft(act.id, OperatorDocKind.ACCEPTANCE, number, when, body, answer)


def shipment_draft(db: Database, ref: str | int, adapter: OperatorAdapter, *, when: datetime) -> Draft:
    """The operator's shipment of a signed outgoing act: the tops of its frozen tree, with their prices."""
    with db.read() as s:
        act = find_act(s, ref, refuse=_refuse, direction=Direction.OUTGOING)
        if act.status not in (ActStatus.SIGNED, ActStatus.SENT):
            raise OperatorServiceError("no_outgoing", number=act.number)
        _one_active(s, act, OperatorDocKind.SHIPMENT)
        rows = s.execute(
            select(ActCode.code, ActCode.price, ActCode.vat)
            .where(ActCode.act_id == act.id, ActCode.parent_id.is_(None))
            .order_by(ActCode.pos, ActCode.id)
        ).all()
        number = _number(s, act, OperatorDocKind.SHIPMENT)
        lines = [OutgoingLine(r.code, r.price, r.vat) for r in rows]
        body = adapter.shipment_body(number=number, when=when, receiver_bin=act.receiver_bin, lines=lines)
        return Draft(act.id, OperatorDocKind.SHIPMENT, number, when, body)


def cancel_draft(db: Database, ref: str | int, adapter: OperatorAdapter, *, when: datetime) -> Draft:
    """The cancellation of our shipment, only while it waits for the receiver's acceptance."""
    with db.read() as s:
        act = find_act(s, ref, refuse=_refuse, direction=Direction.OUTGOING)
        shipment = s.execute(
            select(OperatorDocument)
            .where(OperatorDocument.act_id == act.id, OperatorDocument.kind == OperatorDocKind.SHIPMENT)
            .order_by(OperatorDocument.id.desc())
            .limit(1)
        ).scalar()
        if shipment is None or shipment.doc_id is None:
            raise OperatorServiceError("not_sent", number=act.number)
        if shipment.state != OutboxState.WAITING:
            raise OperatorServiceError("not_cancellable", number=act.number)
        _one_active(s, act, OperatorDocKind.CANCEL)
        number = _number(s, act, OperatorDocKind.CANCEL)
        return Draft(act.id, OperatorDocKind.CANCEL, number, when, adapter.cancel_body(shipment.doc_id))


def checked_signature(settings: SigningSettings, body: bytes, signature: bytes, fingerprint: str | None) -> str:
    """Keep only a signature that verifies over `body` (and, when known, by the certificate meant): the same
    check `warehouse sign` makes. Returns the signer's certificate fingerprint; raises OperatorServiceError."""
    check = signing_service.verify(settings, body, signature)
    broken = [p for p in check.problems if p in signing_service.SIGNATURE_PROBLEMS - {"gost_unsupported"}]
    if broken or check.info is None:
        raise OperatorServiceError("signature_refused", problem=broken[0] if broken else "signer_not_found")
    if fingerprint is not None and check.info.fingerprint_sha256 != fingerprint:
        raise OperatorServiceError("signature_refused", problem="signer_mismatch")
    return check.info.fingerprint_sha256


def sign_draft(draft: Draft, signer: Signer, settings: SigningSettings) -> bytes:
    """Sign a draft with a server-side signer (a key file, NCANode); only a signature that verifies is given."""
    signature = signer.sign(draft.body)
    fingerprint = hashlib.sha256(signer.certificate.public_bytes(Encoding.DER)).hexdigest()
    checked_signature(settings, draft.body, signature, fingerprint)
    return signature


def enqueue(db: Database, draft: Draft, signature: bytes, *, user: User | None = None, actor: str | None = None) -> int:
    """Store a signed draft `queued` (bytes and CMS before anything is sent); its id. Raises
    OperatorServiceError "already_queued" when another document of its kind for the act is on its way."""
    with db.write() as s:
        act = s.get(Act, draft.act_id, with_for_update=True)
        assert act is not None
        _one_active(s, act, draft.kind)
        row = OperatorDocument(
            act_id=act.id,
            direction=act.direction,
            kind=draft.kind,
            number=draft.number,
            body=draft.body,
            signature=signature,
            payload_sha256=hashlib.sha256(draft.body).hexdigest(),
            state=OutboxState.QUEUED,
            messages=[],
            attempts=0,
            user_id=user.id if user else None,
        )
        s.add(row)
        s.flush()
        details: dict[str, Any] = {"id": row.id, "number": row.number, "kind": draft.kind, "sha256": row.payload_sha256}
        if draft.decision is not None:
            details["decision"] = draft.decision.mode.value
            details["codes"] = len(draft.decision.accepted) + len(draft.decision.rejected)
        audit.record(s, "operator.queued", user=user, actor=actor, act_id=act.id, details=details)
        return row.id


# --- sending: each move committed and audited ---------------------------------------------------------------


def _move(
    s: Session,
    doc: OperatorDocument,
    state: OutboxState,
    now: datetime,
    *,
    retry: bool = False,
    status: str | None = None,
    messages: tuple[str, ...] | None = None,
    doc_id: str | None = None,
) -> Touched:
    before = doc.state
    doc.state = state
    doc.updated_at = now
    doc.next_attempt_at = now + outbox.backoff(max(doc.attempts, 1)) if retry else None
    if status is not None:
        doc.status = status
    if messages is not None and list(messages) != list(doc.messages or []):
        doc.messages = list(messages)
    if doc_id is not None and doc.doc_id is None:
        doc.doc_id = doc_id
    s.flush()
    if before != state or status is not None:
        audit.record(
            s,
            "operator.state",
            act_id=doc.act_id,
            details={
                "id": doc.id,
                "number": doc.number,
                "kind": doc.kind,
                "status": f"{before}->{state}",
                "reason": doc.status,
                "tries": doc.attempts,
            },
        )
    return Touched(doc.number, str(doc.direction), str(state), str(doc.kind), doc.act_id, tuple(doc.messages or ()))


def _due(state: OutboxState, now: datetime, force: bool) -> Any:
    clause = OperatorDocument.state == state
    if not force:
        clause = clause & (OperatorDocument.next_attempt_at.is_(None) | (OperatorDocument.next_attempt_at <= now))
    return clause


def send_due(
    db: Database, adapter: OperatorAdapter, *, now: datetime | None = None, force: bool = False
) -> list[Touched]:
    """Send every queued document that is due. Each is claimed (queued → sending, committed) before its
    request; OperatorError "unauthorized" stops the loop and is raised again (the rest wait for a login)."""
    now = now or utcnow()
    with db.read() as s:
        ids = list(
            s.execute(
                select(OperatorDocument.id).where(_due(OutboxState.QUEUED, now, force)).order_by(OperatorDocument.id)
            ).scalars()
        )
    touched: list[Touched] = []
    for doc_id in ids:
        with db.write() as s:
            claimed = s.execute(
                update(OperatorDocument)
                .where(OperatorDocument.id == doc_id, OperatorDocument.state == OutboxState.QUEUED)
                .values(
                    state=OutboxState.SENDING,
                    attempts=OperatorDocument.attempts + 1,
                    sent_at=now,
                    updated_at=now,
                )
            ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                continue  # another process took it
            doc = s.get_one(OperatorDocument, doc_id)
            kind, body, signature = doc.kind, doc.body, doc.signature
            audit.record(
                s,
                "operator.state",
                act_id=doc.act_id,
                details={
                    "id": doc.id,
                    "number": doc.number,
                    "kind": doc.kind,
                    "status": f"{OutboxState.QUEUED}->{OutboxState.SENDING}",
                    "tries": doc.attempts,
                },
            )
        stop: OperatorError | None = None
        try:
            submission = adapter.submit(_KINDS[kind], body, signature)
        except OperatorError as e:
            move = outbox.after_failure(e.reason)
            with db.write() as s:
                doc = s.get_one(OperatorDocument, doc_id)
                messages = (e.message,) if move.state is OutboxState.ERROR and e.message else None
                touched.append(
                    _move(s, doc, move.state, utcnow(), retry=move.retry, status=e.reason, messages=messages)
                )
            if e.reason == "unauthorized":
                stop = e
        else:
            with db.write() as s:
                doc = s.get_one(OperatorDocument, doc_id)
                if submission.state is SubmissionState.SENT and submission.doc_id:
                    touched.append(_move(s, doc, OutboxState.SENT, utcnow(), doc_id=submission.doc_id))
                else:
                    touched.append(_move(s, doc, OutboxState.UNKNOWN, utcnow(), retry=True))
        if stop is not None:
            raise stop
    return touched


def reconcile(
    db: Database, adapter: OperatorAdapter, *, now: datetime | None = None, force: bool = False
) -> list[Touched]:
    """Look up, by our number, every document whose answer was lost (`unknown`, or left `sending` by a process
    that died): found, it takes the operator's id and status; an acceptance not in the list whose shipment is
    ACCEPTED went through; not found long enough, it is queued again."""
    now = now or utcnow()
    with db.read() as s:
        stale = (OperatorDocument.state == OutboxState.SENDING) & (OperatorDocument.sent_at <= now - STALE_SENDING)
        rows = s.execute(
            select(OperatorDocument.id, OperatorDocument.number, OperatorDocument.created_at).where(
                _due(OutboxState.UNKNOWN, now, force) | stale
            )
        ).all()
    touched: list[Touched] = []
    for doc_id, number, created_at in rows:
        found = adapter.find_document(number, created_at - timedelta(days=1)) or _accepted_shipment(db, adapter, doc_id)
        with db.write() as s:
            doc = s.get_one(OperatorDocument, doc_id)
            if doc.state not in (OutboxState.UNKNOWN, OutboxState.SENDING):
                continue
            move = outbox.after_lookup(found.status if found else None, doc.kind, doc.sent_at, utcnow())
            touched.append(
                _move(
                    s,
                    doc,
                    move.state,
                    utcnow(),
                    retry=move.retry,
                    status=found.status if found else None,
                    messages=found.errors if found else None,
                    doc_id=(found.doc_id or None) if found else None,
                )
            )
    return touched


def _accepted_shipment(db: Database, adapter: OperatorAdapter, doc_id: int) -> DocStatus | None:
    """The second witness of an acceptance the list does not show (yet): the shipment it answers. Once the
    shipment is ACCEPTED, an acceptance of it went through, and sending ours again would be a second one."""
    with db.read() as s:
        doc = s.get_one(OperatorDocument, doc_id)
        origin = s.get(OperatorOrigin, doc.act_id) if doc.kind is OperatorDocKind.ACCEPTANCE else None
        shipment_id = origin.doc_id if origin is not None else None
    if shipment_id is None:
        return None
    shipment = adapter.document_status(shipment_id)
    if shipment.status != "ACCEPTED":
        return None
    return DocStatus(doc_id="", status="ACCEPTED", final=True)


def poll(db: Database, adapter: OperatorAdapter, *, now: datetime | None = None) -> list[Touched]:
    """Ask the operator the status of every document it has and that is not final (ours still checking, our
    shipments waiting for the receiver)."""
    with db.read() as s:
        rows = s.execute(
            select(OperatorDocument.id, OperatorDocument.doc_id).where(
                OperatorDocument.state.in_((OutboxState.SENT, OutboxState.WAITING)),
                OperatorDocument.doc_id.is_not(None),
            )
        ).all()
    touched: list[Touched] = []
    for doc_id, operator_id in rows:
        status = adapter.document_status(str(operator_id))
        with db.write() as s:
            doc = s.get_one(OperatorDocument, doc_id)
            state = outbox.state_for(doc.kind, status.status)
            if state == doc.state and status.status == doc.status and list(status.errors) == list(doc.messages or []):
                continue
            touched.append(_move(s, doc, state, utcnow(), status=status.status, messages=status.errors))
            if doc.kind == OperatorDocKind.ACCEPTANCE and state.final:
                origin = s.get(OperatorOrigin, doc.act_id)
                if origin is not None and state is OutboxState.ACCEPTED:
                    origin.status = "ACCEPTED"
                    origin.updated_at = utcnow()
    return touched


def documents(db: Database, act_id: int | None = None, limit: int = 200) -> list[OperatorDocument]:
    """The outbox, newest first (of one act when given)."""
    with db.read() as s:
        stmt = select(OperatorDocument).order_by(OperatorDocument.id.desc()).limit(limit)
        if act_id is not None:
            stmt = stmt.where(OperatorDocument.act_id == act_id)
        return list(s.execute(stmt).scalars())
