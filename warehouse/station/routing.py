"""Where a scanner's scan goes: scanner -> station -> the act open at that station.

A scanner is bound to a station (and maybe a person) in the database (`warehouse.station.bindings`); the web layer
says which act is open at each station (`open_act` when a receiving screen opens, `close_act` when it is
left or the act is closed). A scan that cannot be routed — its scanner is bound to no station, or no act
is open there — is never credited to a guess: it waits in the tray ("whose scanner is this?"), where the
screens can show it. Pure and thread-safe: the sink's writer thread and web requests all call it.

Registration: the scanners page shows a registration code (`issue_registration`); an unbound scanner that
scans it is bound to the code's station (and person). The code is `#WHREG:` and a one-time token: `#` is
outside GS1's character set 82, so no marking code, aggregate code or product barcode ever reads as one,
and the code parser refuses it should it reach the journal some other way. The token lives here, in the
memory of the process that reads the scanners, for `ttl` seconds; the code does not carry the station or
the person, so a photo of an old code is worth nothing.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from hardware.scan import Scan

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


@dataclass(frozen=True)
class Binding:
    """The station a scanner works at and, when the scanner is personal, whose scans they are."""

    station: str
    user_id: int | None = None
    scanner_id: int | None = None  # the `scanners` row, kept on every journal row
    username: str | None = None  # for people reading `scanners list`


@dataclass(frozen=True)
class Route:
    """Where one scan goes."""

    act_id: int
    station: str
    user_id: int | None
    scanner_id: int | None


class TrayReason(StrEnum):
    UNBOUND = "unbound"  # the scanner is bound to no station
    NO_ACT = "no_act"  # its station has no act open for receiving
    REFUSED = "refused"  # the receiving service refused it (the act was closed meanwhile, ...)
    ERROR = "error"  # the database failed even after retries
    REGISTRATION = "registration"  # a registration code that bound nothing (expired, used, scanner bound)


@dataclass(frozen=True)
class TrayItem:
    scan: Scan
    reason: TrayReason
    station: str | None
    detail: str
    at: datetime


@dataclass(frozen=True)
class _OpenAct:
    act_id: int
    user_id: int | None


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


class StationRouter:
    """Scanner bindings, the act open at each station, and the tray of scans that could not be routed.

    >>> router = StationRouter()
    >>> router.set_bindings({"serial:/dev/ttyACM0": Binding("dock-1")})
    >>> router.open_act("dock-1", 42, user_id=7)
    >>> router.route("serial:/dev/ttyACM0")
    Route(act_id=42, station='dock-1', user_id=7, scanner_id=None)

    `default_station` routes scanners that have no binding (a one-station PC); None sends them to the tray.
    """

    def __init__(
        self,
        *,
        default_station: str | None = None,
        tray_size: int = 500,
        on_tray: Callable[[TrayItem], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._bindings: dict[str, Binding] = {}
        self._acts: dict[str, _OpenAct] = {}
        self._default = default_station
        # Bounded: a scanner left pointing at nothing must not fill the memory of a station that runs for
        # months; the journal is the record, the tray only a prompt to the operator.
        self._tray: deque[TrayItem] = deque(maxlen=tray_size)
        self._on_tray = on_tray
        # Newest last; kept a while after use so the page that showed a code can say what became of it.
        self._registrations: OrderedDict[str, Registration] = OrderedDict()

    # -- bindings --------------------------------------------------------------------------------

    def set_bindings(self, bindings: Mapping[str, Binding]) -> None:
        """Replace every binding (as loaded from the database)."""
        with self._lock:
            self._bindings = dict(bindings)

    def bind(self, device: str, binding: Binding) -> None:
        with self._lock:
            self._bindings[device] = binding

    def binding_for(self, device: str) -> Binding | None:
        """The device's binding, or the default station's when it has none; None when neither."""
        with self._lock:
            binding = self._bindings.get(device)
        if binding is None and self._default is not None:
            return Binding(self._default)
        return binding

    def is_bound(self, device: str) -> bool:
        """Whether the device has a binding of its own (the default station does not count)."""
        with self._lock:
            return device in self._bindings

    # -- acts open at stations ------------------------------------------------------------------

    def open_act(self, station: str, act_id: int, *, user_id: int | None = None) -> None:
        """Scans of the station's scanners go to `act_id` from now on; `user_id` is whom they are
        attributed to when the scanner itself is not personal (the person at the receiving screen)."""
        with self._lock:
            self._acts[station] = _OpenAct(act_id, user_id)

    def close_act(self, station: str, act_id: int | None = None) -> None:
        """The station no longer receives (into `act_id`, when given: a stale close of an act the station
        has since left does not close the new one)."""
        with self._lock:
            current = self._acts.get(station)
            if current is not None and (act_id is None or current.act_id == act_id):
                del self._acts[station]

    def act_for(self, station: str) -> int | None:
        with self._lock:
            current = self._acts.get(station)
        return None if current is None else current.act_id

    # -- routing ---------------------------------------------------------------------------------

    def route(self, device: str) -> Route | TrayReason:
        """Where a scan from `device` goes now, or why it cannot go anywhere."""
        binding = self.binding_for(device)
        if binding is None:
            return TrayReason.UNBOUND
        with self._lock:
            current = self._acts.get(binding.station)
        if current is None:
            return TrayReason.NO_ACT
        user = binding.user_id if binding.user_id is not None else current.user_id
        return Route(current.act_id, binding.station, user, binding.scanner_id)

    # -- registration codes ----------------------------------------------------------------------

    def issue_registration(
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
            self._registrations[registration.id] = registration
        return registration

    def registration(self, registration_id: str) -> Registration | None:
        with self._lock:
            return self._registrations.get(registration_id)

    def redeem_registration(self, token: str, device: str, *, now: datetime | None = None) -> Registration:
        """Take the registration with `token` for `device`, which must have no binding of its own unless
        the registration allows a rebind.

        Returns it, taken (the caller writes the binding, then calls `complete_registration`). Raises
        RegistrationError; a bound scanner turned away leaves the code usable by the right one.
        """
        now = now or datetime.now(UTC)
        with self._lock:
            found = next((r for r in self._registrations.values() if secrets.compare_digest(r.token, token)), None)
            if found is None:
                raise RegistrationError("unknown")
            if found.device is not None:
                raise RegistrationError("used")
            if found.state_at(now) is RegistrationState.EXPIRED:
                raise RegistrationError("expired")
            bound = self._bindings.get(device)
            if bound is not None and not found.rebind:
                self._registrations[found.id] = replace(found, turned_away=device, turned_away_station=bound.station)
                raise RegistrationError("bound", bound.station)
            # Taken here, under the lock: of two scanners scanning the same code only one has it.
            taken = replace(found, device=device, previous_station=bound.station if bound else None)
            self._registrations[found.id] = taken
            return taken

    def complete_registration(self, registration_id: str, binding: Binding | None, *, error: str = "") -> None:
        """Record the outcome of a taken registration: the scanner's binding, routed from now on, or why
        it could not be written (`binding` None)."""
        with self._lock:
            current = self._registrations.get(registration_id)
            if current is None or current.device is None:
                return
            if binding is not None:
                self._bindings[current.device] = binding
                self._registrations[registration_id] = replace(current, state=RegistrationState.BOUND)
            else:
                self._registrations[registration_id] = replace(current, state=RegistrationState.FAILED, error=error)

    def _forget_old(self, now: datetime) -> None:
        keep_after = now - timedelta(minutes=30)
        for key in [k for k, r in self._registrations.items() if r.expires_at < keep_after]:
            del self._registrations[key]
        while len(self._registrations) >= 100:  # a page reloaded in a loop must not grow the memory
            self._registrations.popitem(last=False)

    # -- the tray --------------------------------------------------------------------------------

    def to_tray(self, scan: Scan, reason: TrayReason, *, station: str | None = None, detail: str = "") -> TrayItem:
        item = TrayItem(scan, reason, station, detail, datetime.now(UTC))
        with self._lock:
            self._tray.append(item)
        if self._on_tray is not None:
            self._on_tray(item)
        return item

    def tray(self) -> list[TrayItem]:
        """Scans waiting for a person, oldest first."""
        with self._lock:
            return list(self._tray)

    def clear_tray(self, device: str | None = None) -> list[TrayItem]:
        """Take the tray's scans (of one device, or all) out of it and return them."""
        with self._lock:
            taken = [i for i in self._tray if device is None or i.scan.device == device]
            kept = [i for i in self._tray if device is not None and i.scan.device != device]
            self._tray.clear()
            self._tray.extend(kept)
        return taken
