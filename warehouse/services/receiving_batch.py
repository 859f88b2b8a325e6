"""Several scans of one act in one transaction: group commit for the station's scanner readers.

`record_scans` is `receiving.record_scan` for a list: each scan still gets its own journal row, its own
classification and crediting (or its command: undo, mode, open next, end receiving), in arrival order and
seeing the scans before it (a code scanned twice in one batch is matched, then a duplicate), and its own
event for the screens. What is shared is the transaction: one BEGIN IMMEDIATE, one act check, one commit —
one fsync for the batch instead of one per scan, which is what four scanners sending at once wait on.

It reuses receiving's internals (`_apply`, `_open_session`, `_tally`, ...) rather than a copy of the
matching rules: there is one set of rules. The per-scan body below mirrors `receiving._record`; a change
there must be made here too (tests/hardware/test_group_commit.py compares the two on the same scans).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse import codes
from warehouse.db import Database
from warehouse.events import Event, broker
from warehouse.matching import Reason, ScanClass, command_of
from warehouse.models import Act, Scan
from warehouse.services.receiving import (
    OPEN_STATUSES,
    ReceivingError,
    ScanInput,
    ScanResult,
    _announce,
    _journal,
    _lock_act,
    _open_session,
    _result_of,
    _tally,
    close_act,
)
from warehouse.services.users import ensure_station
from warehouse.vocab import Direction


def record_scans(
    db: Database, act_id: int, inputs: Sequence[ScanInput], *, gs_substitutes: Sequence[str] | None = None
) -> list[ScanResult]:
    """Journal and apply `inputs`, in order, to an incoming act in one transaction; one result per input
    recorded, in order.

    The results may cover only the first inputs: a command that ends receiving (scanned CLOSE) is the last
    scan the batch records, and the act is closed after the commit, as `record_scan` does; the inputs after
    it are left to the caller, and the act refuses them. All or nothing otherwise: raises ReceivingError
    ("no_act", "act_not_open") and writes nothing when the act refuses scans; any other error rolls the
    whole batch back (the caller may then record the scans one by one to find the culprit). A scan whose
    client scan id is already journaled — before or earlier in the batch — returns the first result with
    `replayed=True`, as `record_scan` does. Screens learn of the scans after the commit.
    """
    if not inputs:
        return []
    substitutes = gs_substitutes or codes.DEFAULT_GS_SUBSTITUTES
    # Pure work first, as record_scan does: on SQLite every station waits while one holds the write lock.
    commands = [command_of(i.raw) for i in inputs]
    parsed_all = [
        None if c else codes.parse(i.raw, gs_substitutes=substitutes) for i, c in zip(inputs, commands, strict=True)
    ]
    closing = False
    with db.write() as s:
        _lock_act(s, act_id)
        known = _known(s, [i.client_scan_id for i in inputs if i.client_scan_id])
        act = s.get(Act, act_id)
        if act is None or act.direction != Direction.INCOMING:
            raise ReceivingError("no_act")
        if act.status not in OPEN_STATUSES:
            raise ReceivingError("act_not_open")
        session = _open_session(s, act, inputs[0])
        stations: dict[str, int] = {}
        classes: Counter[ScanClass] = Counter()
        results: list[ScanResult] = []
        for scan, command, parsed in zip(inputs, commands, parsed_all, strict=True):
            previous = known.get(scan.client_scan_id) if scan.client_scan_id else None
            if previous is not None:
                results.append(_result_of(previous, replayed=True))
                continue
            station_id = None
            if scan.station:
                station_id = stations.get(scan.station)
                if station_id is None:
                    station_id = stations[scan.station] = ensure_station(s, scan.station).id
            row, outcome = _journal(s, act, session.id, scan, station_id, parsed, command)
            classes[outcome.scan_class] += 1
            _announce(s, Event(act.id, "scan", row.id))
            if scan.client_scan_id:
                known[scan.client_scan_id] = row
            results.append(_result_of(row))
            if outcome.reason == Reason.CLOSING:
                closing = True  # receiving ends with this scan: nothing after it may count
                break
        # The tallies are counters nothing in the batch reads: one upsert per class, in a fixed order.
        for scan_class, n in sorted(classes.items()):
            _tally(s, act.id, scan_class, n)
    if db.is_sqlite:
        for result in results:
            if not result.replayed:
                broker.publish(Event(act_id, "scan", result.scan_id))
    if closing:
        last = inputs[len(results) - 1]
        close_act(db, act_id, actor=f"station:{last.station or '-'}")
    return results


def _known(s: Session, client_scan_ids: list[str]) -> dict[str, Scan]:
    if not client_scan_ids:
        return {}
    rows = s.execute(select(Scan).where(Scan.client_scan_id.in_(client_scan_ids))).scalars()
    return {row.client_scan_id: row for row in rows if row.client_scan_id is not None}
