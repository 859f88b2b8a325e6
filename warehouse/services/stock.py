"""The stock ledger: what the company owns, code by code, with the aggregation tree.

Codes enter from accepted incoming acts (`enter_accepted`, only what the decision accepted), leave with
signed outgoing acts (`services/shipping.py`) and come back when the receiver refuses them. Opening a
box or a pallet (`open_aggregate`) is an explicit step: afterwards the ledger holds its contents one by
one. Every movement is a row of the journal (`stock_moves`), written in the same transaction as the change,
and every operation leaves an audit entry.

Why a code can never be shipped twice, with any number of stations:
- one row per code identity (unique constraint), and one column saying which outgoing act holds it, so a
  code is on at most one act by construction;
- a row changes status only by compare-and-set (`UPDATE … WHERE status = 'in_stock'`) and the number of
  rows changed is checked against the number expected, all or nothing. On PostgreSQL the second of two
  concurrent transactions waits on the first one's row locks and then re-evaluates the WHERE clause on the
  committed row (READ COMMITTED), finds the row reserved and changes nothing, so it is refused. On SQLite
  write transactions are serialised (BEGIN IMMEDIATE), so the second one reads the first one's result.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from warehouse import codes
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, announce
from warehouse.matching import LEVEL_WORDS, ScanClass
from warehouse.models import (
    Act,
    ActCode,
    Decision,
    LineResolution,
    MoveKind,
    Scan,
    StockCode,
    StockMove,
    StockReceipt,
    StockStatus,
    User,
    UTCDateTime,
)
from warehouse.services import audit
from warehouse.services.acts import lookup_act
from warehouse.signing.acceptance import code_accepted, surplus_accepted
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction

LEVELS: Final = ("pallet", "box", "block", "pack")
AGGREGATE_LEVELS: Final = frozenset({"pallet", "box", "block"})
HELD: Final = (StockStatus.IN_STOCK.value, StockStatus.RESERVED.value)  # what the company still owns
SURPLUS_CLASSES: Final = (ScanClass.SURPLUS.value, ScanClass.FOREIGN.value, ScanClass.WRONG_PRODUCT.value)
# The level a surplus code is entered at, from what the code is. An SSCC may be a box or a pallet: with
# nothing declared inside it, "box" is the safe guess (it is shipped whole either way).
KIND_LEVEL: Final = {"pack": "pack", "block": "block", "sscc": "box", "aggregate": "box"}
_BATCH: Final = 5_000
Rows = Select[*tuple[Any, ...]]  # a SELECT of any columns


class StockError(Exception):
    """The stock operation was refused and nothing was written; `reason` keys the message."""

    def __init__(self, reason: str, **args: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args

    def message(self, lang: str = "ru") -> str:
        return say(MESSAGES.get(self.reason), self.reason, lang, self.args_)


MESSAGES: Final[dict[str, dict[str, str]]] = {
    "no_act": {"ru": "Акт не найден", "kk": "Акт табылмады", "en": "Act not found"},
    "not_decided": {
        "ru": "По акту ещё нет решения: на склад принимается только принятое",
        "kk": "Акт бойынша әлі шешім жоқ: қоймаға тек қабылданғаны алынады",
        "en": "The act has no decision yet: only what was accepted enters the stock",
    },
    "not_incoming": {
        "ru": "Это не входящий акт",
        "kk": "Бұл кіріс акті емес",
        "en": "This is not an incoming act",
    },
    "not_in_stock": {
        "ru": "Кода нет на складе: {code}",
        "kk": "Код қоймада жоқ: {code}",
        "en": "Not in stock: {code}",
    },
    "not_an_aggregate": {
        "ru": "Пачку нельзя вскрыть: {code}",
        "kk": "Қорапты ашуға болмайды: {code}",
        "en": "A pack cannot be opened: {code}",
    },
    "contents_unknown": {
        "ru": "Содержимое {level} {code} неизвестно (его не объявили в акте): вскрыть его нельзя",
        "kk": "{level} {code} ішіндегісі белгісіз (актіде жарияланбаған): оны ашуға болмайды",
        "en": "What is inside {level} {code} is not known (the act did not declare it): it cannot be opened",
    },
    "inside_aggregate": {
        "ru": "{level} {code} лежит в {parent_level} {parent}: сначала вскройте его",
        "kk": "{level} {code} {parent_level} {parent} ішінде: алдымен соны ашыңыз",
        "en": "{level} {code} is inside {parent_level} {parent}: open that first",
    },
    "not_available": {
        "ru": "{level} {code} нельзя вскрыть: он в акте отгрузки {act}",
        "kk": "{level} {code} ашуға болмайды: ол {act} жөнелту актісінде",
        "en": "{level} {code} cannot be opened: it is on outgoing act {act}",
    },
    "already_opened": {
        "ru": "{level} {code} уже вскрыт",
        "kk": "{level} {code} бұрын ашылған",
        "en": "{level} {code} is already open",
    },
    "changed": {
        "ru": "Код изменили на другой станции в это же время: повторите",
        "kk": "Кодты дәл осы уақытта басқа станция өзгертті: қайталаңыз",
        "en": "Another station changed this code at the same moment: try again",
    },
}


def level_word(level: str, lang: str = "ru") -> str:
    return LEVEL_WORDS.get(lang, LEVEL_WORDS["en"]).get(level, level)


def say(texts: Mapping[str, str] | None, reason: str, lang: str, args: Mapping[str, str]) -> str:
    """A refusal in the person's language (English, then the reason itself, when there is none), with the
    levels in words; a template whose value is missing is shown as it stands."""
    template = (texts or {}).get(lang) or (texts or {}).get("en") or reason
    values = {
        **args,
        "level": level_word(args.get("level", ""), lang),
        "parent_level": level_word(args.get("parent_level", ""), lang),
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


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
        act = _find_act(s, act_ref)
        act = s.get(Act, act.id, with_for_update=True) or act  # PostgreSQL: one entry at a time per act
        if act.direction != Direction.INCOMING:
            raise StockError("not_incoming")
        receipt = s.get(StockReceipt, act.id)
        if receipt is not None:
            return EntryResult(
                act.id, act.number, receipt.decision, receipt.codes, receipt.surplus, receipt.conflicts, already=True
            )
        decision = s.execute(
            select(Decision).where(Decision.act_id == act.id).order_by(Decision.id.desc()).limit(1)
        ).scalar()
        if decision is None or act.status not in (ActStatus.DECIDED, ActStatus.SIGNED):
            raise StockError("not_decided")
        wanted = 0
        if decision.decision == "accepted":
            wanted = int(s.execute(select(func.count()).where(ActCode.act_id == act.id)).scalar_one())
            _insert_stock(s, _act_code_rows(act.id, at), at)
        elif decision.decision != "rejected":
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
    level = KIND_LEVEL.get(parsed.kind.value)
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


def _find_act(s: Session, ref: int | str) -> Act:
    act = lookup_act(s, ref)
    if act is None:
        raise StockError("no_act")
    return act


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
        args = {"code": row.code, "level": row.level}
        if row.level not in AGGREGATE_LEVELS:
            raise StockError("not_an_aggregate", code=row.code)
        if row.status == StockStatus.DISAGGREGATED:
            raise StockError("already_opened", **args)
        if row.status != StockStatus.IN_STOCK:
            if row.status == StockStatus.SHIPPED:
                raise StockError("not_in_stock", code=row.code)
            raise StockError("not_available", act=_act_number(s, row.act_id), **args)
        if row.parent_id is not None:
            parent = s.get(StockCode, row.parent_id)
            raise StockError(
                "inside_aggregate",
                parent=parent.code if parent else "",
                parent_level=parent.level if parent else "",
                **args,
            )
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


def _act_number(s: Session, act_id: int | None) -> str:
    if act_id is None:
        return ""
    act = s.get(Act, act_id)
    return act.number if act is not None else f"#{act_id}"


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
    levels = {lvl: LevelCount() for lvl in LEVELS}
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
        .where(StockCode.status.in_(HELD), StockCode.parent_id.is_(None), StockCode.level.in_(("pallet", "box")))
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
        _act_number(s, row.source_act_id) or None,
        act.number if act else None,
        act.status if act else None,
        moves,
    )


def held_identities(s: Session, status: str = StockStatus.IN_STOCK.value) -> set[str]:
    """Every identity with a status (tests and checks; a real stock is read with `totals`)."""
    return set(s.execute(select(StockCode.identity).where(StockCode.status == status)).scalars())


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
