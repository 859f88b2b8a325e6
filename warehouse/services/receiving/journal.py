"""The scan journal: every scan's row, its outcome and its effect on the act, one transaction for a batch.

`record_scans` is the one scan path; `record_scan` is it for one scan, `record_batch` is it for a batch whose
items are answered one by one (the handheld API). Each scan gets its own journal
row, classification and crediting (or its command: undo, mode, open next, end receiving), in arrival
order and seeing the scans before it (a code scanned twice in one batch is matched, then a duplicate),
and its own event for the screens. What a batch shares is the transaction: one BEGIN IMMEDIATE, one act
check, one commit — one fsync for the batch instead of one per scan, which is what four scanners sending
at once wait on (hardware/journal.py gathers them).

A client scan id makes a retry safe: a scan whose id is journaled already — before, or earlier in the
batch — is answered with what the journal holds (`replayed`), and counts nothing again. It is a replay only
when it is the same scan: the same code on the same act. Anything else under a known id is refused
("scan_id_reused") and writes nothing, since answering it with the first scan's result would tell the
terminal a code was counted that never was.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from warehouse import codes, scan_limits
from warehouse.db import Database
from warehouse.events import CHANNEL, NOTIFY, Event, announce, payload
from warehouse.matching import Command, Outcome, Reason, ScanClass, command_of
from warehouse.models import Act, ReceivingSession, Scan, ScanTally, Station
from warehouse.services.receiving.closing import close_act
from warehouse.services.receiving.commands import apply_command
from warehouse.services.receiving.crediting import apply_code
from warehouse.services.receiving.errors import ReceivingError
from warehouse.services.receiving.stations import has_scanned, receiving_stations
from warehouse.services.receiving.summary import OPEN_STATUSES, lock_act
from warehouse.services.users import ensure_station
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction

log = logging.getLogger(__name__)


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
    # The station's stop mode: after a scan that needs attention, its next scans are refused until the
    # operator confirms (CONFIRM, or Enter on the screen); UNDO still works.
    stop_on_error: bool = False


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
class Refused:
    """An input of `record_batch` that was not recorded, and why (`error.reason`); nothing of it was written."""

    error: ReceivingError


def result_of(row: Scan, replayed: bool = False) -> ScanResult:
    """The result a journal row records, as `record_scan` returned it (pages and reviews re-tell old scans)."""
    outcome = Outcome(ScanClass(row.scan_class), Reason(row.reason or Reason.UNREADABLE), row.detail or {})
    return ScanResult(
        row.id, row.act_id or 0, row.raw, outcome, row.credited, row.kind, row.normalized, row.created_at, replayed
    )


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
    return record_scans(db, act_id, [scan], gs_substitutes=gs_substitutes, found_later=found_later)[0]


def record_scans(
    db: Database,
    act_id: int,
    inputs: Sequence[ScanInput],
    *,
    gs_substitutes: Sequence[str] | None = None,
    found_later: bool = False,
) -> list[ScanResult]:
    """Journal and apply `inputs`, in order, to an incoming act in one transaction; one result per input
    recorded, in order.

    The results may cover only the first inputs: a command that ends receiving (scanned CLOSE) is the last
    scan the batch records, and the act is closed after the commit; the inputs after it are left to the
    caller, and the act refuses them. All or nothing otherwise: raises ReceivingError ("no_act",
    "act_not_open", "scan_id_reused") and writes nothing when the act refuses scans or a client scan id is
    reused for another scan; any other error rolls the whole batch back (the caller may then record the
    scans one by one to find the culprit). A scan whose client scan id is already journaled for the same
    code on this act — before or earlier in the batch — returns the first result with `replayed=True`.
    `found_later`: a lead may still scan what was found later while the act waits for the decision.
    Screens learn of the scans after the commit.
    """
    done = _record(db, act_id, inputs, gs_substitutes, found_later, per_item=False)
    return [r for r in done if isinstance(r, ScanResult)]


def record_batch(
    db: Database,
    act_id: int,
    inputs: Sequence[ScanInput],
    *,
    gs_substitutes: Sequence[str] | None = None,
) -> list[ScanResult | Refused]:
    """`record_scans` for a batch answered item by item: one entry per input, in order, each a result or a
    `Refused` — one bad item never takes the others with it.

    Refused, and not written: a raw text the journal cannot hold (`warehouse.scan_limits`), a client scan
    id reused for another code ("scan_id_reused"), and the inputs after a scan that ended receiving
    ("act_not_open"). The rest commit together, in one transaction. Raises ReceivingError ("no_act",
    "act_not_open") and writes nothing when the act takes no scans at all, and "busy" when the database
    failed (locked past its busy timeout, connection lost): rolled back, the same batch may be sent again.
    """
    try:
        return _record(db, act_id, inputs, gs_substitutes, False, per_item=True)
    except OperationalError as e:
        log.warning("act %s: recording %d scans failed, rolled back: %s", act_id, len(inputs), e.orig)
        raise ReceivingError("busy") from e


def _record(
    db: Database,
    act_id: int,
    inputs: Sequence[ScanInput],
    gs_substitutes: Sequence[str] | None,
    found_later: bool,
    *,
    per_item: bool,
) -> list[ScanResult | Refused]:
    """The one body of `record_scans` and `record_batch`: refusals of one input are raised (rolling the
    batch back) unless `per_item`."""
    if not inputs:
        return []
    substitutes = gs_substitutes or codes.DEFAULT_GS_SUBSTITUTES
    # Pure work first: on SQLite every station waits while one holds the write lock.
    unstorable = [_unstorable(i.raw) if per_item else None for i in inputs]
    commands = [None if bad else command_of(i.raw) for i, bad in zip(inputs, unstorable, strict=True)]
    parsed_all = [
        None if c or bad else codes.parse(i.raw, gs_substitutes=substitutes)
        for i, c, bad in zip(inputs, commands, unstorable, strict=True)
    ]
    closing = False
    with db.write() as s:
        # Before the act's lock (PostgreSQL): they do not depend on the act, and other stations wait for it.
        stations = {name: _station_id(db, s, name) for name in {i.station for i in inputs if i.station}}
        locked = lock_act(s, act_id)
        known = _known(s, [i.client_scan_id for i in inputs if i.client_scan_id])
        act: Act | None = None
        session_id: int | None = None
        session_station: int | None = None
        joined: dict[int | None, bool] = {}  # station id -> receives the act (a handheld's check, once a batch)
        classes: Counter[ScanClass] = Counter()
        events: list[Event] = []
        results: list[ScanResult | Refused] = []
        for scan, command, parsed, bad in zip(inputs, commands, parsed_all, unstorable, strict=True):
            if closing:  # receiving ended with an earlier scan of this batch: nothing after it may count
                results.append(Refused(ReceivingError("act_not_open")))
                continue
            if bad is not None:
                results.append(Refused(bad))
                continue
            previous = known.get(scan.client_scan_id) if scan.client_scan_id else None
            if previous is not None:
                if previous.act_id == act_id and previous.raw == scan.raw:
                    results.append(result_of(previous, replayed=True))
                    continue
                if not per_item:
                    raise ReceivingError("scan_id_reused")  # rolls back what the batch wrote
                results.append(Refused(ReceivingError("scan_id_reused")))
                continue
            if act is None:  # the first scan to record: the act must take scans
                act = _open_act(s, act_id, locked, found_later)
            station_id = stations.get(scan.station) if scan.station else None
            if scan.station and station_id is None:  # a new station: created under the lock, once
                station_id = stations[scan.station] = ensure_station(s, scan.station).id
            if session_id is None:
                session_id, session_station = _session_for(s, act, scan, station_id)
            if scan.source == "api" and not _joined(s, act.id, session_id, session_station, station_id, joined):
                # a handheld: only into the acts received at its station
                raise ReceivingError("another_station", **_stations(s, act, session_id, station_id))
            held: str | None = None
            if scan.stop_on_error and command not in (Command.CONFIRM, Command.UNDO):
                # Stop mode: journaled as held (counts nothing, the device stays stopped), to be scanned again
                held = stopped_by(s, act.id, station_id, scan.scanner_id)
            row, outcome = _journal(s, act, session_id, scan, station_id, parsed, command, held)
            classes[outcome.scan_class] += 1
            events.append(Event(act.id, "scan", row.id))
            if scan.client_scan_id:
                known[scan.client_scan_id] = row
            results.append(result_of(row))
            if outcome.reason == Reason.CLOSING:
                closing = True  # receiving ends with this scan
                if not per_item:
                    break
        if act is not None:
            _tally_and_announce(s, act.id, classes, events)
    if closing:
        last = inputs[next(k for k, r in enumerate(results) if _closed_by(r))]
        close_act(db, act_id, actor=f"station:{last.station or '-'}")
    return results


def _closed_by(result: ScanResult | Refused) -> bool:
    return isinstance(result, ScanResult) and result.outcome.reason == Reason.CLOSING


def _unstorable(raw: str) -> ReceivingError | None:
    """The refusal of a raw text no database can store (a lone surrogate; NUL on PostgreSQL) or that is
    too big to be one scan; None for any other text, however unreadable (journaled as invalid)."""
    problem = scan_limits.code_problem(raw)
    return None if problem is None else ReceivingError(problem, **scan_limits.code_details(raw, problem))


def _open_act(s: Session, act_id: int, locked: Act | None, found_later: bool) -> Act:
    """The incoming act the scans go to, if it takes scans; raises ReceivingError otherwise."""
    act = locked if locked is not None else s.get(Act, act_id)
    if act is None or act.direction != Direction.INCOMING:
        raise ReceivingError("no_act")
    # A lead may still scan what was "found later" while the act waits for the decision.
    if act.status not in OPEN_STATUSES and not (found_later and act.status == ActStatus.CLOSED):
        raise ReceivingError("act_not_open")
    return act


_STATION_ID = select(Station.id).where(Station.name == bindparam("name"))


def _station_id(db: Database, s: Session, name: str) -> int | None:
    """The committed station's id, None for a new one (created under the act's lock)."""
    found = db.station_ids.get(name)
    if found is None:
        found = s.connection().execute(_STATION_ID, {"name": name}).scalar()
        if found is not None:  # read before anything is written: a committed row, safe to remember
            db.station_ids[name] = found
    return found


def _known(s: Session, client_scan_ids: list[str]) -> dict[str, Scan]:
    """The journal rows of the client scan ids already recorded (retries)."""
    if not client_scan_ids:
        return {}
    rows = s.execute(select(Scan).where(Scan.client_scan_id.in_(client_scan_ids))).scalars()
    return {row.client_scan_id: row for row in rows if row.client_scan_id is not None}


_OPEN_SESSION = (
    select(ReceivingSession.id, ReceivingSession.station_id)
    .where(ReceivingSession.act_id == bindparam("act_id"), ReceivingSession.closed_at.is_(None))
    .limit(1)
)


def _session_for(s: Session, act: Act, scan: ScanInput, station_id: int | None) -> tuple[int, int | None]:
    """The session the scans go into and its station. A session is at the station of the scan that opened
    it; one without a station (a command-line scan without --station) is put at the first station that
    scans into it. That is what "the act is received at station S" means (`stations.receiving_station`)."""
    found = s.connection().execute(_OPEN_SESSION, {"act_id": act.id}).first()
    if found is None:
        session = _open_session(s, act, scan, station_id)
        return session.id, session.station_id
    session_id, at = found
    if at is None and station_id is not None:
        s.connection().execute(
            update(ReceivingSession).where(ReceivingSession.id == session_id).values(station_id=station_id)
        )
        at = station_id
    return session_id, at


def _joined(
    s: Session, act_id: int, session_id: int, at: int | None, station_id: int | None, seen: dict[int | None, bool]
) -> bool:
    """Whether a handheld of `station_id` may scan into the session: it is at its station, or its station
    has scanned into it (`stations.receiving_stations`)."""
    if at is None or at == station_id:
        return True
    if station_id not in seen:
        seen[station_id] = station_id is not None and has_scanned(s, act_id, session_id, station_id)
    return seen[station_id]


def _stations(s: Session, act: Act, session_id: int, station_id: int | None) -> dict[str, str]:
    """The parameters of "another_station": the act, the stations receiving it and the scan's."""
    mine = s.get(Station, station_id) if station_id is not None else None
    others = sorted(receiving_stations(s, act.id))
    return {"act": act.number, "other": ", ".join(others) or "-", "station": mine.name if mine else "-"}


