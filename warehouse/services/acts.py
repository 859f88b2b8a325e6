"""Reading acts for the acts page and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import Act
from warehouse.vocab import ActStatus, Direction


@dataclass(frozen=True)
class ActFilter:
    direction: str | None = None
    status: str | None = None
    partner: str | None = None  # name or BIN of the sender or receiver
    date_from: date | None = None
    date_to: date | None = None


def visible(act: Act | None) -> Act | None:
    """The act, or None while an import is still writing it (status `importing`): until its last step it is
    nobody's act, so every lookup here and in `screens` treats it as absent."""
    return None if act is None or act.status == ActStatus.IMPORTING else act


def list_acts(session: Session, f: ActFilter, limit: int = 200) -> list[Act]:
    stmt = select(Act).where(Act.status != ActStatus.IMPORTING).order_by(Act.date.desc(), Act.id.desc()).limit(limit)
    if f.direction:
        stmt = stmt.where(Act.direction == f.direction)
    if f.status:
        stmt = stmt.where(Act.status == f.status)
    if f.partner:
        like = f"%{f.partner.strip()}%"
        stmt = stmt.where(
            or_(
                Act.sender_name.ilike(like),
                Act.sender_bin.like(like),
                Act.receiver_name.ilike(like),
                Act.receiver_bin.like(like),
            )
        )
    if f.date_from:
        stmt = stmt.where(Act.date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(Act.date <= f.date_to)
    return list(session.execute(stmt).scalars())


def listed(db: Database, f: ActFilter, limit: int = 200) -> list[Act]:
    """`list_acts` in its own read transaction (the acts page)."""
    with db.read() as s:
        return list_acts(s, f, limit)


def act_by_id(db: Database, act_id: int) -> Act | None:
    """The act with this id as it is now (its own read transaction), None when there is none."""
    with db.read() as s:
        return visible(s.get(Act, act_id))


def lookup_act(s: Session, ref: str | int) -> Act | None:
    """An act by id, or by number when the reference is not a number (the newest act of that number)."""
    act: Act | None = None
    if isinstance(ref, int) or str(ref).isdigit():
        act = visible(s.get(Act, int(ref)))
    if act is None:
        act = s.execute(
            select(Act)
            .where(Act.number == str(ref), Act.status != ActStatus.IMPORTING)
            .order_by(Act.id.desc())
            .limit(1)
        ).scalar()
    return act


def find_act(
    s: Session, ref: str | int, *, refuse: Callable[[str], Exception], direction: Direction | None = None
) -> Act:
    """The act `lookup_act` finds, else `refuse("no_act")`; of another direction, `refuse("not_<direction>")`.

    Each area passes its own error type, so a caller catches the one error its area raises.
    """
    act = lookup_act(s, ref)
    if act is None:
        raise refuse("no_act")
    if direction is not None and act.direction != direction:
        raise refuse(f"not_{direction.value}")
    return act


def read_act(
    db: Database, ref: str | int, *, refuse: Callable[[str], Exception], direction: Direction | None = None
) -> Act:
    """`find_act` in its own read transaction: the act as it is now, or `refuse(reason)` raised."""
    with db.read() as s:
        return find_act(s, ref, refuse=refuse, direction=direction)
