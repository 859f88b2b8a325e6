"""Check digits of the numbers codes and acts carry: GS1 keys (GTIN, SSCC) and the Kazakh БИН/ИИН.

Pure and defined once: codes, act files and outgoing acts all check with these.
"""

from __future__ import annotations

from typing import Final

__all__ = ["bin_check_digit", "gs1_check_digit", "gs1_key_ok", "valid_bin"]


def gs1_check_digit(digits: str) -> int:
    """Mod-10 check digit of a GS1 key (GTIN, SSCC) given without its check digit: weights 3, 1, 3, … from the right.

    >>> gs1_check_digit("460043993125")  # a GTIN-13 body
    6
    """
    total = 0
    weight = 3
    for ch in reversed(digits):
        total += (ord(ch) - 48) * weight
        weight = 4 - weight
    return (10 - total % 10) % 10


def gs1_key_ok(key: str) -> bool:
    """True when the last digit of a GTIN-8/12/13/14 or SSCC-18 is its check digit."""
    return len(key) >= 2 and key.isascii() and key.isdigit() and gs1_check_digit(key[:-1]) == ord(key[-1]) - 48


_WEIGHTS_1: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def bin_check_digit(body: str) -> int | None:
    """The 12th digit of a Kazakh БИН/ИИН for its first eleven digits, or None when no number has them.

    Weights 1..11 mod 11; a result of 10 means a second round with weights 3..11, 1, 2; 10 again: invalid.

    >>> bin_check_digit("12345678901")  # the first round gives 10, the second 3
    3
    """
    digits = [int(d) for d in body]
    check = sum(w * d for w, d in zip(_WEIGHTS_1, digits, strict=True)) % 11
    if check == 10:
        check = sum(w * d for w, d in zip(_WEIGHTS_2, digits, strict=True)) % 11
    return None if check == 10 else check


def valid_bin(value: str) -> bool:
    """Twelve digits whose last is the check digit of the first eleven.

    >>> valid_bin("123456789013"), valid_bin("123456789012"), valid_bin("12345678901")
    (True, False, False)
    """
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    return bin_check_digit(value[:11]) == int(value[11])
