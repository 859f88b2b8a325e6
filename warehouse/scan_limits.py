"""What a scan sent from outside (a handheld terminal, an integration) may be before it reaches the journal.

A marking code is at most 74 characters of GS1 set 82 (domain.md), but the journal keeps what was really
read, garbage included, so a scan is held to what the journal can store, not to what a code may be:
text (no lone UTF-16 surrogate, which no database can encode), no NUL (PostgreSQL's text refuses it), and
at most `MAX_CODE_BYTES` of UTF-8 — fourteen times a marking code, room for junk around one, never a file.
Whatever passes is journaled, and an unreadable code is journaled as invalid with its reason.

The terminal's own `scan_id` makes a retry safe (the journal answers it instead of counting again): 1 to
`MAX_SCAN_ID` characters of `SCAN_ID_CHARS` — a UUID (36), a counter, "TSD-07:2026-12-03T06:00:00.123"
fit; spaces, quotes and anything a log or a URL would have to escape do not.

>>> code_problem("0104600439931256"), code_problem("\\ud800"), code_problem("a\\x00b"), code_problem("Ж" * 513)
(None, 'code_not_text', 'code_has_nul', 'code_too_long')
>>> scan_id_problem(None), scan_id_problem("tsd-7:41"), scan_id_problem(""), scan_id_problem("a b")
(None, None, 'bad_scan_id', 'bad_scan_id')
"""

from __future__ import annotations

import string
from typing import Final

MAX_CODE_BYTES: Final = 1024
MAX_SCAN_ID: Final = 64
SCAN_ID_CHARS: Final = frozenset(string.ascii_letters + string.digits + "._:-")


def code_problem(code: str) -> str | None:
    """Why the journal cannot take `code` ("code_not_text", "code_has_nul", "code_too_long"), None when it can.

    The details a message names are in `code_details`.
    """
    if len(code) > MAX_CODE_BYTES:  # a character is at least one byte: no need to encode a megabyte
        return "code_too_long"
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        return "code_not_text"
    if size > MAX_CODE_BYTES:
        return "code_too_long"
    if "\x00" in code:
        return "code_has_nul"
    return None


def code_details(code: str, problem: str) -> dict[str, object]:
    """The parameters of `problem`'s message: where, or how big.

    >>> code_details("ab\\ud800", "code_not_text"), code_details("a\\x00", "code_has_nul")
    ({'char': 'U+D800', 'position': 3}, {'position': 2})
    """
    if problem == "code_too_long":
        return {"size": len(code.encode("utf-8", "surrogatepass")), "max": MAX_CODE_BYTES}
    if problem == "code_has_nul":
        return {"position": code.index("\x00") + 1}
    if problem == "code_not_text":
        at = next(i for i, c in enumerate(code) if "\ud800" <= c <= "\udfff")
        return {"char": f"U+{ord(code[at]):04X}", "position": at + 1}
    return {}


def scan_id_problem(scan_id: object) -> str | None:
    """The reason "bad_scan_id" unless `scan_id` is absent (None) or 1 to MAX_SCAN_ID characters of SCAN_ID_CHARS."""
    if scan_id is None:
        return None
    if not isinstance(scan_id, str) or not 0 < len(scan_id) <= MAX_SCAN_ID or not SCAN_ID_CHARS.issuperset(scan_id):
        return "bad_scan_id"
    return None
