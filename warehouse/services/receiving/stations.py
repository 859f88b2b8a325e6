"""Which stations an act is received at: its open session's station and every station that scanned into it.

A big truck is unloaded at several docks at once (issue 19), so an act may be received at several stations,
each scan attributed to its station. A session is at the station of the scan that opened it; one opened
without a station (a command-line scan without --station) goes to the first station that scans into it;
"feed this act" at a station (the act page's button, or its route code scanned there) makes that station the
session's. Every station that has journaled a scan into the open session receives the act too: a station
joins by working on it with its own scanners or browser field. A handheld terminal scans into, and reads,
only the acts received at its own station, or those nobody has scanned yet (`warehouse.services.devices`;
the journal holds the same rule under the act's lock); it never joins a station to an act by itself.
Hardware scanners are still routed only by an explicit action (`warehouse.station.routing`).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import ReceivingSession, Scan, Station
from warehouse.services.users import ensure_station

_STATION_OF_ACT = (
    select(Station.name)
    .select_from(ReceivingSession)
    .outerjoin(Station, Station.id == ReceivingSession.station_id)
    .where(ReceivingSession.act_id == bindparam("act_id"))
    .order_by(ReceivingSession.id.desc())
    .limit(1)
)


def receiving_station(s: Session, act_id: int) -> str | None:
    """The station an act is being received at, or was last: its latest receiving session's. None when nobody
    scanned it yet, or its session has no station."""
    name: str | None = s.execute(_STATION_OF_ACT, {"act_id": act_id}).scalar()
    return name


_SCANNED_AT = (
    select(Station.name)
    .select_from(Scan)
    .join(Station, Station.id == Scan.station_id)
    .where(Scan.act_id == bindparam("act_id"), Scan.session_id == bindparam("session_id"))
    .distinct()
)
_LATEST_SESSION = (
    select(ReceivingSession.id, ReceivingSession.closed_at)
    .where(ReceivingSession.act_id == bindparam("act_id"))
    .order_by(ReceivingSession.id.desc())
    .limit(1)
)


def receiving_stations(s: Session, act_id: int) -> set[str]:
    """Every station the act is received at (or was last): its latest session's station and those that
    scanned into that session. Empty when nobody scanned it yet."""
    at = receiving_station(s, act_id)
    latest = s.execute(_LATEST_SESSION, {"act_id": act_id}).first()
    names = set(s.execute(_SCANNED_AT, {"act_id": act_id, "session_id": latest.id}).scalars()) if latest else set()
    return names | ({at} if at else set())


def has_scanned(s: Session, act_id: int, session_id: int, station_id: int) -> bool:
    """Whether the station journaled a scan into this session of the act (it receives the act too)."""
    found = s.execute(
        select(Scan.id)
        .where(Scan.act_id == act_id, Scan.session_id == session_id, Scan.station_id == station_id)
        .limit(1)
    ).first()
    return found is not None


def receive_at(db: Database, act_id: int, station: str) -> bool:
    """The act is received at `station` from now on ("feed this act" there): its open session moves there.
    False when it has no open session (its first scan opens one where it is scanned)."""
    with db.write() as s:
        moved = s.execute(
            update(ReceivingSession)
            .where(ReceivingSession.act_id == act_id, ReceivingSession.closed_at.is_(None))
            .values(station_id=ensure_station(s, station).id)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
