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
        # Told from yajl's own words without a place inside the file (never shown to a person).
        said = str(error)
        if "premature EOF" in said:
            return broken(_place(opener, None)[0], "ends")
        if "trailing garbage" in said:
            return broken("file", "after_end")
        return broken("file", "json")
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
