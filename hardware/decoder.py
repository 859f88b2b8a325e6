"""The one decoder from Linux key events to scanned text.

The live evdev reader, the file replay (`warehouse scanners decode --evdev`), the benchmark and the tests
all feed `KeyDecoder` the same `(sec, usec, type, code, value)` tuples an `InputDevice` yields, so a
replayed file decodes exactly as the live read did. It is pure: no I/O, no clock; time comes only from
the event timestamps, which is what makes replays behave like live reads.

Rules (each one a way scans go wrong in the field):
- a fixed US-QWERTY keymap (`keymap.py`): the OS layout never matters;
- Shift (left or right) and CapsLock (letters only; initial state off);
- key repeat (value 2) is ignored;
- Ctrl+] is GS (any Ctrl+letter/[\\]^_ gives its ASCII control character);
- Alt + keypad digits, committed when Alt is released: Alt+0029 and Alt+29 are both GS; any Alt+nnn or
  Alt+0nnn is the character with code point nnn mod 256 (Windows' OEM code page for Alt+nnn ≥ 128 is not
  reproduced: marking codes are ASCII);
- a configurable GS substitute key (e.g. KEY_F8);
- terminators (KEY_ENTER "enter", KEY_KPENTER "kp_enter", KEY_TAB "tab" by default, configurable);
- an inter-key timeout (50 ms by default): a key pressed longer than that after the previous key event
  starts a new scan, and the previous one ends with terminator "timeout" — for scanners without a suffix,
  and so a lost Enter never glues two codes together;
- a key the map does not know is never dropped silently: it becomes U+FFFD at its position in the text and
  is counted in `unknown_keys`, so the parser refuses the scan instead of crediting a shorter code;
- SYN_DROPPED (the kernel's buffer overflowed, events were lost) marks the scan the same way.

A scan's `raw` holds its input_event records from the frame (SYN_REPORT group) of its first key press
through its terminator press; events between scans that press no key (the terminator's release, lone
SYN frames) belong to no scan. Replaying a scan's `raw` gives the same scan. A terminator with nothing
typed before it (a lone Enter) is not a scan.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

from evdev import ecodes as e

from hardware import keymap
from hardware.scan import GS, UNKNOWN, Scan, Source

EVENT: Final = struct.Struct("llHHi")
"""struct input_event on 64-bit Linux: tv_sec, tv_usec, type, code, value — 24 bytes."""

Event = tuple[int, int, int, int, int]
"""(sec, usec, type, code, value), as evdev's `InputEvent` and `_input.device_read_many` give them."""

_EV_KEY: Final = e.EV_KEY
_EV_SYN: Final = e.EV_SYN
_SYN_REPORT: Final = e.SYN_REPORT
_SYN_DROPPED: Final = e.SYN_DROPPED
_SHIFT_BITS: Final = {e.KEY_LEFTSHIFT: 1, e.KEY_RIGHTSHIFT: 2}
_CTRL_BITS: Final = {e.KEY_LEFTCTRL: 1, e.KEY_RIGHTCTRL: 2}
_ALT_BITS: Final = {e.KEY_LEFTALT: 1, e.KEY_RIGHTALT: 2}
_CHARACTERS: Final = dict(keymap.CHARACTERS)
_LETTERS: Final = keymap.LETTERS
_CONTROL: Final = dict(keymap.CONTROL)
_KEYPAD_DIGITS: Final = dict(keymap.KEYPAD_DIGITS)
_PASSIVE: Final = keymap.META | keymap.IGNORED


@dataclass(frozen=True)
class DecoderConfig:
    """How a keyboard-mode scanner is configured to type.

    `terminators` maps key codes to terminator names; `timeout_ms` is the inter-key gap that ends a scan
    (None disables it: then only terminators end scans); `gs_key` is a key the scanner types for GS.
    """

    terminators: Mapping[int, str] = field(default_factory=lambda: keymap.DEFAULT_TERMINATORS)
    timeout_ms: float | None = 50.0
    gs_key: int | None = None

    def __post_init__(self) -> None:
        if self.timeout_ms is not None and self.timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive (or None to disable the inter-key timeout)")
        if self.gs_key is not None and self.gs_key in self.terminators:
            raise ValueError(f"the GS key {keymap.key_name(self.gs_key)} is also a terminator")
        object.__setattr__(self, "terminators", MappingProxyType(dict(self.terminators)))

    @classmethod
    def from_names(
        cls,
        *,
        terminators: Iterable[str | int] | None = None,
        timeout_ms: float | None = 50.0,
        gs_key: str | int | None = None,
    ) -> DecoderConfig:
        """Build from key names as written in configuration: `terminators=["KEY_ENTER", "KEY_F12"]`.

        Standard terminators keep their names ("enter", "kp_enter", "tab"); others are named after the key
        ("f12"). Raises ValueError for an unknown key name.
        """
        mapping = keymap.DEFAULT_TERMINATORS
        if terminators is not None:
            codes = [keymap.key_code(t) for t in terminators]
            mapping = MappingProxyType({c: keymap.DEFAULT_TERMINATORS.get(c, keymap.key_name(c)) for c in codes})
        return cls(
            terminators=mapping, timeout_ms=timeout_ms, gs_key=None if gs_key is None else keymap.key_code(gs_key)
        )