def _open_session(s: Session, act: Act, scan: ScanInput, station_id: int | None) -> ReceivingSession:
    """The act's open receiving session, or a new one at the scan's station (the act is then receiving); a
    scan found later goes into the last, closed session."""
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
        session = ReceivingSession(act_id=act.id, station_id=station_id, user_id=scan.user_id, mode=act.mode)
        s.add(session)
        act.status = ActStatus.RECEIVING
        s.flush()
    return session


# The journal row goes in and out through Core, twice in all: the ORM's unit of work cost more than the
# rest of the scan. The statements are built once (SQLAlchemy then reuses their compiled form).
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
    "received_at",
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


def _journal(
    s: Session,
    act: Act,
    session_id: int,
    scan: ScanInput,
    station_id: int | None,
    parsed: codes.ParsedCode | None,
    command: Command | None,
    held: str | None = None,
) -> tuple[Scan, Outcome]:
    """One scan's journal row and its effect on the act, in the caller's transaction under the act's lock.
    `row` stays a plain object for the rules and for the result. `held`: the error (its code) that stopped
    the device: the row is journaled as held and changes nothing else."""
    conn = s.connection()
    now = utcnow()
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
        scan_class=ScanClass.INVALID,
        created_at=now,
        received_at=scan.received_at or now,
    )
    row.id = conn.execute(_INSERT_SCAN, {c: getattr(row, c) for c in _INSERTED}).scalar_one()
    if held is not None:
        outcome, credited = Outcome(ScanClass.HELD, Reason.HELD, {"code": held}), 0
    elif parsed is None:
        assert command is not None, "a scan is either a code or a command"
        session = s.get(ReceivingSession, session_id)
        outcome, credited = apply_command(s, act, session, row, command)  # type: ignore[arg-type]
    else:
        outcome, credited = apply_code(s, act, row, parsed)
    row.scan_class = outcome.scan_class
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


