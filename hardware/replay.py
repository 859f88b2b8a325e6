"""Replay recorded raw input events through the live reader's decoder.

A recording is a file of 24-byte `struct input_event` records (64-bit Linux), as `cat /dev/input/eventN`
or a `Scan.raw` stores them. 16-byte records from 32-bit systems are not supported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hardware.decoder import EVENT, DecoderConfig, Event, KeyDecoder
from hardware.scan import Scan

RECORD_SIZE = EVENT.size  # 24


class ReplayError(Exception):
    """The data is not a recording of input events; the message says why."""


@dataclass(frozen=True)
class Replay:
    scans: list[Scan]
    records: int  # whole records decoded
    trailing_bytes: int  # bytes after the last whole record (a cut recording); ignored


def iter_events(data: bytes) -> Iterator[Event]:
    """The whole records in `data`, in order; a truncated trailing record is left out."""
    whole = len(data) - len(data) % RECORD_SIZE
    return EVENT.iter_unpack(memoryview(data)[:whole])


def replay_events(data: bytes, config: DecoderConfig | None = None, *, device: str = "replay") -> Replay:
    """Decode a recording; each scan's `received_at` is the time of its last event.

    A truncated trailing record (a recording cut mid-write) is ignored and reported in `trailing_bytes`:
    everything before it is intact evidence. Raises ReplayError when the records are not input events.
    """
    trailing = len(data) % RECORD_SIZE
    records = len(data) // RECORD_SIZE
    _check(data, records)
    decoded = KeyDecoder(config).feed_all(iter_events(data))
    return Replay(scans=[d.to_scan(device, "evdev") for d in decoded], records=records, trailing_bytes=trailing)


def replay_file(path: str | Path, config: DecoderConfig | None = None) -> Replay:
    """`replay_events` on a file; the scans' device is `file:<path>`. Raises OSError, ReplayError."""
    data = Path(path).read_bytes()
    return replay_events(data, config, device=f"file:{path}")


def _check(data: bytes, records: int) -> None:
    # A text file or a 32-bit recording decodes to nonsense event types; say so rather than print nothing.
    # Event types are small (EV_MAX = 0x1f) and usec is below 1,000,000 in every real record.
    if not records:
        return
    sample = min(records, 64)
    bad = sum(
        1
        for sec, usec, etype, _code, _value in EVENT.iter_unpack(data[: sample * RECORD_SIZE])
        if etype > 0x1F or not 0 <= usec < 1_000_000 or sec < 0
    )
    if bad * 4 > sample:
        raise ReplayError(
            f"not a recording of 64-bit input_event records ({bad} of the first {sample} "
            "records have impossible types or times)"
        )
