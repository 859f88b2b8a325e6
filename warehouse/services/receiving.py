"""Receiving: one scan, one transaction — journal row, match against the act, credit, counters.

Every source (scanner readers, the browser field, the handheld API, the CLI) enters at `record_scan`.
Crediting is exact under concurrency: on SQLite the write transaction holds the database's write lock
(BEGIN IMMEDIATE); on PostgreSQL a row lock on the act (FOR NO KEY UPDATE) serialises the scans of one
act (scans of different acts run in parallel), and the UPDATE only takes rows still uncredited, so a
code is credited at most once whatever the interleaving. A retried scan with the same client scan id
returns the first result instead of counting again (unique constraint on `client_scan_id`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warehouse import codes
from warehouse.db import Database
from warehouse.events import CHANNEL, Event, announce, broker, payload
from warehouse.matching import Command, Outcome, Reason, ScanClass, command_of
from warehouse.models import Act, ActCode, ActCounter, Decision, ReceivingSession, Scan, ScanTally, Station, User
from warehouse.services import audit
from warehouse.services.acts import lookup_act
from warehouse.services.users import ensure_station
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction, Mode

LEVELS = ("pallet", "box", "block", "pack")
OPEN_STATUSES = (ActStatus.NEW, ActStatus.RECEIVING)
DECISIONS = ("accepted", "accepted_with_discrepancies", "rejected")
REASON_CODES = ("shortage", "damage", "surplus", "wrong_product", "mis_sorted")


class ReceivingError(Exception):
    """The scan or action was refused and nothing was written; `reason` keys the message."""

    def __init__(self, reason: str, **args: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args

    def message(self, lang: str = "ru") -> str:
        return ERROR_MESSAGES.get(self.reason, {}).get(lang, self.reason).format(**self.args_)


ERROR_MESSAGES: dict[str, dict[str, str]] = {
    "no_act": {"ru": "Акт не найден", "kk": "Акт табылмады", "en": "Act not found"},
    "act_not_open": {
        "ru": "Приёмка по акту завершена: сканирование закрыто",
        "kk": "Акт бойынша қабылдау аяқталды: сканерлеу жабық",
        "en": "Receiving of this act has ended: scanning is closed",
    },
    "not_closed": {
        "ru": "Сначала завершите приёмку",
        "kk": "Алдымен қабылдауды аяқтаңыз",
        "en": "End receiving first",
    },
    "already_decided": {
        "ru": "По акту уже принято решение",
        "kk": "Акт бойынша шешім қабылданған",
        "en": "The act is already decided",
    },
    "bad_decision": {"ru": "Неизвестное решение", "kk": "Белгісіз шешім", "en": "Unknown decision"},
    "bad_reason": {"ru": "Неизвестная причина", "kk": "Белгісіз себеп", "en": "Unknown reason code"},
    "empty_scan": {"ru": "Пустое сканирование", "kk": "Бос сканерлеу", "en": "Empty scan"},
    "decision_contradicts": {
        "ru": "Есть расхождения: выберите «принять с расхождениями» или «отклонить»",
        "kk": "Сәйкессіздіктер бар: «сәйкессіздіктермен қабылдау» немесе «қабылдамау» таңдаңыз",
        "en": "There are discrepancies: choose accepted with discrepancies or rejected",
    },
}


@dataclass(frozen=True)
class ScanInput:
    raw: str
    source: str = "cli"  # evdev | serial | browser | api | cli | image
    station: str | None = None
    user_id: int | None = None
    scanner_id: int | None = None
    client_scan_id: str | None = None
    raw_events: bytes | None = None
    received_at: datetime | None = None  # when the scanner sent its terminator; None: now


@dataclass(frozen=True)
class ScanResult:
    scan_id: int
    act_id: int
    input: str
    outcome: Outcome
    credited: int
    kind: str
    normalized: str | None
    created_at: datetime
    replayed: bool = False  # a retry of a scan already recorded

    @property
    def scan_class(self) -> ScanClass:
        return self.outcome.scan_class

    def message(self, lang: str = "ru") -> str:
        return self.outcome.message(lang)


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
    tallies: dict[str, int] = field(default_factory=dict)

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
            "expected": {lvl: self.levels[lvl].expected for lvl in LEVELS},
            "credited": {lvl: self.levels[lvl].credited for lvl in LEVELS},
            "outstanding": {lvl: self.levels[lvl].outstanding for lvl in LEVELS},
            "surplus": self.surplus,
            "duplicate": self.tallies.get(ScanClass.DUPLICATE, 0),
            "invalid": self.tallies.get(ScanClass.INVALID, 0) + self.tallies.get(ScanClass.PRODUCT, 0),
            "scans": dict(sorted(self.tallies.items())),
            "by_gtin": {
                g: {lvl: {"expected": c.expected, "credited": c.credited} for lvl, c in per.items()}
                for g, per in sorted(self.by_gtin.items())
            },
        }


def _lock_act(s: Session, act_id: int) -> Act | None:
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


def _upsert(s: Session) -> Any:
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


def find_act(s: Session, ref: str | int) -> Act:
    """An act by id, or by number when the reference is not a number."""
    act = lookup_act(s, ref)
    if act is None:
        raise ReceivingError("no_act")
    return act


def record_scan(
    db: Database,
    act_id: int,
    scan: ScanInput,
    *,
    gs_substitutes: Sequence[str] | None = None,
    found_later: bool = False,
) -> ScanResult:
    """Journal and apply one scan to an incoming act, in one transaction. Raises ReceivingError when refused.

    Screens learn of the scan after the commit, never before: what they show is what is stored.
    """
    result = _record(db, act_id, scan, gs_substitutes, found_later)
    if not result.replayed and db.is_sqlite:
        broker.publish(Event(act_id, "scan", result.scan_id))
    if result.outcome.reason == Reason.CLOSING and not result.replayed:
        close_act(db, act_id, actor=f"station:{scan.station or '-'}")
    return result


def _announce(s: Session, event: Event) -> None:
    """On PostgreSQL the transaction announces itself: NOTIFY is delivered at commit, to every station."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection().execute(_NOTIFY, {"channel": CHANNEL, "payload": payload(event)})


