"""Scanner bindings kept in the database: a `scanners` row per physical scanner, keyed by its device key
(the /dev/input/by-id link, or `serial:<port>`), pointing at a station and maybe a person.

The readers' router keeps a copy in memory (`StationRouter.set_bindings`); `load_bindings` refreshes it.
"""

from __future__ import annotations

from sqlalchemy import select

from warehouse.db import Database
from warehouse.models import Scanner, Station, User
from warehouse.services import audit
from warehouse.services.users import ensure_station
from warehouse.station.routing import Binding

READER_KINDS = ("evdev", "serial")
"""Scanners the station reads itself; handheld terminals (kind "api") post through the API instead."""


class BindingError(ValueError):
    """The binding cannot be made as asked; the message says why."""


def load_bindings(db: Database) -> dict[str, Binding]:
    """device key -> binding, for every evdev and serial scanner bound to a station."""
    with db.read() as s:
        rows = s.execute(
            select(Scanner.device_key, Station.name, Scanner.user_id, Scanner.id, User.username)
            .join(Station, Station.id == Scanner.station_id)
            .outerjoin(User, User.id == Scanner.user_id)
            .where(Scanner.kind.in_(READER_KINDS))
        ).all()
    return {
        key: Binding(station, user_id, scanner_id, username) for key, station, user_id, scanner_id, username in rows
    }


def bind_scanner(
    db: Database, device_key: str, station: str, *, username: str | None = None, name: str = "", actor: str = "cli"
) -> Binding:
    """Bind (or re-bind) the scanner `device_key` to `station` and, when given, to a person.

    The kind follows the key: `serial:…` is a serial scanner, anything else an evdev device. Raises
    BindingError for an unknown user or an API device's key.
    """
    if device_key.startswith("api:"):
        raise BindingError("handheld terminals are bound with `warehouse devices token`")
    kind = "serial" if device_key.startswith("serial:") else "evdev"
    with db.write() as s:
        user = None
        if username:
            user = s.execute(select(User).where(User.username == username)).scalar()
            if user is None:
                raise BindingError(f"no such user: {username}")
        scanner = s.execute(select(Scanner).where(Scanner.device_key == device_key)).scalar()
        if scanner is None:
            scanner = Scanner(device_key=device_key, kind=kind, name=name or device_key.rsplit("/", 1)[-1])
            s.add(scanner)
        elif name:
            scanner.name = name
        scanner.station_id = ensure_station(s, station).id
        scanner.user_id = user.id if user else None
        s.flush()
        audit.record(
            s, "scanner.bound", actor=actor, details={"device": device_key, "station": station, "user": username}
        )
        return Binding(station, scanner.user_id, scanner.id, username)
