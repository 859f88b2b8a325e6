"""The audit trail: who did what and when, append-only and hash-chained.

Each entry's hash covers its content and the previous entry's hash, so removing or editing any entry
breaks every later link; the database refuses UPDATE and DELETE on the table as well (triggers).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from warehouse import canonical
from warehouse.messages import N_
from warehouse.models import AuditEntry, User
from warehouse.timeutil import utcnow

SYSTEM: Final = "system"  # the actor of what no person did (an import from the command line, a signature)
# What each action is called in the trail people read (the stored action stays this stable key).
ACTIONS: Final = {
    SYSTEM: N_("the system"),
    "act.imported": N_("Act imported"),
    "act.created": N_("Outgoing act created"),
    "act.closed": N_("Receiving ended"),
    "act.decided": N_("Decision recorded"),
    "act.signed": N_("Act signed"),
    "act.sent": N_("Act sent"),
    "act.exported": N_("Act exported"),
    "act.acceptance_applied": N_("The receiver's acceptance applied"),
    "act.code_added": N_("Code added to the act"),
    "act.code_removed": N_("Code taken off the act"),
    "act.remove_next": N_("The next scanned code is to come off the act"),
    "act.code_not_removed": N_("The code was not taken off the act"),
    "act.price_set": N_("Price set"),
    "line.resolved": N_("Discrepancy line resolved"),
    "stock.entered": N_("Entered into stock"),
    "stock.opened": N_("Aggregate opened in stock"),
    "scanner.bound": N_("Scanner bound to a station"),
    "device.token_issued": N_("Device token issued"),
    "device.token_revoked": N_("Device token revoked"),
    "user.created": N_("User created"),
    "user.login": N_("Logged in"),
    "user.logout": N_("Logged out"),
    "user.login_failed": N_("Login failed"),
    "user.login_locked": N_("Login locked after failed attempts"),
    "user.login_throttled": N_("Login refused: too many attempts"),
    "user.unlocked": N_("Login unlocked"),
    "user.badge_set": N_("Badge set"),
    "user.badge_rekeyed": N_("Badge re-keyed"),
    "user.pin_set": N_("PIN set"),
}
GENESIS = "0" * 64
# Any constant: serialises appenders on PostgreSQL so the chain never forks.
_PG_LOCK_KEY = 0x5741524548


def _digest(entry: AuditEntry) -> str:
    body = {
        "at": entry.at.isoformat(),
        "user_id": entry.user_id,
        "actor": entry.actor,
        "action": entry.action,
        "act_id": entry.act_id,
        "details": entry.details,
        "prev": entry.prev_hash,
    }
    return hashlib.sha256(canonical.dumps(body)).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    act_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry inside the caller's transaction (so it commits or rolls back with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    entry = AuditEntry(
        at=utcnow(),
        user_id=user.id if user else None,
        actor=actor or (user.username if user else SYSTEM),
        action=action,
        act_id=act_id,
        details=details or {},
        prev_hash=last or GENESIS,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    first_broken_id: int | None = None


def verify(session: Session, batch: int = 5000) -> ChainCheck:
    """Walk the whole chain in id order and recompute every link."""
    prev = GENESIS
    count = 0
    stmt = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=batch)
    for entry in session.execute(stmt).scalars():
        count += 1
        if entry.prev_hash != prev or _digest(entry) != entry.hash:
            return ChainCheck(False, count, entry.id)
        prev = entry.hash
    return ChainCheck(True, count)


def for_act(session: Session, act_id: int, limit: int = 500) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.act_id == act_id).order_by(AuditEntry.id.desc()).limit(limit)
    return list(session.execute(stmt).scalars())