def _record(
    db: Database, act_id: int, scan: ScanInput, gs_substitutes: Sequence[str] | None, found_later: bool
) -> ScanResult:
    # Pure work first: on SQLite every station waits while one holds the write lock.
    command = command_of(scan.raw)
    parsed = None if command else codes.parse(scan.raw, gs_substitutes=gs_substitutes or codes.DEFAULT_GS_SUBSTITUTES)
    with db.write() as s:
        # Before the act's lock (PostgreSQL): it does not depend on the act, and other stations wait for that lock.
        station_id = _station_id(db, s, scan.station)
        locked = _lock_act(s, act_id)
        if scan.station and station_id is None:  # a new station: created under the lock, once
            station_id = ensure_station(s, scan.station).id
        if scan.client_scan_id:
            previous = s.execute(select(Scan).where(Scan.client_scan_id == scan.client_scan_id)).scalar()
            if previous is not None:
                return _result_of(previous, replayed=True)
        act = locked if locked is not None else s.get(Act, act_id)
        if act is None or act.direction != Direction.INCOMING:
            raise ReceivingError("no_act")
        # A lead may still scan what was "found later" while the act waits for the decision.
        if act.status not in OPEN_STATUSES and not (found_later and act.status == ActStatus.CLOSED):
            raise ReceivingError("act_not_open")
        conn = s.connection()
        session_id = conn.execute(_OPEN_SESSION, {"act_id": act.id}).scalar()
        if session_id is None:
            session_id = _open_session(s, act, scan).id
        row, outcome = _journal(s, act, session_id, scan, station_id, parsed, command)
        _tally_and_announce(s, act.id, outcome.scan_class, Event(act.id, "scan", row.id))
        return _result_of(row)


def _station_id(db: Database, s: Session, name: str | None) -> int | None:
    """The committed station's id, None for no station or a new one (created under the act's lock)."""
    if not name:
        return None
    found = db.station_ids.get(name)
    if found is None:
        found = s.connection().execute(_STATION_ID, {"name": name}).scalar()
        if found is not None:  # the transaction's first statement: a committed row, safe to remember
            db.station_ids[name] = found
    return found


