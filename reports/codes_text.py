"""Codes as text people and spreadsheets can hold: the GS1 HRI form and a visible-separator form.

A stored code keeps GS (0x1D) between GS1 element strings; GS has no glyph and openpyxl refuses it
(and every other C0 control) in a cell. Two printable forms stand in for it:

- ``hri(code)``: ``(01)04600439931256(21)JgXJ5.T(8005)112000(93)0001``, what GS1 prints under a symbol.
  Printed HRI is ambiguous when a value itself contains ``(``; ``hri(code, escape=True)`` writes a
  literal ``(`` as ``\\(`` and ``\\`` as ``\\\\`` (the bracketed-syntax convention) so that
  ``raw_from_hri`` can give the exact code back.
- ``visible_gs(code)``: the code with every C0 control shown as its Unicode Control Picture
  (GS -> ``␝`` U+241D); ``raw_from_visible`` reverses it.

>>> code = "010460043993125621JgXJ5.T\\x1d8005112000\\x1d930001"
>>> hri(code)
'(01)04600439931256(21)JgXJ5.T(8005)112000(93)0001'
>>> raw_from_hri(hri(code, escape=True)) == code
True
>>> visible_gs(code)
'010460043993125621JgXJ5.T␝8005112000␝930001'
"""

from __future__ import annotations

import re

GS = "\x1d"

# AI length and, for the predefined fixed-length AIs, value length, keyed by the AI's first two digits
# (GS1 General Specifications, fig. 7.8.5-2 and the AI table). Fixed-length values need no GS after
# them; every other value runs to the next GS or to the end. 8005 is not predefined: GS follows it.
_AI_PREFIX: dict[str, tuple[int, int | None]] = {
    "00": (2, 18),
    "01": (2, 14),
    "02": (2, 14),
    "10": (2, None),
    "11": (2, 6),
    "12": (2, 6),
    "13": (2, 6),
    "15": (2, 6),
    "16": (2, 6),
    "17": (2, 6),
    "20": (2, 2),
    "21": (2, None),
    "22": (2, None),
    "23": (3, None),
    "24": (3, None),
    "25": (3, None),
    "30": (2, None),
    "37": (2, None),
    "39": (4, None),
    "40": (3, None),
    "41": (3, 13),
    "42": (3, None),
    "43": (4, None),
    "70": (4, None),
    "71": (3, None),
    "72": (4, None),
    "80": (4, None),
    "81": (4, None),
    "82": (4, None),
    **{str(p): (4, 6) for p in range(31, 37)},
    **{str(p): (2, None) for p in range(90, 100)},
}
_DIGITS = re.compile(r"[0-9]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]+")  # GS1 data is ASCII; anything else is not an element string
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PICTURE = re.compile(r"[\u2400-\u241f\u2421]")


def split_ai(code: str) -> tuple[tuple[str, str], ...] | None:
    """The (AI, value) pairs of a raw GS1 element string, or None when ``code`` is not one.

    Strict on purpose: a redundant GS (after a fixed-length value, leading or trailing) makes the
    code "not canonical" so that printing it through the AI form could not change its bytes.

    >>> split_ai("00487123456789012345")
    (('00', '487123456789012345'),)
    >>> split_ai("04600439931256JgXJ5.T1120AbC9") is None  # a pack code has no AIs
    True
    """
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(code)
    if n == 0:
        return None
    while i < n:
        spec = _AI_PREFIX.get(code[i : i + 2])
        if spec is None:
            return None
        ai_len, fixed = spec
        ai = code[i : i + ai_len]
        if len(ai) != ai_len or not _DIGITS.fullmatch(ai):
            return None
        i += ai_len
        if fixed is not None:
            value = code[i : i + fixed]
            if len(value) != fixed or not _DIGITS.fullmatch(value):
                return None
            i += fixed
        else:
            end = code.find(GS, i)
            if end == -1:
                end = n
            elif end == n - 1:
                return None  # trailing GS
            value = code[i:end]
            if not value or not _PRINTABLE.fullmatch(value):
                return None
            i = end + 1 if end < n else n
        pairs.append((ai, value))
    return tuple(pairs)


def is_gs1(code: str, level: str | None = None) -> bool:
    """True for a GS1 element string. A pack code never is: it has no AIs, whatever its digits."""
    return level != "pack" and split_ai(code) is not None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("(", "\\(")


def hri(code: str, level: str | None = None, *, escape: bool = False) -> str:
    """The human-readable ``(AI)value…`` form of a GS1 element string; any other code unchanged.

    ``escape=True`` makes the result reversible (see the module docstring); labels print the plain
    form, which is what GS1 specifies under a symbol.
    """
    text = gs1_hri(code, level, escape=escape)
    return code if text is None else text


def gs1_hri(code: str, level: str | None = None, *, escape: bool = False) -> str | None:
    """Like ``hri`` but None for a code that is not a GS1 element string (a pack, a custom aggregate)."""
    pairs = None if level == "pack" else split_ai(code)
    if pairs is None:
        return None
    if escape:
        return "".join(f"({ai}){_escape(value)}" for ai, value in pairs)
    return "".join(f"({ai}){value}" for ai, value in pairs)


def hri_parts(code: str, level: str | None = None) -> list[str]:
    """The HRI split into ``(AI)value`` elements, for wrapping a long code at element boundaries."""
    pairs = None if level == "pack" else split_ai(code)
    if pairs is None:
        return [code]
    return [f"({ai}){value}" for ai, value in pairs]


def raw_from_hri(text: str) -> str:
    """The raw element string (GS between variable-length values) from ``hri(code, escape=True)``.

    Raises ValueError when ``text`` is not an escaped HRI string.

    >>> raw_from_hri(r"(01)04600439931256(21)A\\(1)B(93)0001")
    '010460043993125621A(1)B\\x1d930001'
    """
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "(":
            raise ValueError(f"expected '(' at position {i} of {text!r}")
        close = text.find(")", i)
        ai = text[i + 1 : close] if close != -1 else ""
        spec = _AI_PREFIX.get(ai[:2])
        if spec is None or len(ai) != spec[0] or not _DIGITS.fullmatch(ai):
            raise ValueError(f"unknown application identifier {ai!r} in {text!r}")
        i = close + 1
        chars: list[str] = []
        while i < n and text[i] != "(":
            if text[i] == "\\" and i + 1 < n:
                i += 1
            chars.append(text[i])
            i += 1
        pairs.append((ai, "".join(chars)))
    if not pairs:
        raise ValueError("empty HRI text")
    out: list[str] = []
    for index, (ai, value) in enumerate(pairs):
        out.append(ai + value)
        fixed = _AI_PREFIX[ai[:2]][1]
        if fixed is None and index < len(pairs) - 1:
            out.append(GS)
    return "".join(out)


def visible_gs(code: str) -> str:
    """The code with each C0 control (and DEL) as its Control Picture: GS -> '␝' (U+241D)."""
    if not _CONTROL.search(code):
        return code
    return _CONTROL.sub(lambda m: chr(0x2421) if m[0] == "\x7f" else chr(0x2400 + ord(m[0])), code)


def raw_from_visible(text: str) -> str:
    """Reverse ``visible_gs``: Control Pictures back to the control characters they stand for."""
    if not _PICTURE.search(text):
        return text
    return _PICTURE.sub(lambda m: "\x7f" if m[0] == "\u2421" else chr(ord(m[0]) - 0x2400), text)
