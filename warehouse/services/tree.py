"""The act's aggregate tree, one level at a time: what each pallet, box and block holds and how much of it
is credited. Counts come from the nested intervals (pos/last), one index range per node."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from warehouse.matching import Reason
from warehouse.models import ActCode, Scan
from warehouse.vocab import LEVELS

MAX_CHILDREN = 200


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    code: str
    level: str
    gtin: str | None
    credited: bool
    inside: int  # codes below it, at every level
    inside_credited: int


@dataclass(frozen=True, slots=True)
class Branch:
    nodes: list[Node]
    more: int  # children not shown (over MAX_CHILDREN)


def children(s: Session, act_id: int, parent_id: int | None, limit: int = MAX_CHILDREN) -> Branch:
    inner = aliased(ActCode)
    parent_filter = ActCode.parent_id.is_(None) if parent_id is None else ActCode.parent_id == parent_id
    inside = (
        select(func.count())
        .where(inner.act_id == act_id, inner.pos > ActCode.pos, inner.pos <= ActCode.last)
        .scalar_subquery()
    )
    inside_credited = (
        select(func.count(inner.credited_scan_id))
        .where(inner.act_id == act_id, inner.pos > ActCode.pos, inner.pos <= ActCode.last)
        .scalar_subquery()
    )
    stmt = (
        select(ActCode.id, ActCode.code, ActCode.level, ActCode.gtin, ActCode.credited_scan_id, inside, inside_credited)
        .where(ActCode.act_id == act_id, parent_filter)
        .order_by(ActCode.pos, ActCode.id)
        .limit(limit)
    )
    nodes = [
        Node(i, code, level, gtin, credited is not None, n or 0, c or 0)
        for i, code, level, gtin, credited, n, c in s.execute(stmt)
    ]
    total = s.execute(select(func.count()).where(ActCode.act_id == act_id, parent_filter)).scalar_one()
    return Branch(nodes, max(0, total - len(nodes)))


@dataclass(frozen=True, slots=True)
class Opened:
    """An aggregate scanned open (full check, or OPEN in trusted mode): what of its contents is counted,
    level by level, for the panel that stays on the receiving screen until it is complete or another is
    opened. `around` are the aggregates holding it, outermost first, each with its own counts."""

    code: str
    level: str
    levels: list[tuple[str, int, int]]  # (level, credited, declared) of its contents, top level first
    around: list[Opened]  # (their levels: only the codes directly inside each)

    @property
    def complete(self) -> bool:
        return all(credited == declared for _level, credited, declared in self.levels)


_LAST_OPENED = (
    select(Scan.act_code_id)
    .where(Scan.act_id == bindparam("act_id"), Scan.reason == Reason.OPENED.value, Scan.act_code_id.is_not(None))
    .order_by(Scan.id.desc())
    .limit(1)
)


def last_opened(s: Session, act_id: int) -> int | None:
    """The act code of the act's latest scan that opened an aggregate (None: none was opened). It reads the
    journal backwards, so a screen asks once and then follows the scans it is sent (`opened_by`)."""
    found: int | None = s.connection().execute(_LAST_OPENED, {"act_id": act_id}).scalar()
    return found


def opened_by(scan: Scan) -> int | None:
    """The act code this journal row opened (the one `opened` shows from then on); None if it opened none."""
    return scan.act_code_id if scan.reason == Reason.OPENED.value else None


_LEVEL_ORDER = {level.value: k for k, level in enumerate(LEVELS)}
DEEP_COUNT_MAX = 5_000  # codes inside an opened aggregate counted level by level; a bigger one, its own level


def opened(s: Session, act_id: int, code_id: int | None) -> Opened | None:
    """The aggregate `code_id` (an opened one, from `last_opened`) with the counts of its contents, and of
    the aggregates holding it; None when there is none or it holds nothing.

    The stream of every open screen reads this on every scan, so what it counts stays small: the opened
    aggregate's contents at every level (one index range), unless it holds more than DEEP_COUNT_MAX codes
    (a pallet: a truck's pallet holds some 20,000, 30 ms to count on each scan), and of the aggregates
    holding it, only the codes directly inside (a pallet's boxes, a box's blocks)."""
    code = s.get(ActCode, code_id) if code_id is not None else None
    if code is None or code.act_id != act_id or code.pos is None or code.last is None or code.last <= code.pos:
        return None
    holders: list[Opened] = []
    parent = s.get(ActCode, code.parent_id) if code.parent_id is not None else None
    while parent is not None:
        holders.insert(0, Opened(parent.code, parent.level, _counts(s, act_id, parent, deep=False), []))
        parent = s.get(ActCode, parent.parent_id) if parent.parent_id is not None else None
    deep = code.last - code.pos <= DEEP_COUNT_MAX
    return Opened(code.code, code.level, _counts(s, act_id, code, deep=deep), holders)


def _counts(s: Session, act_id: int, code: ActCode, *, deep: bool) -> list[tuple[str, int, int]]:
    """(level, credited, declared) of what `code` holds: at every level (`deep`), or directly inside it."""
    inside = (
        (ActCode.act_id == act_id) & (ActCode.pos > code.pos) & (ActCode.pos <= code.last)
        if deep
        else (ActCode.parent_id == code.id)
    )
    rows = s.execute(
        select(ActCode.level, func.count(ActCode.credited_scan_id), func.count()).where(inside).group_by(ActCode.level)
    ).all()
    return sorted(((str(lv), int(c), int(n)) for lv, c, n in rows), key=lambda r: _LEVEL_ORDER.get(r[0], 9))
