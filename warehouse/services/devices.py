"""Devices that post scans: handheld terminals with an API token, bound to a station and a person."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.models import Scanner, Station, User
from warehouse.services import audit
from warehouse.services.users import ensure_station
from warehouse.timeutil import utcnow


def token_digest(token: str) -> str:
    # Tokens are 256-bit random: a plain digest is enough, and it allows lookup by value.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Device:
    scanner_id: int
    name: str
    station: str | None
    user_id: int | None
    key_space: str = ""  # the digest of the token it authenticated with: its scan ids' key space

    def scan_key(self, act_id: int, scan_id: str) -> str:
        """The journal's client scan id for this device's `scan_id` on an act (see `scan_key`)."""
        return scan_key(self.key_space, act_id, scan_id)


def scan_key(key_space: str, act_id: int, scan_id: str) -> str:
    """The idempotency key of a terminal's `scan_id`: scoped to the token (a re-issued token starts afresh,
    so a re-keyed or replaced terminal whose counter starts again at 1 counts its scans) and to the act
    (a counter restarting for each act is the terminal's own business).

    A digest, so that it has one length whatever the terminal sends (the column is 80 characters) and tells
    nothing of the token.

    >>> scan_key("ab" * 32, 7, "41")
    'api:acc7d93f37b18aef042f06dd7f104288ad3c0133c548f756'
    """
    digest = hashlib.sha256(f"{key_space}\n{act_id}\n{scan_id}".encode()).hexdigest()
    return f"api:{digest[:48]}"


def issue_token(s: Session, name: str, station: str, user: User | None, by: User | None = None) -> str:
    """Create (or re-key) an API device; the token is shown once and only its digest is kept."""
    token = secrets.token_urlsafe(32)
    key = f"api:{name}"
    scanner = s.execute(select(Scanner).where(Scanner.device_key == key)).scalar()
    if scanner is None:
        scanner = Scanner(device_key=key, kind="api", name=name)
        s.add(scanner)
    scanner.station_id = ensure_station(s, station).id
    scanner.user_id = user.id if user else None
    scanner.token_digest = token_digest(token)
    s.flush()
    audit.record(
        s,
        "device.token_issued",
        user=by,
        actor=None if by else "cli",
        details={"device": name, "station": station, "user": user.username if user else None},
    )
    return token


def device_for_token(s: Session, token: str) -> Device | None:
    if not token:
        return None
    scanner = s.execute(select(Scanner).where(Scanner.token_digest == token_digest(token))).scalar()
    if scanner is None:
        return None
    scanner.last_seen_at = utcnow()
    station = None
    if scanner.station_id is not None:
        st = s.get(Station, scanner.station_id)
        station = st.name if st else None
    return Device(scanner.id, scanner.name, station, scanner.user_id, scanner.token_digest or "")


def authenticate(db: Database, token: str) -> Device | None:
    """The device a bearer token belongs to (its last-seen time is updated), None for an unknown token."""
    with db.write() as s:
        return device_for_token(s, token)


@dataclass(frozen=True)
class BoundScanner:
    label: str  # the name people gave it when binding; "" when none
    station: str
    person: str | None  # full name, else username; None when bound to the station only


def bound_scanners(db: Database, kinds: Sequence[str]) -> dict[str, BoundScanner]:
    """device key -> its binding, for every scanner of these kinds bound to a station."""
    with db.read() as s:
        rows = s.execute(
            select(Scanner.device_key, Scanner.name, Station.name, User.full_name, User.username)
            .join(Station, Station.id == Scanner.station_id)
            .outerjoin(User, User.id == Scanner.user_id)
            .where(Scanner.kind.in_(kinds))
        ).all()
    return {
        key: BoundScanner(name or "", station, full_name or username)
        for key, name, station, full_name, username in rows
    }
