"""A fixed US-QWERTY keymap from Linux key codes to characters.

A keyboard-mode scanner sends key *positions* as if typing on a US keyboard. Reading evdev key codes and
mapping them here, never through the OS layout, means a Russian or Kazakh layout cannot turn `q` into `й`
or a GTIN digit into `ә`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from evdev import ecodes as e

GS: Final = "\x1d"

_LETTERS: Final = {
    e.KEY_A: "a",
    e.KEY_B: "b",
    e.KEY_C: "c",
    e.KEY_D: "d",
    e.KEY_E: "e",
    e.KEY_F: "f",
    e.KEY_G: "g",
    e.KEY_H: "h",
    e.KEY_I: "i",
    e.KEY_J: "j",
    e.KEY_K: "k",
    e.KEY_L: "l",
    e.KEY_M: "m",
    e.KEY_N: "n",
    e.KEY_O: "o",
    e.KEY_P: "p",
    e.KEY_Q: "q",
    e.KEY_R: "r",
    e.KEY_S: "s",
    e.KEY_T: "t",
    e.KEY_U: "u",
    e.KEY_V: "v",
    e.KEY_W: "w",
    e.KEY_X: "x",
    e.KEY_Y: "y",
    e.KEY_Z: "z",
}

_MAIN: Final = {
    e.KEY_1: ("1", "!"),
    e.KEY_2: ("2", "@"),
    e.KEY_3: ("3", "#"),
    e.KEY_4: ("4", "$"),
    e.KEY_5: ("5", "%"),
    e.KEY_6: ("6", "^"),
    e.KEY_7: ("7", "&"),
    e.KEY_8: ("8", "*"),
    e.KEY_9: ("9", "("),
    e.KEY_0: ("0", ")"),
    e.KEY_MINUS: ("-", "_"),
    e.KEY_EQUAL: ("=", "+"),
    e.KEY_LEFTBRACE: ("[", "{"),
    e.KEY_RIGHTBRACE: ("]", "}"),
    e.KEY_BACKSLASH: ("\\", "|"),
    e.KEY_SEMICOLON: (";", ":"),
    e.KEY_APOSTROPHE: ("'", '"'),
    e.KEY_GRAVE: ("`", "~"),
    e.KEY_COMMA: (",", "<"),
    e.KEY_DOT: (".", ">"),
    e.KEY_SLASH: ("/", "?"),
    e.KEY_SPACE: (" ", " "),
    # ISO keyboards' extra key between left Shift and Z; a US-configured scanner never sends it, but
    # if it does, this is what a US/ISO mapping prints.
    e.KEY_102ND: ("\\", "|"),
}

KEYPAD_DIGITS: Final[Mapping[int, int]] = MappingProxyType(
    {
        e.KEY_KP0: 0,
        e.KEY_KP1: 1,
        e.KEY_KP2: 2,
        e.KEY_KP3: 3,
        e.KEY_KP4: 4,
        e.KEY_KP5: 5,
        e.KEY_KP6: 6,
        e.KEY_KP7: 7,
        e.KEY_KP8: 8,
        e.KEY_KP9: 9,
    }
)
"""Keypad digits: the keys of Alt-code sequences. Outside an Alt sequence they type digits (NumLock is
assumed on: scanners that emulate the keypad rely on it, and we never see the host's NumLock LED)."""

_KEYPAD: Final = {
    **{code: (str(d), str(d)) for code, d in KEYPAD_DIGITS.items()},
    e.KEY_KPMINUS: ("-", "-"),
    e.KEY_KPPLUS: ("+", "+"),
    e.KEY_KPASTERISK: ("*", "*"),
    e.KEY_KPSLASH: ("/", "/"),
    e.KEY_KPDOT: (".", "."),
    e.KEY_KPEQUAL: ("=", "="),
    e.KEY_KPCOMMA: (",", ","),
}

CHARACTERS: Final[Mapping[int, tuple[str, str]]] = MappingProxyType(
    {
        **{code: (ch, ch.upper()) for code, ch in _LETTERS.items()},
        **_MAIN,
        **_KEYPAD,
    }
)
"""key code -> (character without Shift, character with Shift)."""

LETTERS: Final = frozenset(_LETTERS)
"""Keys CapsLock affects (letters only, as on every PC keyboard)."""

CONTROL: Final[Mapping[int, str]] = MappingProxyType(
    {
        **{code: chr(ord(ch) - ord("a") + 1) for code, ch in _LETTERS.items()},  # Ctrl+A = 0x01 … Ctrl+Z = 0x1A
        e.KEY_LEFTBRACE: "\x1b",  # Ctrl+[ = ESC
        e.KEY_BACKSLASH: "\x1c",  # Ctrl+\ = FS
        e.KEY_RIGHTBRACE: GS,  # Ctrl+] = GS: how many scanners type the GS1 separator
        e.KEY_6: "\x1e",  # Ctrl+^ = RS
        e.KEY_MINUS: "\x1f",  # Ctrl+_ = US
    }
)
"""Ctrl + key -> ASCII control character, as a terminal reads it. Scanners in a "control characters as
Ctrl+key" mode send GS this way; the other control characters are kept so the parser can refuse them."""

META: Final = frozenset({e.KEY_LEFTMETA, e.KEY_RIGHTMETA})
IGNORED: Final = frozenset({e.KEY_NUMLOCK, e.KEY_SCROLLLOCK})
"""Keys that change no text and are not unknown (lock keys whose state a scanner may poke)."""

DEFAULT_TERMINATORS: Final[Mapping[int, str]] = MappingProxyType(
    {
        e.KEY_ENTER: "enter",
        e.KEY_KPENTER: "kp_enter",
        e.KEY_TAB: "tab",
    }
)


def key_code(name: str | int) -> int:
    """The evdev key code for `KEY_F8`, `f8` or 66. Raises ValueError for a name evdev does not know.

    >>> key_code("KEY_F8"), key_code("f8"), key_code(66)
    (66, 66, 66)
    """
    if isinstance(name, int):
        return name
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("KEY_"):
        text = "KEY_" + text
    code = e.ecodes.get(text)
    if code is None or not text.startswith("KEY_"):
        raise ValueError(f"unknown key name: {name!r} (use evdev names such as KEY_F8, KEY_ENTER)")
    return int(code)


def key_name(code: int) -> str:
    """A short lower-case name for a key code: 66 -> "f8", used to name custom terminators."""
    name = e.KEY.get(code)
    if isinstance(name, tuple | list):
        name = name[0]
    if not name:
        return f"key_{code}"
    return str(name).removeprefix("KEY_").lower()


def typing_table() -> dict[str, tuple[int, bool]]:
    """character -> (key code, Shift needed) on the main block: what a scanner presses to type it."""
    table: dict[str, tuple[int, bool]] = {}
    for code, (plain, shifted) in {**{c: CHARACTERS[c] for c in _LETTERS}, **_MAIN}.items():
        if code == e.KEY_102ND:
            continue  # backslash and bar come from KEY_BACKSLASH on a US keyboard
        table.setdefault(plain, (code, False))
        table.setdefault(shifted, (code, True))
    return table
