"""The ledger's tree and journal, shared by every movement; opening an aggregate in stock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from warehouse import codes
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, announce
from warehouse.models import (
    Act,
    MoveKind,
    StockCode,
    StockMove,
    StockStatus,
    User,
    UTCDateTime,
)
from warehouse.services import audit
from warehouse.services.stock.errors import StockError
from warehouse.timeutil import utcnow
from warehouse.vocab import Level

AGGREGATE_LEVELS: Final = frozenset({Level.PALLET, Level.BOX, Level.BLOCK})
HELD: Final = (StockStatus.IN_STOCK.value, StockStatus.RESERVED.value)  # what the company still owns


# --- the tree --------------------------------------------------------------------------------------------------


def subtree(root_id: int | ColumnElement[Any]) -> Select[int]:
    """Ids of a stock code and everything inside it (a recursive CTE: four levels at most)."""
    # Aliases, not the table itself: inside an UPDATE of stock_codes the table would correlate to the row
    # being updated instead of being read.
    # Nested: the statement must begin with UPDATE, not WITH, or sqlite3 reports no row count.
    top, inner = aliased(StockCode), aliased(StockCode)
    tree = select(top.id).where(top.id == root_id).cte("stock_tree", recursive=True, nesting=True)
    tree = tree.union_all(select(inner.id).join(tree, inner.parent_id == tree.c.id))
    return select(tree.c.id)


def count_subtree(s: Session, root_id: int) -> int:
    return int(s.execute(select(func.count()).select_from(subtree(root_id).subquery())).scalar_one())


def move(
    s: Session,
    ids: Select[int],
    kind: MoveKind,
    *,
    act_id: int | None,
    user_id: int | None,
    station: str | None,
    at: datetime,
) -> None:
    """Journal one movement for every code `ids` selects (INSERT … SELECT: no row crosses into Python)."""
    source = ids.subquery()
    s.execute(
        insert(StockMove).from_select(
            ["stock_code_id", "kind", "act_id", "user_id", "station", "at"],
            select(
                source.c.id,
                literal(kind.value),
                literal(act_id),
                literal(user_id),
                literal(station),
                literal(at, UTCDateTime()),
            ),
        )
    )


def identity_of(text: str, gs_substitutes: Sequence[str] | None = None) -> tuple[codes.ParsedCode, str]:
    """The parsed code and the identity to look it up by (the trimmed text when it does not parse)."""
    parsed = codes.parse(text, gs_substitutes=gs_substitutes or codes.DEFAULT_GS_SUBSTITUTES)
    return parsed, parsed.identity or text.strip()


# --- opening an aggregate ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenResult:
    code: str
    level: str
    contents: int  # codes directly inside, now held one by one


def open_aggregate(
    db: Database,
    text: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    station: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> OpenResult:
    """Open a box, pallet or block in stock: its contents become loose codes of the ledger, the aggregate's own
    code is retired (status disaggregated). Raises StockError; nothing is written then."""
    _parsed, identity = identity_of(text, gs_substitutes)
    at = utcnow()
    with db.write() as s:
        row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
        if row is None:
            raise StockError("not_in_stock", code=text.strip())
        args = {"code": row.code, "level": Level(row.level)}
        if row.level not in AGGREGATE_LEVELS:
            raise StockError("not_an_aggregate", code=row.code)
        if row.status == StockStatus.DISAGGREGATED:
            raise StockError("already_opened", **args)
        if row.status != StockStatus.IN_STOCK:
            if row.status == StockStatus.SHIPPED:
                raise StockError("not_in_stock", code=row.code)
            raise StockError("not_available", act=act_number(s, row.act_id), **args)
        if row.parent_id is not None:
            parent = s.get_one(StockCode, row.parent_id)  # the tree's foreign key: it is there
            raise StockError("inside_aggregate", parent=parent.code, parent_level=Level(parent.level), **args)
        if not row.declared_children:
            raise StockError("contents_unknown", **args)
        changed = (
            s.connection()
            .execute(
                update(StockCode)
                .where(StockCode.id == row.id, StockCode.status == StockStatus.IN_STOCK, StockCode.parent_id.is_(None))
                .values(status=StockStatus.DISAGGREGATED.value, updated_at=at)
            )
            .rowcount
        )
        if changed != 1:
            raise StockError("changed")
        contents = (
            s.connection()
            .execute(update(StockCode).where(StockCode.parent_id == row.id).values(parent_id=None, updated_at=at))
            .rowcount
        )
        move(
            s,
            select(literal(row.id).label("id")),
            MoveKind.DISAGGREGATED,
            act_id=None,
            user_id=user.id if user else None,
            station=station,
            at=at,
        )
        audit.record(
            s,
            "stock.opened",
            user=user,
            actor=actor,
            details={"code": row.code, "level": row.level, "contents": contents, "station": station},
        )
        announce(s, STOCK_CHANGED)
        return OpenResult(row.code, row.level, contents)


def act_number(s: Session, act_id: int | None) -> str:
    if act_id is None:
        return ""
    act = s.get(Act, act_id)
    return act.number if act is not None else f"#{act_id}"
