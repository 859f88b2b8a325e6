"""A draft outgoing act: the new act and its parties, and the codes scanned onto it (or taken off).

What a draft holds lives in the stock ledger itself (`stock_codes.act_id`, status reserved): one truth.
Every write on a draft locks the act row first (`lock_draft`), so signing never races a scan.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from warehouse import transfer_act
from warehouse.codes import CodeError, Kind, ParsedCode
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, Event, announce
from warehouse.identifiers import valid_bin
from warehouse.messages import DEFAULT_LANG, one_per_level
from warehouse.models import (
    Act,
    ActPrice,
    MoveKind,
    StockCode,
    StockStatus,
    User,
)
from warehouse.services import acts as acts_service
from warehouse.services import audit, stock
from warehouse.services.shipping.errors import LEVELLED, PHRASEBOOK, ShippingError
from warehouse.timeutil import utcnow
from warehouse.vocab import CONTENT_LEVELS, ActStatus, Direction, Level, contents

PRICED_LEVELS: Final = (Level.BLOCK, Level.PACK)
TURNOVERS: Final = ("sale", "commission", "return", "transfer")


# --- the company and new acts -------------------------------------------------------------------------------


def company(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> transfer_act.Party | None:
    """Our company as the sender: COMPANY_NAME / COMPANY_BIN from the Flask config, else WAREHOUSE_COMPANY_NAME /
    WAREHOUSE_COMPANY_BIN from the environment; None when neither names it (`new_act` then falls back to the
    receiver of the latest incoming act: what we received was addressed to us)."""
    env = os.environ if environ is None else environ
    name = config.get("COMPANY_NAME") or env.get("WAREHOUSE_COMPANY_NAME")
    bin_ = config.get("COMPANY_BIN") or env.get("WAREHOUSE_COMPANY_BIN")
    if name and bin_:
        return transfer_act.Party(str(name).strip(), str(bin_).strip())
    return None


@dataclass(frozen=True)
class Basis:
    type: str
    number: str
    date: str | None = None  # ISO; the act's date when not given


def parse_basis(value: str) -> Basis:
    """`TYPE:NUMBER[:YYYY-MM-DD]`, as the CLI takes it. Raises ShippingError "bad_basis"."""
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise ShippingError("bad_basis", value=value)
    return Basis(parts[0].strip(), parts[1].strip(), parts[2].strip() if len(parts) == 3 else None)


def _checked_basis(items: Sequence[Basis], on: date) -> list[dict[str, str]]:
    out = []
    for b in items:
        when = b.date or on.isoformat()
        try:
            date.fromisoformat(when)
        except ValueError:
            raise ShippingError("bad_basis", value=f"{b.type}:{b.number}:{when}") from None
        if (
            not b.type
            or not b.number
            or len(b.type) > transfer_act.MAX_SHORT_TEXT
            or len(b.number) > transfer_act.MAX_NUMBER
            or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when)
        ):
            raise ShippingError("bad_basis", value=f"{b.type}:{b.number}:{when}")
        out.append({"type": b.type, "number": b.number, "date": when})
    return out


def _sender(s: Session, sender: transfer_act.Party | None) -> transfer_act.Party:
    if sender is None:
        row = s.execute(
            select(Act.receiver_name, Act.receiver_bin)
            .where(Act.direction == Direction.INCOMING)
            .order_by(Act.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise ShippingError("no_company")
        sender = transfer_act.Party(row.receiver_name, row.receiver_bin)
    if not valid_bin(sender.bin):
        raise ShippingError("bad_company_bin", bin=sender.bin)
    return sender


def new_act(
    db: Database,
    *,
    receiver_bin: str,
    receiver_name: str,
    sender: transfer_act.Party | None = None,
    basis: Sequence[Basis] = (),
    turnover: str = "sale",
    user: User | None = None,
    actor: str | None = None,
    on: date | None = None,
) -> Act:
    """A new draft outgoing act numbered ТА-<id>. Raises ShippingError "bad_bin", "no_name", "own_bin",
    "no_company", "bad_company_bin", "bad_basis", "bad_turnover"."""
    receiver_bin, receiver_name = receiver_bin.strip(), " ".join(receiver_name.split())
    if not valid_bin(receiver_bin):
        raise ShippingError("bad_bin", bin=receiver_bin)
    if not receiver_name or len(receiver_name) > transfer_act.MAX_NAME:
        raise ShippingError("no_name")
    if turnover not in TURNOVERS:
        raise ShippingError("bad_turnover", value=turnover)
    day = on or date.today()  # the station's own calendar day: the act is dated where it is signed
    documents = _checked_basis(basis, day)
    with db.write() as s:
        party = _sender(s, sender)
        if party.bin == receiver_bin:
            raise ShippingError("own_bin")
        act = Act(
            direction=Direction.OUTGOING.value,
            number=f"draft-{uuid.uuid4().hex}",
            date=day,
            sender_name=party.name,
            sender_bin=party.bin,
            receiver_name=receiver_name,
            receiver_bin=receiver_bin,
            basis=documents,
            turnover=turnover,
            status=ActStatus.DRAFT.value,
            created_by=user.id if user else None,
        )
        s.add(act)
        s.flush()
        act.number = f"ТА-{act.id:06d}"
        s.flush()
        audit.record(
            s,
            "act.created",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "direction": Direction.OUTGOING.value,
                "number": act.number,
                "receiver_bin": receiver_bin,
                "receiver_name": receiver_name,
                "basis": documents,
                "turnover": turnover,
            },
        )
        return act


def find_act(s: Session, ref: str | int) -> Act:
    """The outgoing act `services.acts.find_act` finds by id or number. Raises ShippingError "no_act",
    "not_outgoing"."""
    return acts_service.find_act(s, ref, refuse=ShippingError, direction=Direction.OUTGOING)


def lock_draft(s: Session, ref: str | int) -> Act:
    act = find_act(s, ref)
    act = s.get(Act, act.id, with_for_update=True) or act  # PostgreSQL: this act's writers take turns
    s.refresh(act)
    if act.status != ActStatus.DRAFT:
        raise ShippingError("not_draft")
    return act


# --- scanning what ships -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    """What became of one scan at the shipping dock."""

    input: str
    added: bool
    reason: str
    args: dict[str, str] = field(default_factory=dict)  # a level is a vocab.Level, told in the reader's language
    codes: int = 0  # codes reserved (or released) with it, itself included
    error: CodeError | None = None
    held: tuple[tuple[str, int], ...] = ()  # what it holds by level (("block", 5), ("pack", 50)), when it holds any

    @property
    def scan_class(self) -> str:
        """added | removed | command (a command code did its work) | refused."""
        if not self.added:
            return "refused"
        return {"added": "added", "removed": "removed"}.get(self.reason, "command")

    def message(self, lang: str = DEFAULT_LANG) -> str:
        params: dict[str, object] = dict(self.args)
        if self.error is not None:
            params["error"] = self.error.message(lang)
        wording = self.reason
        if wording in ("added", "removed") and self.held:  # told level by level, as receiving tells it
            wording, params["contents"] = f"{wording}_contents", contents(dict(self.held), lang)
        elif wording in ("added", "removed") and self.codes > 1:
            wording, params["inside"] = f"{wording}_with_contents", self.codes - 1
        return PHRASEBOOK.say(one_per_level(wording, params, LEVELLED), lang, **params)

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "input": self.input,
            "class": self.scan_class,
            "message": self.message(lang),
            "reason": self.reason,
            "code": self.args.get("code"),
            "level": self.args.get("level") or None,
            "codes": self.codes,
        }


class Changed(Exception):
    """A compare-and-set found fewer rows than expected: another station got there first."""


def add_code(
    db: Database,
    act_ref: str | int,
    raw: str,
    *,
    user: User | None = None,
    station: str | None = None,
    actor: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> AddResult:
    """Put one scanned code (any level) on a draft with everything inside it, or say why not.

    Refusals (nothing written): empty, invalid, product, not_in_stock, already_shipped, opened,
    on_other_draft, on_this_act, inside_on_this_act, inside_aggregate, changed (another station reserved
    or opened it at the same moment). Raises ShippingError for the act itself ("no_act", "not_draft", …).
    """
    if not raw.strip():
        return AddResult(raw, False, "empty")
    parsed, identity = stock.identity_of(raw, gs_substitutes)
    try:
        with db.write() as s:
            act = lock_draft(s, act_ref)
            return put_on(s, act, raw, parsed, identity, user=user, station=station, actor=actor)
    except Changed:
        return AddResult(raw, False, "changed")


def put_on(
    s: Session,
    act: Act,
    raw: str,
    parsed: ParsedCode,
    identity: str,
    *,
    user: User | None,
    station: str | None,
    actor: str | None,
) -> AddResult:
    """`add_code`'s body in the caller's transaction, the draft `act` locked. Raises Changed (roll back)."""
    at = utcnow()
    if parsed.kind is Kind.PRODUCT:
        return AddResult(raw, False, "product")
    if not parsed.ok or parsed.identity is None:
        return AddResult(raw, False, "invalid", error=parsed.error)
    row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
    refusal = _refusal(s, act, row, raw, parsed.normalized or raw)
    if refusal is not None or row is None:
        return refusal or AddResult(raw, False, "not_in_stock", {"code": raw})
    args = {"code": row.code, "level": Level(row.level)}
    conn = s.connection()
    # Compare-and-set, root first: it must still be in stock, loose and on no act.
    if (
        conn.execute(
            update(StockCode)
            .where(
                StockCode.id == row.id,
                StockCode.status == StockStatus.IN_STOCK,
                StockCode.parent_id.is_(None),
                StockCode.act_id.is_(None),
            )
            .values(status=StockStatus.RESERVED.value, act_id=act.id, updated_at=at)
        ).rowcount
        != 1
    ):
        raise Changed
    expected = stock.count_subtree(s, row.id) - 1
    if (
        expected
        and conn.execute(
            update(StockCode)
            .where(
                StockCode.id.in_(stock.subtree(row.id)),
                StockCode.id != row.id,
                StockCode.status == StockStatus.IN_STOCK,
                StockCode.act_id.is_(None),
            )
            .values(status=StockStatus.RESERVED.value, act_id=act.id, updated_at=at)
        ).rowcount
        != expected
    ):
        raise Changed
    stock.move(
        s,
        stock.subtree(row.id),
        MoveKind.RESERVED,
        act_id=act.id,
        user_id=user.id if user else None,
        station=station,
        at=at,
    )
    audit.record(
        s,
        "act.code_added",
        user=user,
        actor=actor,
        act_id=act.id,
        details={"code": row.code, "level": row.level, "codes": expected + 1, "station": station},
    )
    announce(s, Event(act.id, "codes"), STOCK_CHANGED)
    return AddResult(raw, True, "added", args, expected + 1, held=_held(s, row.id))


def _held(s: Session, root_id: int) -> tuple[tuple[str, int], ...]:
    """What the stock code `root_id` holds, by level from the top down (itself left out)."""
    counts = {
        str(level): int(n)
        for level, n in s.execute(
            select(StockCode.level, func.count())
            .where(StockCode.id.in_(stock.subtree(root_id)), StockCode.id != root_id)
            .group_by(StockCode.level)
        )
    }
    return tuple((lv.value, counts[lv.value]) for lv in CONTENT_LEVELS if counts.get(lv.value))


def _refusal(s: Session, act: Act, row: StockCode | None, raw: str, code: str) -> AddResult | None:
    if row is None:
        return AddResult(raw, False, "not_in_stock", {"code": code})
    args = {"code": row.code, "level": Level(row.level)}
    if row.status == StockStatus.SHIPPED:
        return AddResult(raw, False, "already_shipped", {**args, "act": stock.act_number(s, row.act_id)})
    if row.status == StockStatus.DISAGGREGATED:
        return AddResult(raw, False, "opened", args)
    parent = s.get_one(StockCode, row.parent_id) if row.parent_id is not None else None
    if row.status == StockStatus.RESERVED:
        if row.act_id != act.id:
            return AddResult(raw, False, "on_other_draft", {**args, "act": stock.act_number(s, row.act_id)})
        if parent is not None:
            return AddResult(
                raw, False, "inside_on_this_act", {**args, "parent": parent.code, "parent_level": Level(parent.level)}
            )
        return AddResult(raw, False, "on_this_act", args)
    if parent is not None:
        return AddResult(
            raw, False, "inside_aggregate", {**args, "parent": parent.code, "parent_level": Level(parent.level)}
        )
    return None


def remove_code(
    db: Database,
    act_ref: str | int,
    raw: str,
    *,
    user: User | None = None,
    station: str | None = None,
    actor: str | None = None,
    gs_substitutes: Sequence[str] | None = None,
) -> AddResult:
    """Take a code (with what is inside it) off a draft: it is in stock again. `added` is True when it was."""
    _parsed, identity = stock.identity_of(raw, gs_substitutes)
    try:
        with db.write() as s:
            act = lock_draft(s, act_ref)
            return take_off(s, act, raw, identity, user=user, station=station, actor=actor)
    except Changed:
        return AddResult(raw, False, "changed")


def take_off(
    s: Session,
    act: Act,
    raw: str,
    identity: str,
    *,
    user: User | None,
    station: str | None,
    actor: str | None,
) -> AddResult:
    """`remove_code`'s body in the caller's transaction, the draft `act` locked. Raises Changed (roll back)."""
    at = utcnow()
    row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
    if row is None or row.act_id != act.id or row.status != StockStatus.RESERVED:
        return AddResult(raw, False, "not_on_act", {"code": row.code if row else raw.strip()})
    args = {"code": row.code, "level": Level(row.level)}
    if row.parent_id is not None:
        parent = s.get_one(StockCode, row.parent_id)  # the tree's foreign key: it is there
        return AddResult(
            raw, False, "remove_parent", {**args, "parent": parent.code, "parent_level": Level(parent.level)}
        )
    expected = stock.count_subtree(s, row.id)
    held = _held(s, row.id)
    stock.move(
        s,
        stock.subtree(row.id),
        MoveKind.RELEASED,
        act_id=act.id,
        user_id=user.id if user else None,
        station=station,
        at=at,
    )
    if (
        s.connection()
        .execute(
            update(StockCode)
            .where(
                StockCode.id.in_(stock.subtree(row.id)),
                StockCode.status == StockStatus.RESERVED,
                StockCode.act_id == act.id,
            )
            .values(status=StockStatus.IN_STOCK.value, act_id=None, updated_at=at)
        )
        .rowcount
        != expected
    ):
        raise Changed
    audit.record(
        s,
        "act.code_removed",
        user=user,
        actor=actor,
        act_id=act.id,
        details={"code": row.code, "level": row.level, "codes": expected, "station": station},
    )
    announce(s, Event(act.id, "codes"), STOCK_CHANGED)
    return AddResult(raw, True, "removed", args, expected, held=held)


def set_price(
    db: Database,
    act_ref: str | int,
    gtin: str,
    level: str,
    price: int | None,
    *,
    user: User | None = None,
    actor: str | None = None,
) -> None:
    """The price of a GTIN's blocks or packs on a draft, in tiyn (None clears it). Raises ShippingError."""
    set_prices(db, act_ref, {(gtin, level): price}, user=user, actor=actor)


