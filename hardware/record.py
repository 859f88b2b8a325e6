"""Write the raw input_event records a keyboard-mode scanner would send for a text.

For tests, fixtures and the benchmark: the bytes are exactly what `read()` on /dev/input/eventN returns
(24-byte `struct input_event`), so they can go through a pipe into evdev's own reader or into
`warehouse scanners decode --evdev`. Each key is sent the way a USB keyboard reports it: a press frame
(MSC_SCAN, EV_KEY 1, SYN_REPORT) then a release frame.
"""

from __future__ import annotations

from typing import Final, Literal

from evdev import ecodes as e

from hardware import keymap
from hardware.decoder import EVENT
from hardware.scan import GS

GsStyle = Literal["ctrl", "alt", "alt_short", "key", "drop"]
"""How GS is typed: Ctrl+], Alt+0029, Alt+29, a substitute key (`gs_key`, F8 by default), or not at all."""
ShiftStyle = Literal["left", "right", "capslock"]
"""How capitals are typed: holding left or right Shift per character, or toggling CapsLock for letters."""

_TERMINATOR_KEYS: Final = {"enter": e.KEY_ENTER, "kp_enter": e.KEY_KPENTER, "tab": e.KEY_TAB}
_TYPING: Final = keymap.typing_table()
_KP: Final = {d: code for code, d in keymap.KEYPAD_DIGITS.items()}


class EventWriter:
    """Builds a recording key by key, with its own clock.

    >>> w = EventWriter(start=1_700_000_000.0)
    >>> w.type("01"); w.tap(e.KEY_ENTER); len(w.data()) // 24
    18
    """

    def __init__(self, *, start: float = 1_700_000_000.0, key_interval_ms: float = 4.0, msc_scan: bool = True) -> None:
        self._t_us = round(start * 1_000_000)
        self._half_us = max(1, round(key_interval_ms * 500))  # press, half an interval, release, half
        self._msc = msc_scan
        self._buf = bytearray()

    @property
    def now(self) -> float:
        """The clock (seconds since the epoch) the next event will carry."""
        return self._t_us / 1_000_000

    def event(self, etype: int, code: int, value: int) -> None:
        """One raw event at the current time."""
        sec, usec = divmod(self._t_us, 1_000_000)
        self._buf += EVENT.pack(sec, usec, etype, code, value)

    def key(self, code: int, value: int) -> None:
        """One key frame: MSC_SCAN (a stand-in usage value; the decoder ignores it), EV_KEY, SYN_REPORT."""
        if self._msc:
            self.event(e.EV_MSC, e.MSC_SCAN, 0x70000 | code)
        self.event(e.EV_KEY, code, value)
        self.event(e.EV_SYN, e.SYN_REPORT, 0)

    def press(self, code: int) -> None:
        self.key(code, 1)
        self._t_us += self._half_us

    def release(self, code: int) -> None:
        self.key(code, 0)
        self._t_us += self._half_us

    def tap(self, code: int) -> None:
        self.press(code)
        self.release(code)

    def pause(self, ms: float) -> None:
        self._t_us += round(ms * 1000)

    def alt_code(self, number: str) -> None:
        """Alt + keypad digits, e.g. "0029"."""
        self.press(e.KEY_LEFTALT)
        for digit in number:
            self.tap(_KP[int(digit)])
        self.release(e.KEY_LEFTALT)

    def type(self, text: str, *, shift: ShiftStyle = "left", gs: GsStyle = "ctrl", gs_key: int = e.KEY_F8) -> None:
        """Type `text` as a US-keyboard scanner would. Characters no key types (control characters other
        than GS, Latin-1 letters) are sent as Alt+0nnn; beyond U+00FF raises ValueError."""
        caps = False
        shift_key = e.KEY_RIGHTSHIFT if shift == "right" else e.KEY_LEFTSHIFT
        for ch in text:
            if ch == GS:
                if gs == "ctrl":
                    self.press(e.KEY_LEFTCTRL)
                    self.tap(e.KEY_RIGHTBRACE)
                    self.release(e.KEY_LEFTCTRL)
                elif gs == "alt":
                    self.alt_code("0029")
                elif gs == "alt_short":
                    self.alt_code("29")
                elif gs == "key":
                    self.tap(gs_key)
                continue
            typed = _TYPING.get(ch)
            if typed is None:
                if ord(ch) > 0xFF:
                    raise ValueError(f"no key or Alt code types {ch!r}")
                self.alt_code(f"0{ord(ch):03d}")
                continue
            code, shifted = typed
            if shift == "capslock" and code in keymap.LETTERS:
                if shifted != caps:
                    self.tap(e.KEY_CAPSLOCK)
                    caps = shifted
                self.tap(code)
                continue
            if shifted:
                self.press(shift_key)
                self.tap(code)
                self.release(shift_key)
            else:
                self.tap(code)
        if caps:  # leave CapsLock off, as found
            self.tap(e.KEY_CAPSLOCK)

    def terminate(self, terminator: str | int | None) -> None:
        """Tap the terminator key: "enter", "kp_enter", "tab", a key code, or None for none."""
        if terminator is None:
            return
        code = _TERMINATOR_KEYS.get(terminator) if isinstance(terminator, str) else terminator
        if code is None:
            code = keymap.key_code(str(terminator))
        self.tap(code)

    def scan(
        self,
        text: str,
        *,
        terminator: str | int | None = "enter",
        shift: ShiftStyle = "left",
        gs: GsStyle = "ctrl",
        gs_key: int = e.KEY_F8,
    ) -> None:
        """A whole scan: the text, then the terminator."""
        self.type(text, shift=shift, gs=gs, gs_key=gs_key)
        self.terminate(terminator)

    def data(self) -> bytes:
        return bytes(self._buf)


def events_for_text(
    text: str,
    *,
    shift: ShiftStyle = "left",
    gs: GsStyle = "ctrl",
    gs_key: int = e.KEY_F8,
    terminator: str | int | None = "enter",
    start_time: float = 1_700_000_000.0,
    key_interval_ms: float = 4.0,
    msc_scan: bool = True,
) -> bytes:
    """The input_event records of one scan of `text`.

    >>> len(events_for_text("0", terminator="enter")) // 24   # 2 keys x (press + release) x 3 events
    12
    """
    writer = EventWriter(start=start_time, key_interval_ms=key_interval_ms, msc_scan=msc_scan)
    writer.scan(text, terminator=terminator, shift=shift, gs=gs, gs_key=gs_key)
    return writer.data()
