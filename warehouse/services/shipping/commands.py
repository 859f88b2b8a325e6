"""A scan at the shipping dock: a code goes on the draft, or a command code (`#WH:<NAME>`) works the draft.

Every source (the browser's scan field, a hardware scanner of the station, the CLI) enters at `scan`, so
staff can build and correct an outgoing act with the scanner alone:
- `#WH:REMOVE_LAST` takes off the code this station put on the act last; scanned again, the one before.
- `#WH:REMOVE_NEXT` makes this station's next scanned code come off the act instead of going on. The
  arming is read back from the audit trail (this station's latest entry on the act), as receiving reads
  OPEN back from its journal: it survives a restart, and the next scan spends it, whether that code comes
  off or is refused (its refusal is recorded, so a second code goes on again).
The receiving screen's commands (UNDO, OPEN, …) are refused here and change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.events import Event, announce
from warehouse.matching import command_of
from warehouse.models import Act, AuditEntry, MoveKind, StockCode, StockMove, StockStatus, User
from warehouse.services import audit, stock
from warehouse.services.shipping.draft import AddResult, Changed, lock_draft, put_on, take_off
from warehouse.vocab import Command

ARMED = "act.remove_next"  # REMOVE_NEXT scanned: the station's next code comes off
NOT_REMOVED = "act.code_not_removed"  # the armed scan was refused: the arming is spent all the same
# The audit actions of a station's scans on a draft, newest first: the first one of the station tells
# whether it is armed. Looked at no further back than LOOKBACK entries of the act.
_SCANS = ("act.code_added", "act.code_removed", ARMED, NOT_REMOVED)
LOOKBACK = 500


def scan(
    db: Database,
    act_ref: str | int,
    raw: str,
    *,
    user: User | None = None,
    station: str | None = None,
    actor: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> AddResult:
    """What one scan does to a draft: a command's work, or its code taken off (REMOVE_NEXT armed) or put on.

    Refusals write nothing but the spent arming; ShippingError for the act itself ("no_act", "not_draft").
    """
    if not raw.strip():
        return AddResult(raw, False, "empty")
    command = command_of(raw)
    parsed, identity = stock.identity_of(raw, gs_substitutes)
    try:
        with db.write() as s:
            act = lock_draft(s, act_ref)
            if command is Command.REMOVE_LAST:
                return _remove_last(s, act, raw, user=user, station=station, actor=actor)
            if command is Command.REMOVE_NEXT:
                audit.record(s, ARMED, user=user, actor=actor, act_id=act.id, details={"station": station})
                announce(s, Event(act.id, "codes"))  # every screen of the act shows the armed station
                return AddResult(raw, True, "remove_next", {"station": station or ""})
            if command is not None:
                return AddResult(raw, False, "receiving_command", {"command": command.value})
            if removing_next(s, act.id, station):
                result = take_off(s, act, raw, identity, user=user, station=station, actor=actor)
                if not result.added:
                    details = {"station": station, "code": raw.strip()[:200], "reason": result.reason}
                    audit.record(s, NOT_REMOVED, user=user, actor=actor, act_id=act.id, details=details)
                    announce(s, Event(act.id, "codes"))
                return result
            return put_on(s, act, raw, parsed, identity, user=user, station=station, actor=actor)
    except Changed:
        return AddResult(raw, False, "changed")


def removing_next(s: Session, act_id: int, station: str | None) -> bool:
    """Whether `station` scanned REMOVE_NEXT on the act and has scanned no code since."""
    entries = s.execute(
        select(AuditEntry.action, AuditEntry.details)
        .where(AuditEntry.act_id == act_id, AuditEntry.action.in_(_SCANS))
        .order_by(AuditEntry.id.desc())
        .limit(LOOKBACK)
    )
    for action, details in entries:
        if (details or {}).get("station") == station:
            return bool(action == ARMED)
    return False


def _remove_last(
    s: Session, act: Act, raw: str, *, user: User | None, station: str | None, actor: str | None
) -> AddResult:
    """Take off the act the code this station put on it last and that is still on it (the top of its tree)."""
    by_station = StockMove.station.is_(None) if station is None else StockMove.station == station
    identity = s.execute(
        select(StockCode.identity)
        .join(StockMove, StockMove.stock_code_id == StockCode.id)
        .where(
            StockMove.act_id == act.id,
            StockMove.kind == MoveKind.RESERVED,
            by_station,
            StockCode.act_id == act.id,
            StockCode.status == StockStatus.RESERVED,
            StockCode.parent_id.is_(None),
        )
        .order_by(StockMove.id.desc())
        .limit(1)
    ).scalar()
    if identity is None:
        return AddResult(raw, False, "nothing_to_remove")
    return take_off(s, act, raw, identity, user=user, station=station, actor=actor)
