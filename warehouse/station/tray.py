"""The tray: scans that could not be recorded, waiting for a person ("whose scanner is this?").

A scan whose scanner is bound to no station, whose station has no act open, or that the service refused
is never credited to a guess; it waits here, where the screens show it. Bounded: a scanner left pointing
at nothing must not fill the memory of a station that runs for months. The journal is the record, the
tray only a prompt to the operator.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hardware.scan import Scan


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


class Tray:
    """The newest `size` scans put aside, oldest first; thread-safe. `on_put` sees each one as it comes.

    >>> from hardware.scan import Scan
    >>> tray = Tray(size=2)
    >>> for text in ("a", "b", "c"):
    ...     _ = tray.put(Scan(text, "kbd", "evdev", "enter", b"", 2, datetime.now(UTC)), TrayReason.UNBOUND)
    >>> [item.scan.text for item in tray.items()]
    ['b', 'c']
    """

    def __init__(self, *, size: int = 500, on_put: Callable[[TrayItem], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._items: deque[TrayItem] = deque(maxlen=size)
        self._on_put = on_put

    def put(self, scan: Scan, reason: TrayReason, *, station: str | None = None, detail: str = "") -> TrayItem:
        item = TrayItem(scan, reason, station, detail, datetime.now(UTC))
        with self._lock:
            self._items.append(item)
        if self._on_put is not None:
            self._on_put(item)
        return item

    def items(self) -> list[TrayItem]:
        with self._lock:
            return list(self._items)

    def take(self, device: str | None = None) -> list[TrayItem]:
        """Take the scans (of one device, or all) out of the tray and return them."""
        with self._lock:
            taken = [i for i in self._items if device is None or i.scan.device == device]
            kept = [i for i in self._items if device is not None and i.scan.device != device]
            self._items.clear()
            self._items.extend(kept)
        return taken