def _journal(
    s: Session,
    act: Act,
    session_id: int,
    scan: ScanInput,
    station_id: int | None,
    parsed: codes.ParsedCode | None,
    command: Command | None,
) -> tuple[Scan, Outcome]:
    """One scan's journal row and its effect on the act, in the caller's transaction under the act's lock.
    Shared by record_scan and the batch of receiving_batch: one set of rules for every source."""
    conn = s.connection()
    # The journal row goes in and out through Core, twice in all: the ORM's unit of work cost more than
    # the rest of the scan. `row` stays a plain object for the rules and for the result.
    row = Scan(
        client_scan_id=scan.client_scan_id,
        act_id=act.id,
        session_id=session_id,
        station_id=station_id,
        user_id=scan.user_id,
        scanner_id=scan.scanner_id,
        source=scan.source,
        raw=scan.raw,
        raw_events=scan.raw_events,
        kind=parsed.kind.value if parsed else "command",
        identity=parsed.identity if parsed else None,
        normalized=parsed.normalized if parsed else command,
        scan_class=ScanClass.INVALID.value,
        created_at=utcnow(),
    )
    row.id = conn.execute(_INSERT_SCAN, {c: getattr(row, c) for c in _INSERTED}).scalar_one()
    if parsed is None:
        assert command is not None, "a scan is either a code or a command"
        session = s.get(ReceivingSession, session_id)
        outcome, credited = _command(s, act, session, row, command)  # type: ignore[arg-type]
    else:
        outcome, credited = _apply(s, act, row, parsed)
    row.scan_class = outcome.scan_class.value
    row.reason = outcome.reason.value
    row.detail = dict(outcome.args)
    row.credited = credited
    conn.execute(
        _FINISH_SCAN,
        {
            "b_id": row.id,
            "b_class": row.scan_class,
            "b_reason": row.reason,
            "b_detail": row.detail,
            "b_credited": credited,
            "b_code": row.act_code_id,
            "b_reverses": row.reverses_scan_id,
        },
    )
    return row, outcome


def _open_session(s: Session, act: Act, scan: ScanInput) -> ReceivingSession:
    session = s.execute(
        select(ReceivingSession).where(ReceivingSession.act_id == act.id, ReceivingSession.closed_at.is_(None))
    ).scalar()
    if session is None:
        if act.status == ActStatus.CLOSED:  # found later: journal it in the last, closed session
            session = s.execute(
                select(ReceivingSession)
                .where(ReceivingSession.act_id == act.id)
                .order_by(ReceivingSession.id.desc())
                .limit(1)
            ).scalar()
            if session is not None:
                return session
        session = ReceivingSession(act_id=act.id, user_id=scan.user_id, mode=act.mode)
        s.add(session)
        act.status = ActStatus.RECEIVING
        s.flush()
    return session


def _result_of(row: Scan, replayed: bool = False) -> ScanResult:
    outcome = Outcome(ScanClass(row.scan_class), Reason(row.reason or Reason.UNREADABLE), row.detail or {})
    return ScanResult(
        row.id, row.act_id or 0, row.raw, outcome, row.credited, row.kind, row.normalized, row.created_at, replayed
    )