def set_prices(
    db: Database,
    act_ref: str | int,
    prices: Mapping[tuple[str, str], int | None],
    *,
    user: User | None = None,
    actor: str | None = None,
) -> None:
    """Several prices of a draft, {(gtin, level): tiyn or None}, all in one transaction: a bad one refuses
    them all (ShippingError "bad_price") and nothing changes."""
    for (gtin, level), price in prices.items():
        if (
            level not in PRICED_LEVELS
            or not re.fullmatch(r"\d{14}", gtin)
            or (price is not None and not 0 <= price <= transfer_act.MAX_PRICE)
        ):
            raise ShippingError("bad_price")
    if not prices:
        return
    with db.write() as s:
        act = lock_draft(s, act_ref)
        for (gtin, level), price in prices.items():
            s.execute(delete(ActPrice).where(ActPrice.act_id == act.id, ActPrice.gtin == gtin, ActPrice.level == level))
            if price is not None:
                s.add(ActPrice(act_id=act.id, gtin=gtin, level=level, price=price))
            s.flush()
            audit.record(
                s,
                "act.price_set",
                user=user,
                actor=actor,
                act_id=act.id,
                details={"gtin": gtin, "level": level, "price": price},
            )
        announce(s, Event(act.id, "codes"))


def roots(s: Session, act_id: int, limit: int = 500) -> list[tuple[str, str]]:
    """(code, level) of what was scanned onto a draft, newest first: the codes at the top of its tree."""
    return [
        (code, level)
        for code, level in s.execute(
            select(StockCode.code, StockCode.level)
            .where(StockCode.act_id == act_id, StockCode.status == StockStatus.RESERVED, StockCode.parent_id.is_(None))
            .order_by(StockCode.updated_at.desc(), StockCode.id.desc())
            .limit(limit)
        )
    ]


def drafts(s: Session, limit: int = 200) -> list[Act]:
    return list(
        s.execute(select(Act).where(Act.direction == Direction.OUTGOING).order_by(Act.id.desc()).limit(limit)).scalars()
    )
