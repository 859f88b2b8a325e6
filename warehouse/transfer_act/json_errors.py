"""Where and why a JSON act file is broken, in our words: the C parser only says "premature EOF (right here) ---^".

`locate` runs after the fast parser failed: ijson's pure-Python parser reads the file again (about 6 MB/s,
constant memory) and its events show what was open and what was expected where it stopped. A bigger file
is told without a place rather than read that slowly.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import ijson
from ijson.backends import python as slow_json

from warehouse.transfer_act.problems import Problem, Reason, show

LOCATE_MAX_BYTES: Final = 4 << 20  # 1-2 s at the pure-Python parser's speed on a busy 2-core machine
_UNEXPECTED: Final = re.compile(r"Unexpected symbol '(.*)' at (\d+)", re.DOTALL)
_OPEN: Final = {"start_map": "object", "start_array": "list"}


def broken(location: str, kind: str, symbol: str = "") -> Problem:
    """A MALFORMED problem whose words are chosen by `kind` (see ACT_FILE's "malformed.*" sentences)."""
    return Problem(location, Reason.MALFORMED, f"{kind} {symbol}".strip(), (("kind", kind), ("symbol", symbol)))


def _place(opener: Callable[[], BinaryIO], offset: int | None) -> tuple[str, str]:
    """("line L, column C", the last non-blank character before it) of character `offset` of the text,
    or of the end of the file when None."""
    line, column, seen, before = 1, 1, 0, ""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with opener() as raw:
        while offset is None or seen < offset:
            chunk = raw.read(1 << 20)
            text = decoder.decode(chunk, final=not chunk)
            if offset is not None:
                text = text[: offset - seen]
            newlines = text.count("\n")
            if newlines:
                line += newlines
                column = len(text) - text.rfind("\n")
            else:
                column += len(text)
            seen += len(text)
            before = (text.rstrip() or before.rstrip())[-1:] if text.strip() else before
            if not chunk:
                break
    return f"line {line}, column {column}", before


def _expected(stack: list[str], last: str, before: str) -> str:
    """What should have come where an unexpected symbol stands: from what is open and the character before."""
    if not stack:
        return "after_end" if last else "expect_value"
    if stack[-1] == "object":
        if last == "map_key":
            return "expect_value" if before == ":" else "expect_colon"
        if before in ("{", ","):
            return "expect_name"
        return "expect_comma_object"
    if before in ("[", ","):
        return "expect_value"
    return "expect_comma_list"


def locate(path: Path, opener: Callable[[], BinaryIO], error: Exception) -> Problem:
    """The fast parser's `error` told as a located problem of our own."""
    if path.stat().st_size > LOCATE_MAX_BYTES:
        return _locate_fast(opener, error)
    told = _locate_slow(path, opener, error)
    if told.location == "file" and told.reason == Reason.MALFORMED and told.args[0][1] != "after_end":
        fast = _locate_fast(opener, error)  # the slow parser gave no place (a bad literal, a control character)
        return fast if fast.location != "file" else told
    return told


def _locate_slow(path: Path, opener: Callable[[], BinaryIO], error: Exception) -> Problem:
    stack: list[str] = []
    last = ""
    try:
        with opener() as f:
            for event, _ in slow_json.basic_parse(f):
                if event in _OPEN:
                    stack.append(_OPEN[event])
                elif event in ("end_map", "end_array"):
                    stack.pop()
                last = event
    except ijson.JSONError as e:
        message = str(e)
        m = _UNEXPECTED.fullmatch(message)
        if m:
            symbol, offset = m[1], int(m[2])
            place, before = _place(opener, offset)
            return broken(place, _expected(stack, last, before), show(symbol, 40))
        if "string lexeme" in message:
            return broken(_place(opener, None)[0], "ends_text")
        if "Additional data" in message:
            return broken("file", "after_end")
        if "Incomplete JSON" in message and any(w in str(error) for w in ("premature EOF", "premature end")):
            kind = f"ends_{stack[-1]}" if stack else "ends"
            return broken(_place(opener, None)[0], kind)
        return broken("file", "json")
    except ValueError as e:  # json.JSONDecodeError from inside a text: a raw control character, a bad escape
        return broken("file", "control" if "control character" in str(e) else "json")
    except UnicodeDecodeError as e:
        return Problem("file", Reason.ENCODING, f"byte {e.start}")
    # The slow parser read it whole: the fast one stopped at something it alone refuses.
    return broken("file", "json")


# yajl's words (never shown to a person) and what they mean, for a file too big to read again slowly.
_YAJL_KINDS: Final = (
    ("after key and value, inside map", "expect_comma_object"),
    ("after array element", "expect_comma_list"),
    ("separated by a colon", "expect_colon"),
    ("invalid object key", "expect_name"),
    ("unallowed token", "expect_value"),
    ("trailing garbage", "after_end"),
    ("invalid character inside string", "control"),
    ("invalid string in json text", "expect_value"),
    ("invalid char in json text", "expect_value"),
    ("malformed number", "expect_value"),
)
_FAST_BUF: Final = 1 << 16
_NEVER: Final = "\x00never"  # an items() prefix no act has: yajl's C code drops every event itself


class _Counting:
    """A file that remembers where its last read began: yajl stops inside the last buffer it was given."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.last_start, self.total, self.last = f, 0, 0, b""

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.last_start, self.total, self.last = self.total, self.total + len(data), data
        return data


def _locate_fast(opener: Callable[[], BinaryIO], error: Exception) -> Problem:
    """The C parser run again over a big file, at C speed: where it stopped is found from its message,
    which shows the 30 bytes before and after the place (its second line) within the buffer it was given."""
    said = str(error)
    if "premature EOF" in said:
        return broken(_place(opener, None)[0], "ends")
    kind = next((k for words, k in _YAJL_KINDS if words in said), "json")
    with opener() as f:
        counting = _Counting(f)
        try:
            for _ in ijson.items(counting, _NEVER, buf_size=_FAST_BUF):
                pass
        except ijson.JSONError as e:
            said = str(e)
        else:
            return broken("file", kind)
    lines = said.split("\n")
    if len(lines) < 3 or kind == "after_end":
        return broken("file", kind)
    shown = lines[1]
    spaces = len(shown) - len(shown.lstrip(" "))
    buffer = counting.last.replace(b"\n", b" ").replace(b"\r", b" ")
    if spaces > 10:  # fewer than 30 bytes before: the text shown starts the buffer
        offset = 40 - spaces
    else:  # the buffer is shown from 30 bytes before the place
        found = buffer.find(shown[spaces:].encode("utf-8", "replace")[:30])
        if found < 0:
            return broken("file", kind)
        offset = found + 30
    buffer = counting.last
    start = _token_start(buffer, offset)
    if start > 0 and buffer[start - 1 : start] == b'"':  # yajl stopped inside a text: show all of it
        start -= 1
        close = buffer.find(b'"', offset)
        offset = close + 1 if 0 <= close < start + 80 else offset
    symbol = buffer[start:offset].decode("utf-8", "replace")
    return broken(_place_bytes(opener, counting.last_start + start), kind, show(symbol, 40))


def _token_start(buffer: bytes, end: int) -> int:
    """Where the token that ends at `end` (where yajl stopped, just past it) begins."""
    if end <= 0:
        return 0
    if buffer[end - 1 : end] == b'"':
        at = buffer.rfind(b'"', 0, end - 1)
        return at if at >= 0 else end - 1
    at = end
    while at > 0 and (chr(buffer[at - 1]).isalnum() or buffer[at - 1 : at] in (b"+", b"-", b".")):
        at -= 1
    return at if at < end else end - 1


def _place_bytes(opener: Callable[[], BinaryIO], offset: int) -> str:
    """ "line L, column C" of byte `offset` of the text (past a byte order mark); columns count characters."""
    line, column, seen = 1, 1, 0
    with opener() as f:
        while seen < offset and (part := f.read(min(1 << 20, offset - seen))):
            seen += len(part)
            newline = part.rfind(b"\n")
            if newline >= 0:
                line += part.count(b"\n")
                column = 1
                part = part[newline + 1 :]
            column += len(part.decode("utf-8", "replace"))
    return f"line {line}, column {column}"