def _apply(s: Session, act: Act, row: Scan, parsed: codes.ParsedCode) -> tuple[Outcome, int]:
    if parsed.kind == codes.Kind.INVALID or parsed.identity is None:
        error = parsed.error.message("en") if parsed.error else ""
        reason = getattr(parsed.error, "reason", "") if parsed.error else ""
        return Outcome(ScanClass.INVALID, Reason.UNREADABLE, {"error": error, "error_reason": reason}), 0
    if parsed.kind == codes.Kind.PRODUCT:
        return Outcome(ScanClass.PRODUCT, Reason.PRODUCT_BARCODE, {"gtin": parsed.gtin or ""}), 0
    # Core statements on the session's connection from here: no ORM objects to load and no autoflush; the
    # caller writes the scan row's act code, class and credit together once the outcome is known.
    conn = s.connection()
    code = conn.execute(_FIND_CODE, {"act_id": act.id, "identity": parsed.identity}).first()
    if code is None:
        return _unmatched(s, act, parsed), 0
    row.act_code_id = code.id
    if code.credited_scan_id is not None:
        return _duplicate(s, code), 0
    has_contents = code.last is not None and code.pos is not None and code.last > code.pos
    if has_contents and (act.mode == Mode.FULL_CHECK or _open_requested(s, act.id, row)):
        return Outcome(ScanClass.MATCHED, Reason.OPENED, {"level": code.level, "code": code.code}), 0
    changed = Counter[tuple[str, str]]()
    subtree = _credit_subtree(s, act.id, code, row.id, changed)
    above = _roll_up(s, act.id, code, row.id, changed)
    _count(s, act.id, changed)
    return Outcome(
        ScanClass.MATCHED, Reason.CREDITED, {"level": code.level, "code": code.code, "inside": str(max(subtree - 1, 0))}
    ), subtree + above


def _open_requested(s: Session, act_id: int, row: Scan) -> bool:
    """Did this station's previous scan on the act ask to open the next aggregate? Read from the journal,
    so the request survives a restart and belongs to the station that scanned it."""
    previous = (
        s.connection()
        .execute(_PREVIOUS_REASON, {"act_id": act_id, "station_id": row.station_id, "scan_id": row.id})
        .scalar()
    )
    return previous == Reason.OPEN_NEXT


def _command(s: Session, act: Act, session: ReceivingSession, row: Scan, command: Command) -> tuple[Outcome, int]:
    if command is Command.UNDO:
        return _undo(s, act, row)
    if command in (Command.FULL_CHECK, Command.TRUSTED):
        act.mode = session.mode = Mode.FULL_CHECK if command is Command.FULL_CHECK else Mode.TRUSTED
        reason = Reason.MODE_FULL_CHECK if command is Command.FULL_CHECK else Reason.MODE_TRUSTED
        return Outcome(ScanClass.COMMAND, reason, {"mode": act.mode}), 0
    if command is Command.OPEN:
        return Outcome(ScanClass.COMMAND, Reason.OPEN_NEXT), 0
    return Outcome(ScanClass.COMMAND, Reason.CLOSING), 0  # record_scan closes the act after this commit


def _undo(s: Session, act: Act, row: Scan) -> tuple[Outcome, int]:
    """Undo the station's last counted scan: a reversal row un-credits what that scan credited. Nothing is
    deleted; the journal keeps both rows."""
    reversed_ids = select(Scan.reverses_scan_id).where(Scan.act_id == act.id, Scan.reverses_scan_id.is_not(None))
    target = s.execute(
        select(Scan)
        .where(
            Scan.act_id == act.id,
            Scan.station_id == row.station_id,
            Scan.credited > 0,
            Scan.id < row.id,
            Scan.id.not_in(reversed_ids),
        )
        .order_by(Scan.id.desc())
        .limit(1)
    ).scalar()
    if target is None:
        return Outcome(ScanClass.COMMAND, Reason.NOTHING_TO_UNDO), 0
    stmt = (
        update(ActCode)
        .where(ActCode.act_id == act.id, ActCode.credited_scan_id == target.id)
        .values(credited_scan_id=None)
        .returning(ActCode.level, ActCode.gtin)
        .execution_options(synchronize_session=False)
    )
    changed = Counter((lvl, gtin or "") for lvl, gtin in s.execute(stmt))
    # An aggregate counted because all its contents were (a roll-up, maybe by another scan) is no longer whole.
    # Climb to the top: the box the undone scan completed was un-credited above with it, while the pallet
    # that another station's scan then completed is still counted.
    parent_id = s.get(ActCode, target.act_code_id).parent_id if target.act_code_id else None  # type: ignore[union-attr]
    while parent_id is not None:
        parent = s.get(ActCode, parent_id)
        if parent is None:
            break
        if parent.credited_scan_id is not None:
            parent.credited_scan_id = None
            changed[(parent.level, parent.gtin or "")] += 1
        parent_id = parent.parent_id
    s.flush()
    _count(s, act.id, Counter({key: -n for key, n in changed.items()}))
    row.reverses_scan_id = target.id
    n = sum(changed.values())
    return Outcome(ScanClass.REVERSED, Reason.UNDONE, {"code": target.normalized or target.raw, "n": str(n)}), -n


