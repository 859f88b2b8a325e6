"""Reading the stock ledger: totals, the aggregates held, one code with its history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from warehouse.models import (
    Act,
    StockCode,
    StockMove,
    StockStatus,
    User,
)
from warehouse.services.stock.ledger import HELD, act_number, count_subtree, identity_of
from warehouse.vocab import LEVELS, Level

# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCount:
    in_stock: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class GtinTotal:
    gtin: str
    name: str | None
    levels: dict[str, LevelCount]


@dataclass(frozen=True)
class StockTotals:
    levels: dict[str, LevelCount]
    by_gtin: list[GtinTotal]

    @property
    def codes(self) -> int:
        return sum(c.in_stock + c.reserved for c in self.levels.values())

    def to_json(self) -> dict[str, Any]:
        def counts(levels: dict[str, LevelCount]) -> dict[str, dict[str, int]]:
            return {lvl: {"in_stock": c.in_stock, "reserved": c.reserved} for lvl, c in levels.items()}

        return {
            "codes": self.codes,
            "levels": counts(self.levels),
            "by_gtin": [{"gtin": g.gtin, "name": g.name, "levels": counts(g.levels)} for g in self.by_gtin],
        }


def _plus(a: LevelCount, b: LevelCount) -> LevelCount:
    return LevelCount(a.in_stock + b.in_stock, a.reserved + b.reserved)


def totals(s: Session) -> StockTotals:
    """What the company holds, by level and by GTIN and level: in stock, and reserved on draft acts."""
    levels: dict[str, LevelCount] = {lvl: LevelCount() for lvl in LEVELS}
    per: dict[str, dict[str, LevelCount]] = {}
    names: dict[str, str | None] = {}
    stmt = (
        select(StockCode.gtin, StockCode.level, StockCode.status, func.count(), func.max(StockCode.name))
        .where(StockCode.status.in_(HELD))
        .group_by(StockCode.gtin, StockCode.level, StockCode.status)
    )
    for gtin, level, status, n, name in s.execute(stmt):
        here = LevelCount(n if status == StockStatus.IN_STOCK else 0, n if status == StockStatus.RESERVED else 0)
        levels[level] = _plus(levels.get(level, LevelCount()), here)
        if gtin:
            g = per.setdefault(gtin, {})
            g[level] = _plus(g.get(level, LevelCount()), here)
            names[gtin] = names.get(gtin) or name
    by_gtin = [
        GtinTotal(g, names.get(g), dict(sorted(v.items(), key=lambda kv: LEVELS.index(kv[0]))))
        for g, v in sorted(per.items())
    ]
    return StockTotals(levels, by_gtin)


@dataclass(frozen=True)
class AggregateRow:
    id: int
    code: str
    level: str
    status: str
    contents: int
    declared_children: bool
    act_number: str | None


def aggregates(s: Session, limit: int = 500, offset: int = 0) -> list[AggregateRow]:
    """Pallets and boxes the company holds at the top of the tree, with how many codes sit directly inside."""
    inner = aliased(StockCode)
    contents = select(func.count()).where(inner.parent_id == StockCode.id).scalar_subquery()
    stmt = (
        select(
            StockCode.id,
            StockCode.code,
            StockCode.level,
            StockCode.status,
            contents,
            StockCode.declared_children,
            Act.number,
        )
        .outerjoin(Act, Act.id == StockCode.act_id)
        .where(
            StockCode.status.in_(HELD), StockCode.parent_id.is_(None), StockCode.level.in_((Level.PALLET, Level.BOX))
        )
        .order_by(StockCode.level.desc(), StockCode.id)
        .limit(limit)
        .offset(offset)
    )
    return [AggregateRow(*row) for row in s.execute(stmt)]


@dataclass(frozen=True)
class MoveRow:
    at: datetime
    kind: str
    act_id: int | None
    act_number: str | None
    user: str | None
    station: str | None


@dataclass(frozen=True)
class CodeView:
    """One code of the ledger: where it is, what holds it, what it holds, and its history."""

    row: StockCode
    ancestors: list[StockCode]  # innermost first
    contents: int  # codes directly inside
    inside: int  # codes anywhere inside
    source_number: str | None
    act_number: str | None
    act_status: str | None
    moves: list[MoveRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "identity": r.identity,
            "code": r.code,
            "level": r.level,
            "gtin": r.gtin,
            "name": r.name,
            "status": r.status,
            "declared_children": r.declared_children,
            "parents": [{"code": a.code, "level": a.level} for a in self.ancestors],
            "contents": self.contents,
            "inside": self.inside,
            "source_act": self.source_number,
            "act": self.act_number,
            "act_status": self.act_status,
            "moves": [
                {"at": m.at.isoformat(), "kind": m.kind, "act": m.act_number, "user": m.user, "station": m.station}
                for m in self.moves
            ],
        }


def find(s: Session, text: str, gs_substitutes: Sequence[str] | None = None, history: int = 50) -> CodeView | None:
    """Look a code up by anything a scanner or a person gives: any level, any form the parser repairs."""
    _parsed, identity = identity_of(text, gs_substitutes)
    row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
    if row is None:
        row = s.execute(select(StockCode).where(StockCode.code == text.strip())).scalar()
    if row is None:
        return None
    ancestors: list[StockCode] = []
    parent_id = row.parent_id
    while parent_id is not None and len(ancestors) < 8:
        parent = s.get(StockCode, parent_id)
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.parent_id
    contents = int(s.execute(select(func.count()).where(StockCode.parent_id == row.id)).scalar_one())
    inside = count_subtree(s, row.id) - 1 if contents else 0
    act = s.get(Act, row.act_id) if row.act_id is not None else None
    moves = [
        MoveRow(at, kind, act_id, number, username, station)
        for at, kind, act_id, number, username, station in s.execute(
            select(StockMove.at, StockMove.kind, StockMove.act_id, Act.number, User.username, StockMove.station)
            .outerjoin(Act, Act.id == StockMove.act_id)
            .outerjoin(User, User.id == StockMove.user_id)
            .where(StockMove.stock_code_id == row.id)
            .order_by(StockMove.id.desc())
            .limit(history)
        )
    ]
    return CodeView(
        row,
        ancestors,
        contents,
        inside,
        act_number(s, row.source_act_id) or None,
        act.number if act else None,
        act.status if act else None,
        moves,
    )


def held_identities_of(s: Session, identities: Sequence[str], status: str = StockStatus.IN_STOCK.value) -> set[str]:
    """Which of `identities` have the status."""
    found: set[str] = set()
    wanted = sorted(set(identities))
    for i in range(0, len(wanted), 1000):
        found.update(
            s.execute(
                select(StockCode.identity).where(
                    StockCode.identity.in_(wanted[i : i + 1000]), StockCode.status == status
                )
            ).scalars()
        )
    return found
