"""What an act's receiving stands at: counters per level and GTIN, scan tallies, the codes still missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import Act, ActCode, ActCounter, Scan, ScanTally
from warehouse.services import acts
from warehouse.services.receiving.errors import ReceivingError
from warehouse.vocab import LEVELS, ActStatus, ScanClass

OPEN_STATUSES: Final = (ActStatus.NEW, ActStatus.RECEIVING)


@dataclass(frozen=True)
class LevelCount:
    expected: int = 0
    credited: int = 0

    @property
    def outstanding(self) -> int:
        return max(self.expected - self.credited, 0)


@dataclass(frozen=True)
class Summary:
    act_id: int
    number: str
    date: str
    status: str
    mode: str
    levels: dict[str, LevelCount]
    by_gtin: dict[str, dict[str, LevelCount]]
    tallies: dict[ScanClass, int] = field(default_factory=dict)

    @property
    def surplus(self) -> int:
        return (
            self.tallies.get(ScanClass.SURPLUS, 0)
            + self.tallies.get(ScanClass.FOREIGN, 0)
            + self.tallies.get(ScanClass.WRONG_PRODUCT, 0)
        )

    @property
    def complete(self) -> bool:
        return all(c.outstanding == 0 for c in self.levels.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.act_id,
            "number": self.number,
            "date": self.date,
            "status": self.status,
            "mode": self.mode,
            "expected": {lvl.value: self.levels[lvl].expected for lvl in LEVELS},
            "credited": {lvl.value: self.levels[lvl].credited for lvl in LEVELS},
            "outstanding": {lvl.value: self.levels[lvl].outstanding for lvl in LEVELS},
            "surplus": self.surplus,
            "duplicate": self.tallies.get(ScanClass.DUPLICATE, 0),
            "invalid": self.tallies.get(ScanClass.INVALID, 0) + self.tallies.get(ScanClass.PRODUCT, 0),
            "scans": dict(sorted(self.tallies.items())),
            "by_gtin": {
                g: {lvl: {"expected": c.expected, "credited": c.credited} for lvl, c in per.items()}
                for g, per in sorted(self.by_gtin.items())
            },
        }


def find_act(s: Session, ref: str | int) -> Act:
    """An act by id, or by number when the reference is not a number; raises ReceivingError("no_act")."""
    return acts.find_act(s, ref, refuse=ReceivingError)


_LOCK_ACT = select(Act).where(Act.id == bindparam("act_id")).with_for_update(key_share=True)


def lock_act(s: Session, act_id: int) -> Act | None:
    """Serialise the transactions that credit or close one act. PostgreSQL: the act's row, locked FOR NO KEY
    UPDATE, and loaded (fresh) into the session by the same round trip, so `s.get(Act, ...)` after this costs
    nothing while the caller holds the returned act (the session keeps only weak references); rows that
    merely reference the act (scans, sessions) are not blocked by it. SQLite: the write transaction already
    holds the database's write lock."""
    if s.get_bind().dialect.name == "postgresql":
        act: Act | None = s.execute(
            _LOCK_ACT, {"act_id": act_id}, execution_options={"populate_existing": True}
        ).scalar()
        return act
    return None


def summary(s: Session, act: Act) -> Summary:
    levels: dict[str, LevelCount] = {lvl: LevelCount() for lvl in LEVELS}
    by_gtin: dict[str, dict[str, LevelCount]] = {}
    for c in s.execute(select(ActCounter).where(ActCounter.act_id == act.id)).scalars():
        prev = levels.get(c.level, LevelCount())
        levels[c.level] = LevelCount(prev.expected + c.expected, prev.credited + c.credited)
        if c.gtin:
            by_gtin.setdefault(c.gtin, {})[c.level] = LevelCount(c.expected, c.credited)
    tallies = {t.scan_class: t.count for t in s.execute(select(ScanTally).where(ScanTally.act_id == act.id)).scalars()}
    return Summary(act.id, act.number, act.date.isoformat(), act.status, act.mode, levels, by_gtin, tallies)


def act_summary(db: Database, ref: str | int) -> Summary:
    with db.read() as s:
        return summary(s, find_act(s, ref))


@dataclass(frozen=True)
class MissingGroup:
    parent_code: str | None
    parent_level: str | None
    codes: list[tuple[str, str]]  # (level, code)


def missing(s: Session, act_id: int, limit: int = 10_000) -> list[MissingGroup]:
    """Codes never credited, largest first: a wholly missing box is listed as the box, not its packs."""
    parent = ActCode.__table__.alias("parent")
    c = ActCode.__table__.alias("c")
    # Top-most missing: uncredited, and its parent (if any) has something credited inside it or is credited.
    inner = ActCode.__table__.alias("inner")
    any_credited_in_parent = (
        select(inner.c.id)
        .where(
            inner.c.act_id == act_id,
            inner.c.pos.between(parent.c.pos, parent.c.last),
            inner.c.credited_scan_id.is_not(None),
        )
        .limit(1)
        .exists()
    )
    nothing_credited_in_c = ~(
        select(inner.c.id)
        .where(inner.c.act_id == act_id, inner.c.pos.between(c.c.pos, c.c.last), inner.c.credited_scan_id.is_not(None))
        .limit(1)
        .exists()
    )
    stmt = (
        select(parent.c.code, parent.c.level, c.c.level, c.c.code)
        .select_from(c.outerjoin(parent, parent.c.id == c.c.parent_id))
        .where(
            c.c.act_id == act_id,
            c.c.credited_scan_id.is_(None),
            nothing_credited_in_c,
            (parent.c.id.is_(None)) | any_credited_in_parent,
        )
        .order_by(c.c.pos)
        .limit(limit)
    )
    groups: dict[str | None, MissingGroup] = {}
    for pcode, plevel, level, code in s.execute(stmt):
        groups.setdefault(pcode, MissingGroup(pcode, plevel, [])).codes.append((level, code))
    return list(groups.values())


def count_scans(s: Session, act_id: int) -> int:
    return int(s.execute(select(func.count()).select_from(Scan).where(Scan.act_id == act_id)).scalar_one())
