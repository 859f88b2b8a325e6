"""The one event every scanner source emits, and the reader interface around it.

Every source (a USB HID scanner read through evdev, a serial/USB-COM scanner, an image, and later the
browser field) produces the same `Scan`; the receiving service has one entry for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

GS = "\x1d"
"""ASCII group separator: the GS1 field separator (FNC1 inside the data), kept as U+001D in `Scan.text`."""

UNKNOWN = "\ufffd"
"""Marks, at its position in `Scan.text`, an input the decoder could not turn into a character (a key the
keymap does not know, or events the kernel dropped). The code parser rejects U+FFFD (not GS1 set 82), so
such a scan is journaled as invalid and never credited as some other code."""

Source = Literal["evdev", "serial", "browser", "image"]


@dataclass(frozen=True, slots=True)
class Scan:
    """One read from one scanner, as the receiving service journals it.

    `raw` is the evidence the text was decoded from and can be replayed: the 24-byte `struct input_event`
    records for evdev (`warehouse scanners decode --evdev`), the bytes received for serial, the decoded
    symbol bytes for an image (a leading GS marks a GS1 symbol). `complete` is False for a scan cut short
    (device unplugged, reader stopped): it must be journaled as incomplete and never credited. `unknown_keys`
    counts the U+FFFD marks in `text`.
    """

    text: str
    device: str
    source: Source
    terminator: str | None
    raw: bytes
    events: int
    received_at: datetime
    complete: bool = True
    unknown_keys: int = 0
    symbology: str | None = None  # an image's symbol: its AIM identifier ("]d2" GS1 Data Matrix, "]d1" …)

    @property
    def creditable(self) -> bool:
        """Whether the scan may credit anything: whole, with no undecodable input."""
        return self.complete and self.unknown_keys == 0


class ScanSink(Protocol):
    """Receives each scan. Readers call it from their own thread, so it must return at once: queue the scan
    and write it from another thread (`warehouse.station.sink`)."""

    def __call__(self, scan: Scan, /) -> None: ...


class ReaderState(StrEnum):
    STOPPED = "stopped"  # not started yet, or stopped on purpose
    RUNNING = "running"  # device open (and grabbed, for evdev), scans flow
    UNPLUGGED = "unplugged"  # the device vanished; serial readers keep retrying, evdev readers end
    FAILED = "failed"  # could not open or grab the device (see `error`)


@runtime_checkable
class Reader(Protocol):
    """What every reader offers the `ReaderManager` and the screens that show scanner states."""

    @property
    def device(self) -> str:
        """The stable device key scans are attributed to."""
        ...

    @property
    def state(self) -> ReaderState: ...

    @property
    def error(self) -> str | None:
        """Why the reader is FAILED or UNPLUGGED, in words a person understands; None otherwise."""
        ...

    @property
    def alive(self) -> bool:
        """Whether it still reads, or waits for its device to come back; False once it ended for good
        (an evdev reader whose device was unplugged: the manager opens a new one on re-plug)."""
        ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and release the device; a scan in progress is emitted with `complete=False`."""
        ...