_TALLY: dict[str, Any] = {}


def _tally_statement(dialect: str) -> Any:
    stmt = _TALLY.get(dialect)
    if stmt is None:
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = upsert(ScanTally).values(act_id=bindparam("b_act"), scan_class=bindparam("cls"), count=bindparam("n"))
        stmt = _TALLY[dialect] = stmt.on_conflict_do_update(
            index_elements=["act_id", "scan_class"], set_={"count": ScanTally.count + stmt.excluded.count}
        )
    return stmt


# PostgreSQL: a tally's upsert and a NOTIFY in one round trip (the act stays locked until the commit).
_TALLY_AND_NOTIFY = NOTIFY.select_from(_tally_statement("postgresql").returning(ScanTally.count).cte("tally"))


def _tally_and_announce(s: Session, act_id: int, classes: Counter[ScanClass], events: list[Event]) -> None:
    """Add the batch's scans to the act's tallies (one upsert per class, in a fixed order: counters nothing
    in the batch reads) and, on PostgreSQL, NOTIFY each scan in order. PostgreSQL folds the k-th upsert and
    the k-th NOTIFY into one statement, so one scan costs one round trip for both; elsewhere the events go
    through `events.announce` (SQLite: published by this process once the transaction commits)."""
    conn = s.connection()
    tallies = sorted(classes.items())
    if conn.dialect.name != "postgresql":
        for scan_class, n in tallies:
            conn.execute(_tally_statement(conn.dialect.name), {"b_act": act_id, "cls": scan_class.value, "n": n})
        announce(s, *events)
        return
    for k in range(max(len(tallies), len(events))):
        tally = tallies[k] if k < len(tallies) else None
        event = events[k] if k < len(events) else None
        if tally is not None and event is not None:
            params = {"b_act": act_id, "cls": tally[0].value, "n": tally[1], "channel": CHANNEL}
            conn.execute(_TALLY_AND_NOTIFY, {**params, "payload": payload(event)})
        elif tally is not None:
            conn.execute(_tally_statement("postgresql"), {"b_act": act_id, "cls": tally[0].value, "n": tally[1]})
        elif event is not None:
            conn.execute(NOTIFY, {"channel": CHANNEL, "payload": payload(event)})


