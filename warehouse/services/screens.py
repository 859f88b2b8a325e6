"""What the screens show: each function is one read transaction returning what one page or partial renders.

The blueprints call these instead of opening sessions themselves; the services they draw on (receiving,
review, audit, tree, stock, shipping) keep the rules, these only gather a page's worth of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import Act, ActCode, AuditEntry, Scan, Scanner, Station, User
from warehouse.services import acts, audit, receiving, review, shipping, stock, tree
from warehouse.vocab import LEVELS, ActStatus, Direction, ScanClass

JOURNAL_ROWS = 30


# --- receiving ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """A device stopped after an error (stop mode): where, which device ("" for the station's screen), the
    code that stopped it, and how many of its scans were held since (not counted: to be scanned again)."""

    station: str
    device: str
    code: str
    held: int


STOP_WINDOW = 500
"""Stop mode: the act's latest journal rows read for stopped devices. A stopped device that scans again
is in them (its held rows are); one that sits stopped while others scan 500 codes drops off the list,
and its next scan is still held and shown."""


@dataclass(frozen=True)
class Receiving:
    """An incoming act as it is now, with its counters and the aggregate last opened on it."""

    act: Act
    summary: receiving.Summary
    opened: tree.Opened | None = None  # shown while the act is received; None once receiving ended
    stops: tuple[Stop, ...] = ()  # stop mode: the devices stopped after an error, until confirmed

    @property
    def complete(self) -> bool:
        """Every declared code is counted: the act is ready for the lead (surplus is the lead's to judge)."""
        return self.summary.complete and any(c.expected for c in self.summary.levels.values())


def receiving_state(
    db: Database, act_id: int, opened_id: int | None = None, *, stop_mode: bool = False
) -> Receiving | None:
    """The act, its counters and the aggregate `opened_id` (see `last_opened`) read together (None when
    there is no such act); under `stop_mode`, the devices stopped on it too."""
    with db.read() as s:
        act = acts.visible(s.get(Act, act_id))
        if act is None:
            return None
        receiving_now = act.status in receiving.OPEN_STATUSES
        shown = tree.opened(s, act.id, opened_id) if receiving_now else None
        stops = _stops(s, act.id) if stop_mode and receiving_now else ()
        return Receiving(act, receiving.summary(s, act), shown, stops)


def _stops(s: Session, act_id: int) -> tuple[Stop, ...]:
    """The devices the act's latest rows show stopped (`receiving.stopped_by`, the rule the scans obey)."""
    recent = s.execute(
        select(Scan.station_id, Scan.scanner_id, Scan.scan_class)
        .where(Scan.act_id == act_id, Scan.station_id.is_not(None))
        .order_by(Scan.id.desc())
        .limit(STOP_WINDOW)
    ).all()
    held: dict[tuple[int, int | None], int] = {}  # per device, its held rows since its last other row
    counted: set[tuple[int, int | None]] = set()
    for row in recent:
        key = (row.station_id, row.scanner_id)
        held.setdefault(key, 0)
        if key in counted:
            continue
        if row.scan_class == ScanClass.HELD:
            held[key] += 1
        else:
            counted.add(key)
    stops = []
    for (station_id, scanner_id), n in held.items():
        code = receiving.stopped_by(s, act_id, station_id, scanner_id)
        if code is None:
            continue
        station = s.get(Station, station_id)
        scanner = s.get(Scanner, scanner_id) if scanner_id is not None else None
        device = (scanner.name or scanner.device_key) if scanner is not None else ""
        stops.append(Stop(station.name if station else "", device, code, n))
    return tuple(stops)


def last_opened(db: Database, act_id: int) -> int | None:
    """The act code of the aggregate last opened on the act (a screen asks once, then follows its scans)."""
    with db.read() as s:
        return tree.last_opened(s, act_id)


@dataclass(frozen=True)
class ToScan:
    """What is still to be scanned of one product at one level (the handheld page's list)."""

    gtin: str
    name: str
    level: str
    outstanding: int
    expected: int


def to_scan(summary: receiving.Summary, names: dict[str, str]) -> list[ToScan]:
    """Per product and level (blocks before packs), what the act still waits for, the most first."""
    rows = [
        ToScan(gtin, names.get(gtin, ""), level, count.outstanding, count.expected)
        for gtin, per in summary.by_gtin.items()
        for level, count in per.items()
        if count.outstanding
    ]
    order = {level.value: n for n, level in enumerate(LEVELS)}
    return sorted(rows, key=lambda r: (order.get(r.level, len(order)), -r.outstanding, r.gtin))


def open_incoming(db: Database, limit: int = 10) -> list[Act]:
    """Incoming acts still receiving scans, newest first (the handheld page's short list)."""
    with db.read() as s:
        stmt = (
            select(Act)
            .where(Act.direction == Direction.INCOMING, Act.status.in_(receiving.OPEN_STATUSES))
            .order_by(Act.date.desc(), Act.id.desc())
            .limit(limit)
        )
        return list(s.execute(stmt).scalars())


def incoming_act(db: Database, ref: str | int) -> Act | None:
    """The incoming act an id or a number names (`acts.lookup_act`), None when there is none."""
    with db.read() as s:
        act = acts.lookup_act(s, ref)
        return act if act is not None and act.direction == Direction.INCOMING else None


@dataclass(frozen=True)
class JournalEntry:
    scan: Scan
    station: str  # "" when unknown
    user: str

    @property
    def opens(self) -> int | None:
        """The act code this scan opened, if it opened an aggregate."""
        return tree.opened_by(self.scan)


def journal(db: Database, act_id: int, after: int = 0, limit: int = JOURNAL_ROWS) -> list[JournalEntry]:
    """The act's scans newer than `after`, newest first, with the station and person that made them."""
    stmt = (
        select(Scan, Station.name, User.username)
        .outerjoin(Station, Station.id == Scan.station_id)
        .outerjoin(User, User.id == Scan.user_id)
        .where(Scan.act_id == act_id, Scan.id > after)
        .order_by(Scan.id.desc())
        .limit(limit)
    )
    with db.read() as s:
        return [JournalEntry(scan, station or "", username or "") for scan, station, username in s.execute(stmt)]


def station_scan(db: Database, act_id: int, scan_id: int, station: str) -> receiving.ScanResult | None:
    """The result of the scan `scan_id` if it is of this act and was made at `station` (the banner a screen
    shows again after the redirect of a plain form's scan), else None: an address cannot show one station
    the scans of another, or of another act."""
    stmt = (
        select(Scan)
        .join(Station, Station.id == Scan.station_id)
        .where(Scan.id == scan_id, Scan.act_id == act_id, Station.name == station)
    )
    with db.read() as s:
        row = s.execute(stmt).scalar_one_or_none()
        return None if row is None else receiving.result_of(row)


_NAMES: dict[tuple[str, int], dict[str, str]] = {}  # an act's product names never change once it is imported


def gtin_names(db: Database, act_id: int) -> dict[str, str]:
    """GTIN -> product name of an act, read once per process: the live counters re-render on every scan."""
    key = (db.url, act_id)
    names = _NAMES.get(key)
    if names is None:
        with db.read() as s:
            rows = s.execute(
                select(ActCode.gtin, ActCode.name)
                .where(ActCode.act_id == act_id, ActCode.name.is_not(None))
                .group_by(ActCode.gtin, ActCode.name)
            ).all()
        names = {gtin: name for gtin, name in rows if gtin and name}
        if len(_NAMES) > 256:
            _NAMES.clear()
        _NAMES[key] = names
    return names


def tree_branch(db: Database, act_id: int, parent_id: int | None) -> tree.Branch:
    """One level of the act's aggregate tree (the top when `parent_id` is None)."""
    with db.read() as s:
        return tree.children(s, act_id, parent_id)


@dataclass(frozen=True)
class Review:
    lines: list[review.Line]
    summary: receiving.Summary


def review_page(db: Database, act: Act, lang: str) -> Review:
    """The discrepancy lines of a closed act (worded in `lang`) and its counters."""
    with db.read() as s:
        return Review(review.lines(s, act, lang), receiving.summary(s, act))


@dataclass(frozen=True)
class AuditTrail:
    entries: list[AuditEntry]
    chain: audit.ChainCheck  # the whole log's hash chain, checked now


def audit_trail(db: Database, act_id: int) -> AuditTrail:
    with db.read() as s:
        return AuditTrail(audit.for_act(s, act_id), audit.verify(s))


# --- stock and outgoing acts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stock:
    totals: stock.StockTotals
    aggregates: list[stock.AggregateRow]
    found: stock.CodeView | None  # what a search found; None when nothing was asked or found


def stock_page(db: Database, query: str = "", gs_substitutes: Sequence[str] | None = None) -> Stock:
    """The stock by level and product, its pallets and boxes, and the code `query` names (if any)."""
    with db.read() as s:
        found = stock.find(s, query, gs_substitutes) if query else None
        return Stock(stock.totals(s), stock.aggregates(s), found)


def stock_found(db: Database, query: str, gs_substitutes: Sequence[str] | None = None) -> stock.CodeView | None:
    """Only the search: a code of any level, with its place and history."""
    with db.read() as s:
        return stock.find(s, query, gs_substitutes) if query else None


@dataclass(frozen=True)
class Outgoing:
    act: Act
    summary: shipping.Summary
    prices: dict[tuple[str, str], int]
    roots: list[tuple[str, str]]  # (code, level) scanned onto a draft; empty once it is signed
    removing_next: bool = False  # the station scanned REMOVE_NEXT: its next code comes off the act


def outgoing(db: Database, act: Act, station: str | None = None) -> Outgoing:
    """An outgoing act's totals, prices, scanned codes and documents, as `station`'s screen shows them."""
    with db.read() as s:
        summary = shipping.summary(s, act)
        draft = act.status == ActStatus.DRAFT
        roots = shipping.roots(s, act.id) if draft else []
        removing = draft and shipping.removing_next(s, act.id, station)
        return Outgoing(act, summary, shipping.prices(s, act.id), roots, removing)


def drafts(db: Database) -> list[Act]:
    """The outgoing acts being built, newest first."""
    with db.read() as s:
        return shipping.drafts(s)
