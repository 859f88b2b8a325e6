"""Keyboard layouts: text a US-QWERTY scanner typed while a Russian or Kazakh layout was active, put back.

A USB scanner in keyboard mode sends key positions; the active layout turns them into Cyrillic (q → й) or,
with the Kazakh layout, even the digits into Kazakh letters. Pure: `warehouse.codes` repairs with it.

>>> from_layout("йцук"), from_layout("әі", "kk")
('qwer', '23')
"""

from __future__ import annotations

from typing import Final

__all__ = ["KAZAKH_LETTERS", "KZ", "RU", "US", "from_layout", "likely_layouts", "typed_in_layout"]

US: Final = ("`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./", '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?')
RU: Final = ("ё1234567890-=йцукенгшщзхъ\\фывапролджэячсмитьбю.", 'Ё!"№;%:?*()_+ЙЦУКЕНГШЩЗХЪ/ФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,')
# Windows "Kazakh" layout: Kazakh letters replace the digits, which only AltGr or another layout can type.
KZ: Final = ('("әіңғ,.үұқөһйцукенгшщзхъ\\фывапролджэячсмитьбю№', ")!ӘІҢҒ;:ҮҰҚӨҺЙЦУКЕНГШЩЗХЪ/ФЫВАПРОЛДЖЭЯЧСМИТЬБЮ?")


def _layout_table(layout: tuple[str, str]) -> dict[int, str]:
    table: dict[int, str] = {}
    for typed, us in zip(layout[0] + layout[1], US[0] + US[1], strict=True):
        table.setdefault(ord(typed), us)
    return table


_FROM_RU: Final = _layout_table(RU)
_FROM_KZ: Final = _layout_table(KZ)
KAZAKH_LETTERS: Final = frozenset("әіңғүұқөһӘІҢҒҮҰҚӨҺ")


def typed_in_layout(text: str) -> bool:
    """Cyrillic present and no Latin letter: every letter key of a Russian or Kazakh layout types Cyrillic, so
    text with both was not typed through one layout, and mapping it would invent a code."""
    return any("\u0400" <= ch <= "\u04ff" or ch == "№" for ch in text) and not any(
        "a" <= ch <= "z" or "A" <= ch <= "Z" for ch in text
    )


def from_layout(text: str, layout: str = "ru") -> str:
    """Key-position repair: what a US-QWERTY scanner typed, given the text a Russian or Kazakh layout made."""
    return text.translate(_FROM_KZ if layout == "kk" else _FROM_RU)


def likely_layouts(text: str) -> tuple[str, ...]:
    """The layouts `text` may have been typed through, the likelier first (Kazakh letters mean Kazakh);
    none when it was not typed through one Cyrillic layout.

    >>> likely_layouts("ИФВПУ-0001"), likely_layouts("ИФВПУөқққ"), likely_layouts("BADGE-0001")
    (('ru', 'kk'), ('kk', 'ru'), ())
    """
    if not typed_in_layout(text):
        return ()
    return ("kk", "ru") if any(ch in KAZAKH_LETTERS for ch in text) else ("ru", "kk")