# The statements of the scan path, built once (SQLAlchemy then reuses their compiled form): one scan is a
# dozen statements, and building them anew each time cost more than running them.
_CODE_COLUMNS = (
    ActCode.id,
    ActCode.parent_id,
    ActCode.code,
    ActCode.level,
    ActCode.gtin,
    ActCode.credited_scan_id,
    ActCode.pos,
    ActCode.last,
)
_INSERTED = (
    "client_scan_id",
    "act_id",
    "session_id",
    "station_id",
    "user_id",
    "scanner_id",
    "source",
    "raw",
    "raw_events",
    "kind",
    "identity",
    "normalized",
    "scan_class",
    "created_at",
)
_INSERT_SCAN = insert(Scan).returning(Scan.id)
_FINISH_SCAN = (
    update(Scan)
    .where(Scan.id == bindparam("b_id"))
    .values(
        scan_class=bindparam("b_class"),
        reason=bindparam("b_reason"),
        detail=bindparam("b_detail", type_=Scan.__table__.c.detail.type),
        credited=bindparam("b_credited"),
        act_code_id=bindparam("b_code"),
        reverses_scan_id=bindparam("b_reverses"),
    )
)
_OPEN_SESSION = (
    select(ReceivingSession.id)
    .where(ReceivingSession.act_id == bindparam("act_id"), ReceivingSession.closed_at.is_(None))
    .limit(1)
)
_NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))
_LOCK_ACT = select(Act).where(Act.id == bindparam("act_id")).with_for_update(key_share=True)
_FIND_CODE = select(*_CODE_COLUMNS).where(
    ActCode.act_id == bindparam("act_id"), ActCode.identity == bindparam("identity")
)
_GET_CODE = select(*_CODE_COLUMNS).where(ActCode.id == bindparam("id"))
_GET_SCAN = select(Scan.created_at, Scan.act_code_id).where(Scan.id == bindparam("id"))
_STATION_ID = select(Station.id).where(Station.name == bindparam("name"))
_PREVIOUS_REASON = (
    select(Scan.reason)
    .where(
        Scan.act_id == bindparam("act_id"), Scan.station_id == bindparam("station_id"), Scan.id < bindparam("scan_id")
    )
    .order_by(Scan.id.desc())
    .limit(1)
)
_CREDIT_SUBTREE = (
    update(ActCode)
    .where(
        ActCode.act_id == bindparam("b_act"),
        ActCode.pos.between(bindparam("first"), bindparam("last_pos")),
        ActCode.credited_scan_id.is_(None),
    )
    .values(credited_scan_id=bindparam("scan_id"))
    .returning(ActCode.level, ActCode.gtin)
)
# A parent is credited when it is not yet and none of its children is still uncredited: one statement per
# level climbed, and the usual case (the parent still has uncounted contents) is one that changes nothing.
_children = ActCode.__table__.alias("children")
_CREDIT_IF_COMPLETE = (
    update(ActCode)
    .where(
        ActCode.id == bindparam("b_parent"),
        ActCode.credited_scan_id.is_(None),
        ~select(_children.c.id)
        .where(_children.c.parent_id == bindparam("b_parent"), _children.c.credited_scan_id.is_(None))
        .exists(),
    )
    .values(credited_scan_id=bindparam("scan_id"))
    .returning(ActCode.level, ActCode.gtin, ActCode.parent_id)
)
_COUNT = (
    update(ActCounter)
    .where(
        ActCounter.act_id == bindparam("b_act"),
        ActCounter.level == bindparam("lvl"),
        ActCounter.gtin == bindparam("gtin_key"),
    )
    .values(credited=ActCounter.credited + bindparam("n"))
)
_TALLY: dict[str, Any] = {}


