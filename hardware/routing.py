"""Where a scanner's scan goes: scanner -> station -> the act open at that station.

A scanner is bound to a station (and maybe a person) in the database (`hardware.bindings`); the web layer
says which act is open at each station (`open_act` when a receiving screen opens, `close_act` when it is
left or the act is closed). A scan that cannot be routed — its scanner is bound to no station, or no act
is open there — is never credited to a guess: it waits in the tray ("whose scanner is this?"), where the
screens can show it. Pure and thread-safe: readers, the dispatcher and web requests all call it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hardware.scan import Scan


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


class StationRouter:
    """Scanner bindings, the act open at each station, and the tray of scans that could not be routed.

    >>> router = StationRouter()
    >>> router.set_bindings({"serial:/dev/ttyACM0": Binding("dock-1")})
    >>> router.open_act("dock-1", 42, user_id=7)
    >>> router.route("serial:/dev/ttyACM0")
    Route(act_id=42, station='dock-1', user_id=7, scanner_id=None)

    `default_station` routes scanners that have no binding (a one-station PC); None sends them to the tray.
    """

    def __init__(self, *, default_station: str | None = None, tray_size: int = 500,
                 on_tray: Callable[[TrayItem], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._bindings: dict[str, Binding] = {}
        self._acts: dict[str, _OpenAct] = {}
        self._default = default_station
        # Bounded: a scanner left pointing at nothing must not fill the memory of a station that runs for
        # months; the journal is the record, the tray only a prompt to the operator.
        self._tray: deque[TrayItem] = deque(maxlen=tray_size)
        self._on_tray = on_tray

    # -- bindings --------------------------------------------------------------------------------

    def set_bindings(self, bindings: Mapping[str, Binding]) -> None:
        """Replace every binding (as loaded from the database)."""
        with self._lock:
            self._bindings = dict(bindings)

    def bind(self, device: str, binding: Binding) -> None:
        with self._lock:
            self._bindings[device] = binding

    def unbind(self, device: str) -> None:
        with self._lock:
            self._bindings.pop(device, None)

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

    def open_acts(self) -> dict[str, int]:
        with self._lock:
            return {station: a.act_id for station, a in self._acts.items()}

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
