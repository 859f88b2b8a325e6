"""Registration codes: a scanner binds itself to a station by scanning a code shown on the scanners page.

The page shows a registration code (`Registrations.issue`); an unbound scanner that scans it is bound to
the code's station (and person). The code is `#WHREG:` and a one-time token: `#` is outside GS1's
character set 82, so no marking code, aggregate code or product barcode ever reads as one, and the code
parser refuses it should it reach the journal some other way. The token lives in the memory of the
process that reads the scanners, for `ttl` seconds; the code does not carry the station or the person,
so a photo of an old code is worth nothing.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

REGISTRATION_PREFIX = "#WHREG:"
REGISTRATION_TTL = 300.0
"""Seconds a registration code stays valid: long enough to find the scanner and read the screen."""
_TOKEN_BYTES = 15  # 120 bits: 24 characters of base32, which survives a scanner set to change letter case
_REGISTRATION = re.compile(
    r"(?:\][A-Za-z][0-9])?"  # an AIM symbology identifier (]d1), when the scanner is set to send one
    + re.escape(REGISTRATION_PREFIX)
    + r"([A-Z2-7]{24})",
    re.IGNORECASE,
)


def registration_token(text: str) -> str | None:
    """The token of a registration code (upper-cased), or None when `text` is not one.

    >>> registration_token("#WHREG:ABCDEFGHIJKLMNOPQRSTUVWX")
    'ABCDEFGHIJKLMNOPQRSTUVWX'
    >>> registration_token("]d1#whreg:abcdefghijklmnopqrstuvwx")  # AIM identifier sent, letter case changed
    'ABCDEFGHIJKLMNOPQRSTUVWX'
    >>> registration_token("0104600439931256213Vb'JQ&") is None  # a marking code never is one
    True
    """
    match = _REGISTRATION.fullmatch(text.strip())
    return match.group(1).upper() if match else None


class RegistrationState(StrEnum):
    WAITING = "waiting"  # shown, not scanned yet
    BOUND = "bound"  # a scanner scanned it and was bound
    FAILED = "failed"  # a scanner scanned it, but the binding could not be written
    EXPIRED = "expired"  # nobody scanned it in time


class RegistrationError(Exception):
    """A registration code was scanned but binds nothing. `reason`: "unknown" (not issued by this process,
    or forgotten: codes live in memory, a restart forgets them), "expired", "used", or "bound" (the scanner
    has a binding already and the code does not allow a move), with `station` the station it is bound to."""

    def __init__(self, reason: str, station: str | None = None) -> None:
        super().__init__(reason if station is None else f"{reason} to {station}")
        self.reason = reason
        self.station = station


@dataclass(frozen=True)
class Registration:
    """A registration code on someone's screen, and what became of it.

    `id` names it in URLs (the page asks whether it was scanned yet); only `code` carries the token.
    """

    id: str
    token: str
    station: str
    expires_at: datetime
    issued_by: str  # who showed the code: the audit trail's actor
    issued_by_id: int | None = None
    user_id: int | None = None  # the person a scanner bound by it belongs to; None: the station's scanner
    username: str | None = None
    name: str = ""  # a label people recognise the scanner by ("HH-1950 #3")
    rebind: bool = False  # a scanner bound elsewhere may take it and move here
    state: RegistrationState = RegistrationState.WAITING
    device: str | None = None  # the scanner that took it
    error: str = ""  # why the binding failed (FAILED)
    turned_away: str | None = None  # the last bound scanner that scanned it, left as it was
    turned_away_station: str | None = None
    previous_station: str | None = None  # where the scanner that took it was bound before (rebind)

    @property
    def code(self) -> str:
        return REGISTRATION_PREFIX + self.token

    def state_at(self, now: datetime) -> RegistrationState:
        if self.state is RegistrationState.WAITING and self.device is None and now >= self.expires_at:
            return RegistrationState.EXPIRED
        return self.state

    def seconds_left(self, now: datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds()))


class Registrations:
    """The codes this process issued, newest last, kept a while after use so the page that showed a code
    can say what became of it. Thread-safe; the router keeps the bindings they make."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Registration] = OrderedDict()

    def issue(
        self,
        station: str,
        *,
        issued_by: str,
        issued_by_id: int | None = None,
        user_id: int | None = None,
        username: str | None = None,
        name: str = "",
        rebind: bool = False,
        ttl: float = REGISTRATION_TTL,
        now: datetime | None = None,
    ) -> Registration:
        """A new one-time registration code for `station` (and a person, when given), valid `ttl` seconds.
        With `rebind`, a scanner bound elsewhere may take it too; otherwise only an unbound one."""
        now = now or datetime.now(UTC)
        token = base64.b32encode(secrets.token_bytes(_TOKEN_BYTES)).decode("ascii")
        registration = Registration(
            id=secrets.token_urlsafe(12),
            token=token,
            station=station,
            expires_at=now + timedelta(seconds=ttl),
            issued_by=issued_by,
            issued_by_id=issued_by_id,
            user_id=user_id,
            username=username,
            name=name,
            rebind=rebind,
        )
        with self._lock:
            self._forget_old(now)
            self._items[registration.id] = registration
        return registration

    def get(self, registration_id: str) -> Registration | None:
        with self._lock:
            return self._items.get(registration_id)

    def redeem(self, token: str, device: str, bound_to: str | None, *, now: datetime | None = None) -> Registration:
        """Take the registration with `token` for `device`, bound to the station `bound_to` (None: it has
        no binding of its own), which must be None unless the registration allows a rebind.

        Returns it, taken (the caller writes the binding, then calls `complete`). Raises
        RegistrationError; a bound scanner turned away leaves the code usable by the right one.
        """
        now = now or datetime.now(UTC)
        with self._lock:
            found = next((r for r in self._items.values() if secrets.compare_digest(r.token, token)), None)
            if found is None:
                raise RegistrationError("unknown")
            if found.device is not None:
                raise RegistrationError("used")
            if found.state_at(now) is RegistrationState.EXPIRED:
                raise RegistrationError("expired")
            if bound_to is not None and not found.rebind:
                self._items[found.id] = replace(found, turned_away=device, turned_away_station=bound_to)
                raise RegistrationError("bound", bound_to)
            # Taken here, under the lock: of two scanners scanning the same code only one has it.
            taken = replace(found, device=device, previous_station=bound_to)
            self._items[found.id] = taken
            return taken

    def complete(self, registration_id: str, *, bound: bool, error: str = "") -> str | None:
        """Record the outcome of a taken registration: bound, or why the binding could not be written.
        Returns the device that took it; None when the registration is unknown or was not taken."""
        with self._lock:
            current = self._items.get(registration_id)
            if current is None or current.device is None:
                return None
            if bound:
                self._items[registration_id] = replace(current, state=RegistrationState.BOUND)
            else:
                self._items[registration_id] = replace(current, state=RegistrationState.FAILED, error=error)
            return current.device

    def _forget_old(self, now: datetime) -> None:
        keep_after = now - timedelta(minutes=30)
        for key in [k for k, r in self._items.items() if r.expires_at < keep_after]:
            del self._items[key]
        while len(self._items) >= 100:  # a page reloaded in a loop must not grow the memory
            self._items.popitem(last=False)