def _tally_statement(dialect: str) -> Any:
    stmt = _TALLY.get(dialect)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(ScanTally).values(act_id=bindparam("b_act"), scan_class=bindparam("cls"), count=bindparam("n"))
        stmt = _TALLY[dialect] = stmt.on_conflict_do_update(
            index_elements=["act_id", "scan_class"], set_={"count": ScanTally.count + stmt.excluded.count}
        )
    return stmt


# PostgreSQL: the tally's upsert and the NOTIFY in one round trip (the act stays locked until the commit).
_TALLY_AND_NOTIFY = _NOTIFY.select_from(_tally_statement("postgresql").returning(ScanTally.count).cte("tally"))


def _credit_subtree(
    s: Session, act_id: int, code: Any, scan_id: int, changed: Counter[tuple[str, str]] | None = None
) -> int:
    """Credit `code` (an ActCode or a row with its columns) and its declared contents not yet credited.

    The counters are updated here, or added to `changed` for the caller to update once."""
    rows = s.connection().execute(
        _CREDIT_SUBTREE, {"b_act": act_id, "first": code.pos, "last_pos": code.last, "scan_id": scan_id}
    )
    credited = Counter((lvl, gtin or "") for lvl, gtin in rows)
    if changed is None:
        _count(s, act_id, credited)
    else:
        changed.update(credited)
    return sum(credited.values())


def _roll_up(s: Session, act_id: int, code: Any, scan_id: int, changed: Counter[tuple[str, str]] | None = None) -> int:
    """An aggregate whose every declared child is now counted is counted too (counters as `_credit_subtree`)."""
    conn = s.connection()
    credited = Counter[tuple[str, str]]()
    parent_id = code.parent_id
    while parent_id is not None:
        parent = conn.execute(_CREDIT_IF_COMPLETE, {"b_parent": parent_id, "scan_id": scan_id}).first()
        if parent is None:
            break
        credited[(parent.level, parent.gtin or "")] += 1
        parent_id = parent.parent_id
    if changed is None:
        _count(s, act_id, credited)
    else:
        changed.update(credited)
    return sum(credited.values())


def _count(s: Session, act_id: int, changed: Counter[tuple[str, str]]) -> None:
    if changed:
        s.connection().execute(
            _COUNT,
            [{"b_act": act_id, "lvl": level, "gtin_key": gtin, "n": n} for (level, gtin), n in sorted(changed.items())],
        )


def _tally_and_announce(s: Session, act_id: int, scan_class: ScanClass, event: Event) -> None:
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(
            _TALLY_AND_NOTIFY,
            {"b_act": act_id, "cls": scan_class.value, "n": 1, "channel": CHANNEL, "payload": payload(event)},
        )
    else:  # SQLite: screens hear of the scan from this process after the commit (record_scan)
        _tally(s, act_id, scan_class)


def _tally(s: Session, act_id: int, scan_class: ScanClass, delta: int = 1) -> None:
    conn = s.connection()
    conn.execute(_tally_statement(conn.dialect.name), {"b_act": act_id, "cls": scan_class.value, "n": delta})


def _duplicate(s: Session, code: Any) -> Outcome:
    conn = s.connection()
    by = conn.execute(_GET_SCAN, {"id": code.credited_scan_id}).first()
    source = conn.execute(_GET_CODE, {"id": by.act_code_id}).first() if by is not None and by.act_code_id else None
    if source is None or source.id == code.id:
        when = by.created_at.strftime("%H:%M:%S") if by is not None else ""
        return Outcome(ScanClass.DUPLICATE, Reason.ALREADY_SCANNED, {"time": when, "code": code.code})
    if source.pos is not None and code.pos is not None and code.last is not None and code.pos < source.pos <= code.last:
        return Outcome(ScanClass.DUPLICATE, Reason.CONTENTS_SCANNED, {"code": code.code})
    return Outcome(
        ScanClass.DUPLICATE,
        Reason.INSIDE_CREDITED,
        {"code": code.code, "parent_level": source.level, "parent": source.code},
    )


