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
    "operator.act_fetched": N_("Act received from the operator"),
    "operator.act_refused": N_("Act from the operator refused"),
    "operator.codes_checked": N_("Codes checked at the operator"),
    "operator.queued": N_("Document queued for the operator"),
    "operator.state": N_("Operator document state changed"),
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
# What the keys of an entry's details are called (the stored keys stay; values are data, told as they are,
# but for a closed set's value, which the page words in the reader's language).
DETAIL_KEYS: Final = {
    "act_code_id": N_("code id"),
    "backend": N_("signed with"),
    "bin": N_("BIN"),
    "by_gtin": N_("by product"),
    "certificate_sha256": N_("certificate SHA-256"),
    "code": N_("code"),
    "codes": N_("codes"),
    "command": N_("command"),
    "comment": N_("comment"),
    "contents": N_("contents"),
    "credited": N_("counted"),
    "date": N_("date"),
    "decision": N_("decision"),
    "decision_id": N_("decision id"),
    "device": N_("device"),
    "direction": N_("direction"),
    "documents": N_("documents"),
    "duplicate": N_("duplicates"),
    "expected": N_("expected"),
    "file": N_("file"),
    "files": N_("files"),
    "gtin": N_("GTIN"),
    "id": N_("id"),
    "iin": N_("IIN"),
    "invalid": N_("invalid"),
    "ip": N_("IP address"),
    "issuer": N_("issuer"),
    "kind": N_("kind"),
    "level": N_("level"),
    "lockout": N_("locked for"),
    "method": N_("method"),
    "mode": N_("mode"),
    "not_in_circulation": N_("not in circulation"),
    "not_owned": N_("not owned by the sender"),
    "number": N_("number"),
    "outstanding": N_("outstanding"),
    "part": N_("part"),
    "parts": N_("parts"),
    "price": N_("price"),
    "reason": N_("reason"),
    "resolution": N_("resolution"),
    "role": N_("role"),
    "scan_id": N_("scan id"),
    "scans": N_("scans"),
    "sha256": N_("SHA-256"),
    "signer": N_("signer"),
    "station": N_("station"),
    "status": N_("status"),
    "surplus": N_("surplus"),
    "transfer_part": N_("part of the transfer"),
    "tries": N_("attempts"),
    "until": N_("until"),
    "user": N_("user"),
    "username": N_("login"),
    "warnings": N_("warnings"),
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
