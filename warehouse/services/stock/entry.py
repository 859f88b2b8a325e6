"""Entering what the decision on an incoming act accepted into the stock ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, and_, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from warehouse import codes, models
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, announce
from warehouse.matching import SURPLUS_CLASSES
from warehouse.models import (
    Act,
    ActCode,
    LineResolution,
    MoveKind,
    Scan,
    StockCode,
    StockReceipt,
    StockStatus,
    User,
    UTCDateTime,
)
from warehouse.services import audit
from warehouse.services.acts import find_act
from warehouse.services.stock.errors import StockError
from warehouse.services.stock.ledger import move
from warehouse.signing.acceptance import code_accepted, surplus_accepted
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Decision, Direction, Level

# The level a surplus code is entered at, from what the code is. An SSCC may be a box or a pallet: with
# nothing declared inside it, "box" is the safe guess (it is shipped whole either way).
KIND_LEVEL: Final = {
    codes.Kind.PACK: Level.PACK,
    codes.Kind.BLOCK: Level.BLOCK,
    codes.Kind.SSCC: Level.BOX,
    codes.Kind.AGGREGATE: Level.BOX,
}
_BATCH: Final = 5_000
Rows = Select[*tuple[Any, ...]]  # a SELECT of any columns


# --- entering accepted codes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryResult:
    act_id: int
    number: str
    decision: str
    codes: int  # codes of the act entered
    surplus: int  # surplus codes the lead accepted, entered
    conflicts: int  # accepted codes the ledger already held (in stock or on an outgoing act): left as they were
    already: bool = False  # the act had been entered before: nothing was done now


def _upsert(s: Session) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def _insert_stock(s: Session, source: Rows, at: datetime) -> None:
    """Insert stock rows from `source` (columns as in `_STOCK_COLUMNS`); a code that was shipped and comes back
    is the same row again. A code the ledger holds right now is left alone (counted later as a conflict)."""
    insert = _upsert(s)
    stmt = insert(StockCode).from_select(list(_STOCK_COLUMNS), source)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["identity"],
        set_={
            "code": excluded.code,
            "level": excluded.level,
            "gtin": excluded.gtin,
            "name": excluded.name,
            "price": excluded.price,
            "declared_children": excluded.declared_children,
            "parent_id": None,
            "status": StockStatus.IN_STOCK.value,
            "source_act_id": excluded.source_act_id,
            "source_code_id": excluded.source_code_id,
            "act_id": None,
            "updated_at": at,
        },
        where=StockCode.status == StockStatus.SHIPPED.value,
    )
    s.execute(stmt)


_STOCK_COLUMNS: Final = (
    "identity",
    "code",
    "level",
    "gtin",
    "name",
    "price",
    "declared_children",
    "parent_id",
    "status",
    "source_act_id",
    "source_code_id",
    "act_id",
    "created_at",
    "updated_at",
)


def _act_code_rows(act_id: int, at: datetime) -> Rows:
    return select(
        ActCode.identity,
        ActCode.code,
        ActCode.level,
        ActCode.gtin,
        ActCode.name,
        ActCode.price,
        ActCode.declared_children,
        literal(None, StockCode.parent_id.type),
        literal(StockStatus.IN_STOCK.value),
        literal(act_id),
        ActCode.id,
        literal(None, StockCode.act_id.type),
        literal(at, UTCDateTime()),
        literal(at, UTCDateTime()),
    ).where(ActCode.act_id == act_id)


@dataclass
class _Open:
    """An aggregate of the act whose contents are being walked."""

    id: int
    last: int
    resolution: str | None
    accepted: bool = True


def accepted_code_ids(s: Session, act_id: int, decision: str) -> Iterator[int]:
    """The act's codes the decision accepts, by the rule of the acceptance document (one walk in preorder).

    A code without contents in the act is accepted when it was counted, or when the lead accepted its line
    or recorded it as found later (a resolution on a missing aggregate covers what is inside it); an
    aggregate is accepted exactly when everything inside it is.
    """
    resolutions: dict[int | None, str] = {}
    for code_id, resolution in s.execute(
        select(LineResolution.act_code_id, LineResolution.resolution)
        .where(LineResolution.act_id == act_id, LineResolution.act_code_id.is_not(None))
        .order_by(LineResolution.id)
    ):
        resolutions[code_id] = resolution  # append-only: the newest is in force
    stmt = (
        select(ActCode.id, ActCode.pos, ActCode.last, ActCode.credited_scan_id)
        .where(ActCode.act_id == act_id)
        .order_by(ActCode.pos, ActCode.id)
        .execution_options(yield_per=20_000)
    )
    stack: list[_Open] = []

    def close(entry: _Open) -> Iterator[int]:
        if entry.accepted:
            yield entry.id
        if stack:
            stack[-1].accepted = stack[-1].accepted and entry.accepted

    for code_id, pos, last, credited in s.execute(stmt):
        pos, last = pos or 0, last if last is not None else pos or 0
        while stack and pos > stack[-1].last:
            yield from close(stack.pop())
        inherited = resolutions.get(code_id) or (stack[-1].resolution if stack else None)
        if last <= pos:  # nothing inside it in the act: its own flag
            ok = code_accepted(decision, credited is not None, inherited)
            if ok:
                yield code_id
            if stack:
                stack[-1].accepted = stack[-1].accepted and ok
        else:
            stack.append(_Open(code_id, last, inherited))
    while stack:
        yield from close(stack.pop())


def _accepted_surplus(s: Session, act_id: int, decision: str) -> list[Scan]:
    latest: dict[int | None, str] = {}
    for scan_id, resolution in s.execute(
        select(LineResolution.scan_id, LineResolution.resolution)
        .where(LineResolution.act_id == act_id, LineResolution.scan_id.is_not(None))
        .order_by(LineResolution.id)
    ):
        latest[scan_id] = resolution
    seen: set[str] = set()
    out = []
    for scan in s.execute(
        select(Scan).where(Scan.act_id == act_id, Scan.scan_class.in_(SURPLUS_CLASSES)).order_by(Scan.id)
    ).scalars():
        if not scan.identity or scan.identity in seen:
            continue
        seen.add(scan.identity)
        if surplus_accepted(decision, latest.get(scan.id)):
            out.append(scan)
    return out


def enter_accepted(
    db: Database, act_ref: int | str, *, user: User | None = None, actor: str | None = None
) -> EntryResult:
    """Enter into stock what the decision on an incoming act accepted. Call it after `receiving.decide`.

    Idempotent: an act is entered once (the receipt's primary key); calling again returns the first
    result with `already=True`. Raises StockError "no_act", "not_incoming", "not_decided".
    """
    at = utcnow()
    with db.write() as s:
        act = find_act(s, act_ref, refuse=StockError, direction=Direction.INCOMING)
        act = s.get(Act, act.id, with_for_update=True) or act  # PostgreSQL: one entry at a time per act
        receipt = s.get(StockReceipt, act.id)
        if receipt is not None:
            return EntryResult(
                act.id, act.number, receipt.decision, receipt.codes, receipt.surplus, receipt.conflicts, already=True
            )
        decision = s.execute(
            select(models.Decision).where(models.Decision.act_id == act.id).order_by(models.Decision.id.desc()).limit(1)
        ).scalar()
        if decision is None or act.status not in (ActStatus.DECIDED, ActStatus.SIGNED):
            raise StockError("not_decided")
        wanted = 0
        if decision.decision == Decision.ACCEPTED:
            wanted = int(s.execute(select(func.count()).where(ActCode.act_id == act.id)).scalar_one())
            _insert_stock(s, _act_code_rows(act.id, at), at)
        elif decision.decision != Decision.REJECTED:
            batch: list[int] = []
            for code_id in accepted_code_ids(s, act.id, decision.decision):
                batch.append(code_id)
                if len(batch) >= _BATCH:
                    wanted += _insert_batch(s, act.id, batch, at)
            wanted += _insert_batch(s, act.id, batch, at)
        entered = int(s.execute(select(func.count()).where(StockCode.source_act_id == act.id)).scalar_one())
        _link_parents(s, act.id)
        surplus = 0
        for scan in _accepted_surplus(s, act.id, decision.decision):
            surplus += _insert_surplus(s, act.id, scan, at)
        entered_surplus = int(
            s.execute(
                select(func.count()).where(StockCode.source_act_id == act.id, StockCode.source_code_id.is_(None))
            ).scalar_one()
        )
        conflicts = (wanted - entered) + (surplus - entered_surplus)
        move(
            s,
            select(StockCode.id).where(StockCode.source_act_id == act.id),
            MoveKind.RECEIVED,
            act_id=act.id,
            user_id=user.id if user else None,
            station=None,
            at=at,
        )
        receipt = StockReceipt(
            act_id=act.id,
            decision=decision.decision,
            codes=entered,
            surplus=entered_surplus,
            conflicts=conflicts,
            user_id=user.id if user else None,
            created_at=at,
        )
        s.add(receipt)
        s.flush()
        audit.record(
            s,
            "stock.entered",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "decision": decision.decision,
                "codes": entered,
                "surplus": entered_surplus,
                "conflicts": conflicts,
            },
        )
        announce(s, STOCK_CHANGED)
        return EntryResult(act.id, act.number, decision.decision, entered, entered_surplus, conflicts)


def _insert_batch(s: Session, act_id: int, batch: list[int], at: datetime) -> int:
    if not batch:
        return 0
    _insert_stock(s, _act_code_rows(act_id, at).where(ActCode.id.in_(list(batch))), at)
    n = len(batch)
    batch.clear()
    return n


def _link_parents(s: Session, act_id: int) -> None:
    """Each entered code sits in its act parent when that parent was entered too (accepted as a whole)."""
    parent_stock = aliased(StockCode)
    parent_of = (
        select(parent_stock.id)
        .select_from(ActCode)
        .join(
            parent_stock, and_(parent_stock.source_code_id == ActCode.parent_id, parent_stock.source_act_id == act_id)
        )
        .where(ActCode.id == StockCode.source_code_id)
        .scalar_subquery()
    )
    s.execute(
        update(StockCode)
        .where(StockCode.source_act_id == act_id, StockCode.source_code_id.is_not(None))
        .values(parent_id=parent_of)
        .execution_options(synchronize_session=False)
    )


def _insert_surplus(s: Session, act_id: int, scan: Scan, at: datetime) -> int:
    parsed = codes.parse(scan.normalized or scan.raw)
    if parsed.identity is None or parsed.normalized is None:
        return 0
    level = KIND_LEVEL.get(parsed.kind)
    if level is None:
        return 0
    row = select(
        literal(parsed.identity),
        literal(parsed.normalized),
        literal(level),
        literal(parsed.gtin, StockCode.gtin.type),
        literal(None, StockCode.name.type),
        literal(None, StockCode.price.type),
        literal(False),
        literal(None, StockCode.parent_id.type),
        literal(StockStatus.IN_STOCK.value),
        literal(act_id),
        literal(None, StockCode.source_code_id.type),
        literal(None, StockCode.act_id.type),
        literal(at, UTCDateTime()),
        literal(at, UTCDateTime()),
    )
    _insert_stock(s, row.where(literal(True)), at)  # SQLite parses INSERT … SELECT … ON CONFLICT only after WHERE
    return 1


def enter_pending(db: Database, *, user: User | None = None, actor: str | None = None) -> list[EntryResult]:
    """Enter every decided incoming act not entered yet (a catch-up after an interruption)."""
    with db.read() as s:
        pending = list(
            s.execute(
                select(Act.id)
                .where(
                    Act.direction == Direction.INCOMING,
                    Act.status.in_([ActStatus.DECIDED.value, ActStatus.SIGNED.value]),
                    ~select(StockReceipt.act_id).where(StockReceipt.act_id == Act.id).exists(),
                )
                .order_by(Act.id)
            ).scalars()
        )
    return [enter_accepted(db, act_id, user=user, actor=actor) for act_id in pending]
