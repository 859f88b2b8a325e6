"""The end of receiving: the act is closed with its counters frozen, then the lead decides."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from warehouse import vocab
from warehouse.db import Database
from warehouse.events import Event, announce
from warehouse.models import Decision, OperatorCodeCheck, ReceivingSession, User
from warehouse.services import audit
from warehouse.services.receiving.errors import ReceivingError
from warehouse.services.receiving.summary import OPEN_STATUSES, Summary, find_act, lock_act, summary
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus

# Plain strings: the CLI offers them as choices and the decision form as values.
DECISIONS: Final = tuple(d.value for d in vocab.Decision)
REASON_CODES: Final = tuple(r.value for r in vocab.ReasonCode)


def close_act(db: Database, ref: str | int, user: User | None = None, actor: str | None = None) -> Summary:
    """End receiving: the counters are frozen into the session for the lead's decision."""
    with db.write() as s:
        act = find_act(s, ref)
        lock_act(s, act.id)
        if act.status not in OPEN_STATUSES:
            raise ReceivingError("act_not_open")
        result = summary(s, act)
        now = utcnow()
        for sess in s.execute(
            select(ReceivingSession).where(ReceivingSession.act_id == act.id, ReceivingSession.closed_at.is_(None))
        ).scalars():
            sess.closed_at = now
            sess.result = result.to_json()
        act.status = ActStatus.CLOSED
        audit.record(s, "act.closed", user=user, actor=actor, act_id=act.id, details=result.to_json())
        closed = summary(s, act)
        announce(s, Event(act.id, "status"))
    return closed


def decide(
    db: Database,
    ref: str | int,
    decision: str,
    *,
    reason: str | None = None,
    comment: str | None = None,
    user: User | None = None,
    actor: str | None = None,
) -> Decision:
    """Record the lead's decision on a closed act. Raises ReceivingError when refused: an unknown decision
    or reason code, an act not closed or decided already, or "accepted" while something is missing or over."""
    if decision not in DECISIONS:
        raise ReceivingError("bad_decision")
    if reason and reason not in REASON_CODES:
        raise ReceivingError("bad_reason")
    with db.write() as s:
        act = find_act(s, ref)
        if act.status in (ActStatus.DECIDED, ActStatus.SIGNED):
            raise ReceivingError("already_decided")
        if act.status != ActStatus.CLOSED:
            raise ReceivingError("not_closed")
        result = summary(s, act)
        if decision == vocab.Decision.ACCEPTED and (
            not result.complete
            or result.surplus
            or s.execute(select(OperatorCodeCheck.act_code_id).where(OperatorCodeCheck.act_id == act.id)).first()
        ):
            raise ReceivingError("decision_contradicts")
        row = Decision(
            act_id=act.id, decision=decision, reason=reason, comment=comment, user_id=user.id if user else None
        )
        s.add(row)
        act.status = ActStatus.DECIDED
        s.flush()
        audit.record(
            s,
            "act.decided",
            user=user,
            actor=actor,
            act_id=act.id,
            details={"decision": decision, "reason": reason, "comment": comment},
        )
        return row
