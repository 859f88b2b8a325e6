"""Which station an act is received at: the station of its latest receiving session.

A session is at the station of the scan that opened it; one opened without a station (a command-line scan
without --station) goes to the first station that scans into it; "feed this act" at a station (the act
page's button, or its route code scanned there) moves the act's open session to that station. A handheld
terminal scans into, and reads, only the acts of its own station, or those nobody has scanned yet
(`warehouse.services.devices`; the journal holds the same rule under the act's lock).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import ReceivingSession, Station
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
