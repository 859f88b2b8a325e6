"""Devices that post scans: handheld terminals with an API token, bound to a station and a person.

A token's scope: it scans, into its station's acts only; it imports acts and reads act summaries only when
issued with those rights (`Scope`). An act is its station's when it is received there
(`receiving.stations`: the station of its latest receiving session) or nobody has scanned it yet
(a handheld's first scan then puts it at the handheld's station). So a token bound to dock-2 neither scans
into nor reads an act being received at dock-1. A token expires (`DEFAULT_LIFE` unless told; never
"forever"), is revoked at once by `revoke_token`, and re-issuing one for the same name replaces the old.
Every issue and revocation is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.messages import N_, Phrasebook, WarehouseError
from warehouse.models import Act, Scanner, Station, User
from warehouse.services import audit, receiving
from warehouse.services.receiving.stations import receiving_stations
from warehouse.services.users import ensure_station
from warehouse.timeutil import utcnow
from warehouse.vocab import Scope

DEFAULT_LIFE = timedelta(days=365)
MAX_LIFE = timedelta(days=3650)
UNAUTHENTICATED = frozenset({"unauthorized", "token_expired", "token_revoked"})
"""The refusals that mean "who are you?" (401); the others mean "not this" (403)."""


class DeviceError(WarehouseError):
    """A device token or what it asked for was refused; nothing was done."""

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "devices",
        {
            "unauthorized": N_("A valid device token is required (Authorization: Bearer …)."),
            "token_expired": N_("This device's token expired on {date}: ask an administrator for a new token."),
            "token_revoked": N_("This device's token was revoked on {date}: ask an administrator for a new token."),
            "may_not_import": N_(
                "This device may not import acts: its token was issued without that right. Nothing was imported."
            ),
            "may_not_read": N_("This device may not read act summaries: its token was issued without that right."),
            "another_station": N_(
                "Act {act} is being received at station {other}: this device belongs to station {station} "
                "and may scan only into acts received there. Nothing was recorded."
            ),
            "read_another_station": N_(
                "Act {act} is received at station {other}: this device belongs to station {station} and may "
                "read only the acts received there."
            ),
            "bad_life": N_("A token lasts 1 to {max} days."),
            "no_device": N_("No handheld terminal is named {name}."),
        },
    )

    @property
    def status(self) -> int:
        """The HTTP status the API answers with."""
        return 401 if self.reason in UNAUTHENTICATED else 403


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
    scopes: frozenset[Scope] = frozenset({Scope.SCAN})

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


def _scopes(scanner: Scanner) -> frozenset[Scope]:
    return frozenset(
        {Scope.SCAN} | ({Scope.IMPORT} if scanner.may_import else set()) | ({Scope.READ} if scanner.may_read else set())
    )


def _api_device(s: Session, name: str) -> Scanner | None:
    return s.execute(select(Scanner).where(Scanner.device_key == f"api:{name}")).scalar()


def issue_token(
    s: Session,
    name: str,
    station: str,
    user: User | None,
    by: User | None = None,
    *,
    may_import: bool = False,
    may_read: bool = False,
    expires_in: timedelta = DEFAULT_LIFE,
    actor: str | None = None,
) -> str:
    """Create (or re-key) an API device; the token is shown once and only its digest is kept. A re-issued
    token replaces the device's previous one (refused from now on) and lifts a revocation. Raises
    DeviceError("bad_life") for a life under a day or over `MAX_LIFE`."""
    if not timedelta(days=1) <= expires_in <= MAX_LIFE:
        raise DeviceError("bad_life", max=MAX_LIFE.days)
    token = secrets.token_urlsafe(32)
    scanner = _api_device(s, name)
    if scanner is None:
        scanner = Scanner(device_key=f"api:{name}", kind="api", name=name)
        s.add(scanner)
    scanner.station_id = ensure_station(s, station).id
    scanner.user_id = user.id if user else None
    scanner.token_digest = token_digest(token)
    scanner.may_import = may_import
    scanner.may_read = may_read
    scanner.token_expires_at = utcnow() + expires_in
    scanner.token_revoked_at = None
    s.flush()
    audit.record(
        s,
        "device.token_issued",
        user=by,
        actor=actor or (None if by else "cli"),
        details={
            "device": name,
            "station": station,
            "user": user.username if user else None,
            "scope": [v.value for v in Scope if v in _scopes(scanner)],
            "expires_at": scanner.token_expires_at.isoformat(),
        },
    )
    return token


def revoke_token(s: Session, name: str, by: User | None = None, *, actor: str | None = None) -> bool:
    """Revoke the device's token: refused from its next request on. False when it was revoked already
    (nothing changes, nothing is audited). Raises DeviceError("no_device")."""
    scanner = _api_device(s, name)
    if scanner is None:
        raise DeviceError("no_device", name=name)
    if scanner.token_revoked_at is not None:
        return False
    scanner.token_revoked_at = utcnow()
    audit.record(s, "device.token_revoked", user=by, actor=actor or (None if by else "cli"), details={"device": name})
    return True


def device_for_token(s: Session, token: str) -> Device:
    """The device a token belongs to, its last-seen time updated. Raises DeviceError: "unauthorized" (also
    for a token replaced by a re-issue), "token_revoked", "token_expired"."""
    scanner = s.execute(select(Scanner).where(Scanner.token_digest == token_digest(token))).scalar() if token else None
    if scanner is None:
        raise DeviceError("unauthorized")
    now = utcnow()
    if scanner.token_revoked_at is not None:
        raise DeviceError("token_revoked", date=_day(scanner.token_revoked_at))
    if scanner.token_expires_at is None or scanner.token_expires_at <= now:  # no expiry: refused, not forever
        raise DeviceError("token_expired", date=_day(scanner.token_expires_at or now))
    scanner.last_seen_at = now
    station = None
    if scanner.station_id is not None:
        st = s.get(Station, scanner.station_id)
        station = st.name if st else None
    return Device(scanner.id, scanner.name, station, scanner.user_id, scanner.token_digest or "", _scopes(scanner))


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def authorize(db: Database, token: str, scope: Scope, act: str | int | None = None) -> Device:
    """The device a bearer token belongs to, if it may do `scope` (on `act`, an id or number, when given).

    Raises DeviceError: 401 reasons for a token that is unknown, replaced, revoked or expired; 403 ones for
    a right the token lacks, or another station's act. An act that does not exist is not refused here (the
    service asked next says "no such act")."""
    with db.write() as s:  # the last-seen time is kept even when what it asked for is refused
        device = device_for_token(s, token)
    if scope == Scope.IMPORT and Scope.IMPORT not in device.scopes:
        raise DeviceError("may_not_import")
    if scope == Scope.READ and Scope.READ not in device.scopes:
        raise DeviceError("may_not_read")
    if act is not None and scope in (Scope.SCAN, Scope.READ):
        with db.read() as s:
            try:
                found: Act | None = receiving.find_act(s, act)
            except receiving.ReceivingError:
                found = None
            at = receiving_stations(s, found.id) if found is not None else set()
        if found is not None and at and device.station not in at:
            reason = "another_station" if scope == Scope.SCAN else "read_another_station"
            raise DeviceError(reason, act=found.number, other=", ".join(sorted(at)), station=device.station or "-")
    return device


@dataclass(frozen=True)
class DeviceToken:
    """A handheld's token as `warehouse devices list` shows it (never the token itself)."""

    name: str
    station: str | None
    person: str | None  # full name, else username
    scope: tuple[Scope, ...]
    expires_at: datetime | None
    last_seen_at: datetime | None
    revoked_at: datetime | None


def list_tokens(db: Database) -> list[DeviceToken]:
    """Every handheld with a token, by name."""
    with db.read() as s:
        rows = s.execute(
            select(Scanner, Station.name, User.full_name, User.username)
            .outerjoin(Station, Station.id == Scanner.station_id)
            .outerjoin(User, User.id == Scanner.user_id)
            .where(Scanner.kind == "api", Scanner.token_digest.is_not(None))
            .order_by(Scanner.name)
        ).all()
        return [
            DeviceToken(
                scanner.name,
                station,
                full_name or username,
                tuple(v for v in Scope if v in _scopes(scanner)),
                scanner.token_expires_at,
                scanner.last_seen_at,
                scanner.token_revoked_at,
            )
            for scanner, station, full_name, username in rows
        ]


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