def _unmatched(s: Session, act: Act, parsed: codes.ParsedCode) -> Outcome:
    # No index on identity alone (it made imports a quarter slower): the few open acts are probed on
    # (act_id, identity), which both databases plan from this join.
    other = s.execute(
        select(Act.id, Act.number, Act.date)
        .join(ActCode, ActCode.act_id == Act.id)
        .where(
            ActCode.identity == parsed.identity,
            Act.id != act.id,
            Act.direction == Direction.INCOMING,
            Act.status.in_(OPEN_STATUSES),
        )
        .limit(1)
    ).first()
    if other is not None:
        return Outcome(
            ScanClass.FOREIGN,
            Reason.OTHER_ACT,
            {
                "code": parsed.normalized or "",
                "act_id": str(other.id),
                "number": other.number,
                "date": other.date.isoformat(),
            },
        )
    if parsed.gtin:
        gtins = set(
            s.execute(select(ActCounter.gtin).where(ActCounter.act_id == act.id, ActCounter.gtin != "")).scalars()
        )
        if gtins and parsed.gtin not in gtins:
            return Outcome(
                ScanClass.WRONG_PRODUCT, Reason.GTIN_NOT_IN_ACT, {"code": parsed.normalized or "", "gtin": parsed.gtin}
            )
    seen = s.execute(
        select(Scan.id)
        .where(Scan.act_id == act.id, Scan.identity == parsed.identity, Scan.scan_class == ScanClass.SURPLUS)
        .limit(1)
    ).first()
    if seen is not None:
        return Outcome(ScanClass.DUPLICATE, Reason.SURPLUS_AGAIN, {"code": parsed.normalized or ""})
    return Outcome(ScanClass.SURPLUS, Reason.NOT_IN_ACT, {"code": parsed.normalized or ""})


def summary(s: Session, act: Act) -> Summary:
    levels = {lvl: LevelCount() for lvl in LEVELS}
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


def close_act(db: Database, ref: str | int, user: User | None = None, actor: str | None = None) -> Summary:
    """End receiving: the counters are frozen into the session for the lead's decision."""
    with db.write() as s:
        act = find_act(s, ref)
        _lock_act(s, act.id)
        if act.status not in OPEN_STATUSES:
            raise ReceivingError("act_not_open")
        result = summary(s, act)
        now = utcnow()
        for sess in s.execute(
            select(ReceivingSession).where(ReceivingSession.act_id == act.id, ReceivingSession.closed_at.is_(None))
        ).scalars():
            sess.closed_at = now
            sess.result = result.to_json()
        act.status = ActStatus.CLOSED
        audit.record(s, "act.closed", user=user, actor=actor, act_id=act.id, details=result.to_json())
        closed = summary(s, act)
        announce(s, Event(act.id, "status"))
    return closed


def decide(
    db: Database,
    ref: str | int,
    decision: str,
    *,
    reason: str | None = None,
    comment: str | None = None,
    user: User | None = None,
    actor: str | None = None,
) -> Decision:
    if decision not in DECISIONS:
        raise ReceivingError("bad_decision")
    if reason and reason not in REASON_CODES:
        raise ReceivingError("bad_reason")
    with db.write() as s:
        act = find_act(s, ref)
        if act.status in (ActStatus.DECIDED, ActStatus.SIGNED):
            raise ReceivingError("already_decided")
        if act.status != ActStatus.CLOSED:
            raise ReceivingError("not_closed")
        result = summary(s, act)
        if decision == "accepted" and (not result.complete or result.surplus):
            raise ReceivingError("decision_contradicts")
        row = Decision(
            act_id=act.id, decision=decision, reason=reason, comment=comment, user_id=user.id if user else None
        )
        s.add(row)
        act.status = ActStatus.DECIDED
        s.flush()
        audit.record(
            s,
            "act.decided",
            user=user,
            actor=actor,
            act_id=act.id,
            details={"decision": decision, "reason": reason, "comment": comment},
        )
        return row


def count_scans(s: Session, act_id: int) -> int:
    return int(s.execute(select(func.count()).select_from(Scan).where(Scan.act_id == act_id)).scalar_one())