@dataclass(frozen=True, slots=True)
class Decoded:
    """One scan as the decoder sees it, before it is attributed to a device (see `to_scan`)."""

    text: str
    terminator: str | None
    raw: bytes
    events: int
    unknown_keys: int
    complete: bool
    first_us: int  # timestamp of the scan's first key press, µs since the epoch (event clock)
    last_us: int  # timestamp of the last event of the scan

    @property
    def ended_at(self) -> datetime:
        """The event clock's time of the scan's last event (the kernel stamps events with CLOCK_REALTIME)."""
        return datetime.fromtimestamp(self.last_us / 1_000_000, UTC)

    def to_scan(self, device: str, source: Source, received_at: datetime | None = None) -> Scan:
        """Attribute to a device; `received_at` defaults to the time of the scan's last event."""
        return Scan(
            text=self.text,
            device=device,
            source=source,
            terminator=self.terminator,
            raw=self.raw,
            events=self.events,
            received_at=received_at or self.ended_at,
            complete=self.complete,
            unknown_keys=self.unknown_keys,
        )


def pack_events(events: Iterable[Event]) -> bytes:
    """input_event records, as read from /dev/input/event*."""
    pack = EVENT.pack
    return b"".join([pack(*ev) for ev in events])


class KeyDecoder:
    """Turns a stream of key events from ONE device into scans. Not thread-safe: one decoder per reader.

    >>> from hardware.record import events_for_text
    >>> from hardware.replay import iter_events
    >>> d = KeyDecoder()
    >>> [s.text for ev in iter_events(events_for_text("01A\\x1d93")) if (s := d.feed(*ev))]
    ['01A\\x1d93']
    """

    def __init__(self, config: DecoderConfig | None = None) -> None:
        self.config = config or DecoderConfig()
        self._terminators = dict(self.config.terminators)
        timeout = self.config.timeout_ms
        self._timeout_us: int | None = None if timeout is None else round(timeout * 1000)
        self._gs_key = self.config.gs_key
        # Key state outlives scans: a Shift held across the boundary stays held.
        self._shift = 0
        self._ctrl = 0
        self._alt = 0
        self._caps = False
        self._damaged_next = False  # events were dropped between scans: the next scan may miss keys
        self._new_scan()

    def _new_scan(self) -> None:
        self._chars: list[str] = []
        self._events: list[Event] = []
        self._frame_start = 0  # index in _events of the first event of the current SYN frame
        self._key_end = 0  # index in _events just after the last key event
        self._active = False  # a key was pressed since the last scan ended
        self._keys = 0  # content key presses (not modifiers, not the terminator)
        self._unknown = 0
        self._alt_digits: list[int] = []
        self._first_us = 0
        self._last_us = 0

    @property
    def pending(self) -> bool:
        """Whether a scan has begun (something was typed) and not ended yet."""
        return self._keys > 0

    def feed(self, sec: int, usec: int, etype: int, code: int, value: int) -> Decoded | None:
        """Consume one event; return the scan it ends, if any.

        A key press after a gap longer than the timeout ends the pending scan ("timeout") and starts the
        next: the scan returned then is the earlier one. At most one scan ends per event.
        """
        events = self._events
        events.append((sec, usec, etype, code, value))
        if etype == _EV_KEY:
            t = sec * 1_000_000 + usec
            key_end = self._key_end
            self._key_end = len(events)
            if value == 1:
                out: Decoded | None = None
                if self._active:
                    timeout = self._timeout_us
                    if timeout is not None and t - self._last_us > timeout:
                        # This key's frame moves on to the next scan (without SYN frames: what follows
                        # the previous key event).
                        split = max(self._frame_start, key_end)
                        if self._keys:
                            out = self._end("timeout", split)
                        else:  # only modifiers since the last scan: nothing worth keeping
                            del events[:split]
                            self._frame_start = 0
                            self._active = False
                        self._key_end = len(self._events)
                if not self._active:
                    self._active = True
                    self._first_us = t
                self._last_us = t
                terminator = self._press(code)
                if terminator is None:
                    return out
                if out is not None:  # cannot happen: the new scan holds only this key
                    raise AssertionError("two scans ended by one event")
                return self._end(terminator, len(self._events))
            if self._active:
                self._last_us = t
            if value == 0:
                self._release(code)
            # value 2 is key repeat: a scanner never holds a key; a repeat must not type twice
            return None
        if etype == _EV_SYN:
            if code == _SYN_REPORT:
                if self._active:
                    self._frame_start = len(events)
                else:  # a frame without a key press between scans (a release, say): no scan's evidence
                    events.clear()
                    self._key_end = 0
            elif code == _SYN_DROPPED:
                # The kernel's buffer overflowed and events were lost here. Keys held across the gap are
                # taken as released (scanners hold nothing between characters) and the scan is marked.
                self._shift = self._ctrl = self._alt = 0
                if self._keys:
                    self._mark_unknown()
                else:
                    self._damaged_next = True
        return None

    def expire(self) -> Decoded | None:
        """End the pending scan because the inter-key timeout passed with no more keys (live readers call
        this when the device has been idle for the timeout). Returns None when nothing is pending."""
        if not self._keys:
            return None
        return self._end("timeout", len(self._events))

    def finish(self) -> Decoded | None:
        """End of input (device unplugged, reader stopped, end of file without timeout): the pending scan,
        if any, comes back with `complete=False`. All key state is reset."""
        out = self._end(None, len(self._events), complete=False) if self._keys else None
        self._shift = self._ctrl = self._alt = 0
        self._caps = self._damaged_next = False
        self._new_scan()
        return out

    def feed_all(self, events: Iterable[Event]) -> Iterator[Decoded]:
        """Decode a finite recording: each scan, then the pending one as a replay sees it — ended by the
        timeout when one is configured (what the live reader would have done), otherwise incomplete."""
        feed = self.feed
        for ev in events:
            out = feed(*ev)
            if out is not None:
                yield out
        tail = self.expire() if self._timeout_us is not None else self.finish()
        if tail is not None:
            yield tail

    # -- internals --------------------------------------------------------------------------------

    def _press(self, code: int) -> str | None:
        """Apply a key press; return a terminator name when it ends the scan."""
        bit = _SHIFT_BITS.get(code)
        if bit is not None:
            self._shift |= bit
            return None
        bit = _CTRL_BITS.get(code)
        if bit is not None:
            self._ctrl |= bit
            return None
        bit = _ALT_BITS.get(code)
        if bit is not None:
            self._alt |= bit
            return None
        if code == e.KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in _PASSIVE:
            return None
        terminator = self._terminators.get(code)
        if terminator is not None:
            return terminator
        self._keys += 1
        if self._damaged_next:
            self._damaged_next = False
            self._mark_unknown()
        if code == self._gs_key:
            self._chars.append(GS)
            return None
        if self._alt:
            digit = _KEYPAD_DIGITS.get(code)
            if digit is not None:
                self._alt_digits.append(digit)
            else:  # Alt+letter is a menu shortcut, not text
                self._mark_unknown()
            return None
        if self._ctrl:
            control = _CONTROL.get(code)
            if control is None:
                self._mark_unknown()
            else:
                self._chars.append(control)
            return None
        pair = _CHARACTERS.get(code)
        if pair is None:
            self._mark_unknown()
            return None
        shifted = self._shift != 0
        if self._caps and code in _LETTERS:
            shifted = not shifted
        self._chars.append(pair[shifted])
        return None

    def _release(self, code: int) -> None:
        bit = _SHIFT_BITS.get(code)
        if bit is not None:
            self._shift &= ~bit
            return
        bit = _CTRL_BITS.get(code)
        if bit is not None:
            self._ctrl &= ~bit
            return
        bit = _ALT_BITS.get(code)
        if bit is not None:
            self._alt &= ~bit
            if not self._alt and self._alt_digits:
                self._commit_alt()

    def _commit_alt(self) -> None:
        # Windows: Alt+0nnn is code page 1252, Alt+nnn the OEM page, both taken mod 256. For ASCII (all a
        # marking code holds) both are the code point itself: Alt+0029 = Alt+29 = GS.
        value = 0
        for d in self._alt_digits:
            value = value * 10 + d
        self._alt_digits.clear()
        self._chars.append(chr(value % 256))

    def _mark_unknown(self) -> None:
        self._chars.append(UNKNOWN)
        self._unknown += 1
        self._keys += 1

    def _end(self, terminator: str | None, upto: int, *, complete: bool = True) -> Decoded | None:
        """Emit the scan made of `_events[:upto]`; the events after `upto` start the next scan."""
        if self._alt_digits:  # an Alt sequence cut by the terminator or the timeout still counts
            self._commit_alt()
        events = self._events
        scan_events = events[:upto]
        rest = events[upto:]
        out = None
        if self._chars:
            last_us = scan_events[-1][0] * 1_000_000 + scan_events[-1][1] if scan_events else self._last_us
            out = Decoded(
                text="".join(self._chars),
                terminator=terminator,
                raw=pack_events(scan_events),
                events=len(scan_events),
                unknown_keys=self._unknown,
                complete=complete,
                first_us=self._first_us,
                last_us=last_us,
            )
        self._new_scan()
        if rest:
            self._events = rest
            self._active = True
            self._first_us = rest[0][0] * 1_000_000 + rest[0][1]
            self._last_us = rest[-1][0] * 1_000_000 + rest[-1][1]
        return out


def decode_events(events: Iterable[Event], config: DecoderConfig | None = None) -> list[Decoded]:
    """Decode a finite recording with a fresh decoder (see `KeyDecoder.feed_all`)."""
    return list(KeyDecoder(config).feed_all(events))
