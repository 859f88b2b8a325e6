"""The act's aggregate tree, one level at a time: what each pallet, box and block holds and how much of it
is credited. Counts come from the nested intervals (pos/last), one index range per node."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from warehouse.models import ActCode

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