def stopped_by(s: Session, act_id: int, station_id: int | None, scanner_id: int | None) -> str | None:
    """Stop mode: the code of the error that stops one device of a station on the act, else None.

    A device (a hardware scanner or a handheld: `scanner_id`; the station's screen: None) is stopped when its
    last row on the act needs attention (an error, or a scan held after one), until that device scans
    CONFIRM (or UNDO), or the station's screen confirms (Enter, or CONFIRM in its field), which goes for
    every device of the station. Read from the journal, so every window and process agrees.
    """
    if station_id is None:
        return None
    device = Scan.scanner_id.is_(None) if scanner_id is None else Scan.scanner_id == scanner_id
    last = s.execute(
        select(Scan.id, Scan.scan_class, Scan.normalized, Scan.raw, Scan.detail)
        .where(Scan.act_id == act_id, Scan.station_id == station_id, device)
        .order_by(Scan.id.desc())
        .limit(1)
    ).first()
    if last is None or not ScanClass(last.scan_class).is_error:
        return None
    if scanner_id is not None:
        confirmed = s.execute(
            select(Scan.id)
            .where(
                Scan.act_id == act_id,
                Scan.station_id == station_id,
                Scan.scanner_id.is_(None),
                Scan.reason == Reason.CONFIRMED,
                Scan.id > last.id,
            )
            .limit(1)
        ).first()
        if confirmed is not None:
            return None
    if last.scan_class == ScanClass.HELD:
        return str((last.detail or {}).get("code") or last.raw)
    return str(last.normalized or last.raw)
