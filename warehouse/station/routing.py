"""Where a scanner's scan goes: scanner -> station -> the act open at that station.

A scanner is bound to a station (and maybe a person) in the database (`warehouse.station.bindings`); the
station's scanners feed one act at a time (`open_act`), moved only by an explicit action: the act page's
"Scanners of this station feed this act" button (a POST with CSRF; merely loading a page must not divert
the dock's scanners), or a scanner of the station scanning the act's route code (`route_code`, shown on
the act page); `close_act` when the act is closed. A scan that cannot be routed — its scanner is bound to no station,
or no act is open there — is never credited to a guess: it waits in the tray (`warehouse.station.tray`).
A scanner that scans a registration code (`warehouse.station.registration`) is bound by it. Pure and
thread-safe: the sink's writer thread and web requests all call it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hardware.scan import Scan
from warehouse.station.registration import Registration, Registrations
from warehouse.station.tray import Tray, TrayItem, TrayReason

ROUTE_PREFIX = "#WHACT:"
"""A route code: `#WHACT:` and an act id. `#` is outside GS1's character set 82, so no marking code reads as
one (the same reasoning as registration codes). It carries no secret: scanning it needs a scanner of the
station in hand, which is what pressing the act page's button at the station means too."""
_ROUTE = re.compile(r"(?:\][A-Za-z][0-9])?" + re.escape(ROUTE_PREFIX) + r"([0-9]{1,12})", re.IGNORECASE)


def route_code(act_id: int) -> str:
    """The code a station's scanner scans to feed act `act_id`.

    >>> route_code(42)
    '#WHACT:42'
    """
    return f"{ROUTE_PREFIX}{act_id}"


def routed_act(text: str) -> int | None:
    """The act a route code names, or None when `text` is not one.

    >>> routed_act("#WHACT:42"), routed_act("]d1#whact:7"), routed_act("0104600439931256213Vb'JQ&")
    (42, 7, None)
    """
    match = _ROUTE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


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


@dataclass(frozen=True)
class _OpenAct:
    act_id: int
    user_id: int | None


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
        self._tray = Tray(size=tray_size, on_put=on_tray)
        self.registrations = Registrations()

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
        """The act the station's scanners feed, None when none."""
        with self._lock:
            current = self._acts.get(station)
        return None if current is None else current.act_id

    def take_route_code(self, scan: Scan) -> bool:
        """Whether the scan is a route code (`route_code`); if so its scanner's station feeds that act from
        now on, attributed to the scanner's person (None for a station's scanner). A scanner of no station
        moves nothing: its scan waits in the tray. An act that is not open refuses the next scan, which
        closes the route (the sink's rule for any act that stopped receiving)."""
        act_id = routed_act(scan.text) if scan.creditable else None
        if act_id is None:
            return False
        binding = self.binding_for(scan.device)
        if binding is None:
            self.to_tray(scan, TrayReason.UNBOUND)
        else:
            self.open_act(binding.station, act_id, user_id=binding.user_id)
        return True

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

    # -- registration codes (`warehouse.station.registration`) ------------------------------------

    def registration(self, registration_id: str) -> Registration | None:
        return self.registrations.get(registration_id)

    def redeem_registration(self, token: str, device: str, *, now: datetime | None = None) -> Registration:
        """Take the registration with `token` for `device`, which must have no binding of its own unless
        the registration allows a rebind.

        Returns it, taken (the caller writes the binding, then calls `complete_registration`). Raises
        RegistrationError; a bound scanner turned away leaves the code usable by the right one.
        """
        with self._lock:  # the binding looked at is the one in force while the code is taken
            bound = self._bindings.get(device)
            return self.registrations.redeem(token, device, bound.station if bound else None, now=now)

    def complete_registration(self, registration_id: str, binding: Binding | None, *, error: str = "") -> None:
        """Record the outcome of a taken registration: the scanner's binding, routed from now on, or why
        it could not be written (`binding` None)."""
        with self._lock:
            device = self.registrations.complete(registration_id, bound=binding is not None, error=error)
            if device is not None and binding is not None:
                self._bindings[device] = binding

    # -- the tray (`warehouse.station.tray`) -----------------------------------------------------

    def to_tray(self, scan: Scan, reason: TrayReason, *, station: str | None = None, detail: str = "") -> TrayItem:
        return self._tray.put(scan, reason, station=station, detail=detail)

    def tray(self) -> list[TrayItem]:
        """Scans waiting for a person, oldest first."""
        return self._tray.items()

    def clear_tray(self, device: str | None = None) -> list[TrayItem]:
        """Take the tray's scans (of one device, or all) out of it and return them."""
        return self._tray.take(device)
