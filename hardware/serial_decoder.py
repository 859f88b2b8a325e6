"""The decoder from serial bytes to scans: terminators, GS kept as it is, an inter-byte timeout.

A serial or USB-COM (CDC ACM) scanner sends the decoded bytes themselves, so GS (0x1D) arrives intact —
the reason to prefer that mode where GS matters. Bytes become text one to one (Latin-1): nothing is
dropped or replaced; the code parser refuses what is not GS1 set 82. Pure, like the key decoder: time
comes from the caller (arrival time of each chunk, in microseconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from hardware.decoder import Decoded

DEFAULT_TERMINATORS: Final = (b"\r\n", b"\r", b"\n")
_NAMES: Final = {b"\r\n": "crlf", b"\r": "cr", b"\n": "lf", b"\t": "tab", b"\x03": "etx", b"\x04": "eot"}


def terminator_name(terminator: bytes) -> str:
    """ "crlf", "cr", "lf", … or the hex of a custom terminator ("0x1e")."""
    return _NAMES.get(terminator) or "0x" + terminator.hex()


def parse_terminator(text: str) -> bytes:
    """A terminator as written in configuration: "CR", "LF", "CRLF", "TAB", "ETX", "EOT" or hex "0x1e"."""
    names = {v: k for k, v in _NAMES.items()}
    key = text.strip().lower()
    if key in names:
        return names[key]
    if key.startswith("0x") and len(key) > 2:
        try:
            return bytes.fromhex(key[2:])
        except ValueError:
            pass
    raise ValueError(f"unknown serial terminator: {text!r} (CR, LF, CRLF, TAB, ETX, EOT or hex like 0x1e)")


class SerialDecoder:
    """Bytes from one port -> scans. A terminator ends a scan at once; when a shorter terminator is the
    start of a longer one (CR and CRLF) and the chunk ends between them, the scan ends on the short one and
    the rest (the LF) is swallowed when it comes, so CRLF never makes an empty second scan."""

    def __init__(self, terminators: Iterable[bytes] = DEFAULT_TERMINATORS, timeout_ms: float | None = 100.0) -> None:
        terms = sorted({bytes(t) for t in terminators if t}, key=len, reverse=True)
        if timeout_ms is not None and timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive (or None)")
        if not terms and timeout_ms is None:
            raise ValueError("a serial scanner needs a terminator or an inter-byte timeout to end its scans")
        self._terms = terms
        self._last_bytes = {t[-1] for t in terms}
        self._timeout_us = None if timeout_ms is None else round(timeout_ms * 1000)
        self._data = bytearray()  # this scan's bytes, terminator included once it is found
        self._swallow = b""  # the rest of a longer terminator still expected
        self._first_us = 0
        self._last_us = 0

    @property
    def pending(self) -> bool:
        return bool(self._data)

    def feed(self, chunk: bytes, t_us: int) -> list[Decoded]:
        """Consume bytes that arrived at `t_us`; return the scans they end."""
        out: list[Decoded] = []
        if self._data and self._timeout_us is not None and t_us - self._last_us > self._timeout_us:
            self._end(out, "timeout", len(self._data))
        i, n = 0, len(chunk)
        while i < n:
            byte = chunk[i]
            i += 1
            if self._swallow:
                if byte == self._swallow[0]:
                    self._swallow = self._swallow[1:]
                    continue
                self._swallow = b""
            if not self._data:
                self._first_us = t_us
            self._data.append(byte)
            if byte not in self._last_bytes:
                continue
            found = next((t for t in self._terms if self._data.endswith(t)), None)
            if found is None:
                continue
            payload_end = len(self._data) - len(found)
            # A longer terminator that starts with the one found (CRLF after CR): look ahead in the chunk.
            for longer in self._terms:
                if len(longer) > len(found) and longer.startswith(found):
                    rest = longer[len(found) :]
                    ahead = chunk[i : i + len(rest)]
                    if ahead == rest:
                        found = longer
                    elif not (rest.startswith(ahead) and i + len(ahead) == n):
                        continue
                    else:  # the chunk ends inside the longer terminator: swallow the rest when it comes
                        self._swallow = rest[len(ahead) :]
                    self._data += ahead
                    i += len(ahead)
                    break
            self._last_us = t_us
            self._end(out, terminator_name(found), payload_end)
        if self._data:
            self._last_us = t_us
        return out

    def expire(self) -> Decoded | None:
        """End the pending scan: the port was idle for the timeout. None when nothing is pending."""
        out: list[Decoded] = []
        self._end(out, "timeout", len(self._data))
        return out[0] if out else None

    def finish(self) -> Decoded | None:
        """The port went away (or the reader stopped): the pending scan comes back incomplete."""
        self._swallow = b""
        out: list[Decoded] = []
        self._end(out, None, len(self._data), complete=False)
        return out[0] if out else None

    def _end(self, out: list[Decoded], terminator: str | None, payload_end: int, *, complete: bool = True) -> None:
        """Close the scan held in `_data` (its payload is `_data[:payload_end]`); a lone terminator is no scan."""
        raw = bytes(self._data)
        self._data.clear()
        if payload_end:
            out.append(
                Decoded(
                    text=raw[:payload_end].decode("latin-1"),
                    terminator=terminator,
                    raw=raw,
                    events=len(raw),
                    unknown_keys=0,
                    complete=complete,
                    first_us=self._first_us,
                    last_us=self._last_us,
                )
            )
