"""A text or number too long for any field of an act, found in the raw bytes before the JSON parser runs.

yajl lexes a token that spans its read buffers again from its start at every buffer: a 30 MB text in
quotes took 7 s (and 110 s in Cyrillic) to read before its field could be refused. `find_long_token` scans
the bytes with C regexes instead (each byte looked at a bounded number of times, about 1 GB/s) and tells
the first text or number longer than any act field can be, with its line and column and, for a value, the
field it belongs to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from warehouse.transfer_act.data import MAX_CODE, MAX_NAME, MAX_NUMBER, MAX_SHORT_TEXT
from warehouse.transfer_act.problems import Problem, Reason, show

# No field of an act is near this long (names are 300 characters at most). One character takes at most
# 12 bytes of JSON text (an escaped surrogate pair), so more bytes than this are more characters than
# MAX_TEXT: a shorter overlong text is left to the field checks, which name its place in the tree.
MAX_TEXT: Final = 10_000
MAX_TEXT_BYTES: Final = 12 * MAX_TEXT
MAX_NUMBER_DIGITS: Final = 1_000  # a price is at most 16 digits
_CHUNK: Final = 1 << 20
# The fields whose limit the refusal can name; another field's overlong value is told as a long text.
FIELD_LIMITS: Final = {
    "name": MAX_NAME,
    "code": MAX_CODE,
    "number": MAX_NUMBER,
    "turnover": MAX_SHORT_TEXT,
    "type": MAX_SHORT_TEXT,
}
# A window of this many bytes without a quote (escaped quotes masked) lies inside a text longer than
# MAX_TEXT_BYTES when a text is open before it, or else is a run outside texts: looking at one window in
# every so many bytes costs nothing, and every text a few windows long has one wholly inside it.
_TEXT_WINDOW: Final = MAX_TEXT_BYTES + 1
_NUMBER_WINDOW: Final = MAX_NUMBER_DIGITS + 1
_NOT_NUMBER: Final = re.compile(rb"[^-+.eE0-9]")
_KEY_BEFORE: Final = re.compile(rb'"((?:[^"\\]|\\.){1,100})"\s*:\s*\Z')
_BOM: Final = b"\xef\xbb\xbf"


def _mask(data: bytes) -> bytes:
    """`data` with every escaped backslash and escaped quote made two plain bytes (the same length): the
    quotes left are exactly the ones that open or close a text."""
    return data.replace(b"\\\\", b"__").replace(b'\\"', b"_q") if b'\\"' in data else data


def find_long_token(path: Path) -> Problem | None:
    """The first text longer than MAX_TEXT characters or number longer than MAX_NUMBER_DIGITS (most of
    them: one a few windows long is always found), or None. About 3 ms a megabyte."""
    quotes = 0  # quotes before the chunk: an odd count means the chunk starts inside a text
    last_quote = -1
    base = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            while chunk.endswith(b"\\"):  # an escape is never cut in two
                more = f.read(1 << 12)
                if not more:
                    break
                chunk += more
            data = _mask(chunk)
            size = len(data)
            for at in range(0, size - _TEXT_WINDOW + 1, _TEXT_WINDOW):
                if data.find(b'"', at, at + _TEXT_WINDOW) < 0 and (quotes + data.count(b'"', 0, at)) % 2:
                    opening = data.rfind(b'"', 0, at)
                    return _problem(path, base + opening if opening >= 0 else last_quote, text=True)
            for at in range(0, size - _NUMBER_WINDOW + 1, _NUMBER_WINDOW):
                all_digits = _NOT_NUMBER.search(data, at, at + _NUMBER_WINDOW) is None
                if all_digits and (quotes + data.count(b'"', 0, at)) % 2 == 0:
                    return _problem(path, base + at, text=False)
            quotes += data.count(b'"')
            last = data.rfind(b'"')
            last_quote = base + last if last >= 0 else last_quote
            base += size
    return None


def _problem(path: Path, offset: int, text: bool) -> Problem:
    where = _place(path, offset)
    if not text:
        return Problem(where, Reason.TEXT_TOO_LONG, str(MAX_NUMBER_DIGITS), (("kind", "number"),))
    with path.open("rb") as f:
        f.seek(max(0, offset - 200))
        before = f.read(min(offset, 200))
    key = _KEY_BEFORE.search(before)
    field = key[1].decode("utf-8", "replace") if key else ""
    if field in FIELD_LIMITS:
        limit = str(FIELD_LIMITS[field])
        return Problem(where, Reason.TOO_LONG, f"{field}: > {MAX_TEXT} > {limit}", (("field", field), ("max", limit)))
    if field:
        return Problem(where, Reason.TEXT_TOO_LONG, str(MAX_TEXT), (("kind", "field"), ("field", show(field))))
    return Problem(where, Reason.TEXT_TOO_LONG, str(MAX_TEXT))


def _place(path: Path, offset: int) -> str:
    """ "line L, column C" of byte `offset` (columns count characters, a byte order mark is not one)."""
    line, column, seen = 1, 1, 0
    with path.open("rb") as f:
        if f.read(3) == _BOM:
            seen = 3
        else:
            f.seek(0)
        while seen < offset:
            part = f.read(min(_CHUNK, offset - seen))
            if not part:
                break
            seen += len(part)
            newline = part.rfind(b"\n")
            if newline >= 0:
                line += part.count(b"\n")
                column = 1
                part = part[newline + 1 :]
            # characters: every byte that is not a UTF-8 continuation byte (0x80-0xBF)
            column += len(part) - len(part.translate(None, _NOT_CONTINUATION))
    return f"line {line}, column {column}"


_NOT_CONTINUATION: Final = bytes(b for b in range(256) if not 0x80 <= b <= 0xBF)
