"""Words a person reads, taken from the Babel catalogs, without Flask.

Every message is an English msgid marked with `N_` where it is defined (so `make i18n` extracts it) and
translated only at the edge — a page, a partial, the CLI, the API — in the reader's language, by `say`.
The catalogs are the same ones Flask-Babel serves to the templates (warehouse/translations), so a word
is translated once for the screen, the printout and the command line.

Domain errors derive from `WarehouseError`: a stable `reason` (what scripts and tests compare) and its
parameters; the words come from the class's `Phrasebook`. Every phrasebook registers itself, so one test
can render every reason in every language (tests/messages).

>>> say("Box", "ru"), say("Box", "kk"), say("Box", "en")
('Короб', 'Жәшік', 'Box')
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar, Final, Protocol

from babel.support import NullTranslations, Translations

LANGS: Final = ("ru", "kk", "en")
DEFAULT_LANG: Final = "ru"
CATALOGS: Final = Path(__file__).resolve().parent / "translations"


def N_(msgid: str) -> str:
    """Mark an English message for extraction (``pybabel extract -k N_``); `say` translates it later."""
    return msgid


class Labelled(Protocol):
    def label(self, lang: str) -> str: ...


@functools.cache
def catalog(lang: str) -> NullTranslations:
    """The compiled catalog of a language (English when the language is not one of ours)."""
    return Translations.load(str(CATALOGS), [lang if lang in LANGS else "en"])


def say(msgid: str, lang: str, /, **params: object) -> str:
    """`msgid` in `lang`, with `{name}` fields filled from `params`.

    A parameter that has a label of its own (a `warehouse.vocab` word: a level, a status) is told in the
    same language; anything else is shown as it is.
    """
    text = catalog(lang).gettext(msgid)
    if not params:
        return text
    return text.format(**{k: _word(v, lang) for k, v in params.items()})


def _word(value: object, lang: str) -> object:
    label = getattr(value, "label", None)
    return label(lang) if callable(label) else value


class Phrasebook:
    """The messages of one area: a stable reason → its English msgid (marked with `N_`)."""

    registry: ClassVar[dict[str, Phrasebook]] = {}

    def __init__(self, name: str, messages: Mapping[str, str]) -> None:
        if name in Phrasebook.registry:
            raise ValueError(f"a phrasebook named {name!r} exists already")
        self.name = name
        self.messages: Mapping[str, str] = dict(messages)
        Phrasebook.registry[name] = self

    def __contains__(self, reason: object) -> bool:
        return reason in self.messages

    def __iter__(self) -> Iterator[str]:
        return iter(self.messages)

    def say(self, reason: str, lang: str, /, **params: object) -> str:
        return say(self.messages[reason], lang, **params)


class WarehouseError(Exception):
    """A refusal a person reads: a stable `reason`, its parameters, and words from the catalogs.

    Each area has one subclass with its own `phrasebook`; the reason must be in it (a typo is a bug
    found at once, not a message missing on a screen).
    """

    phrasebook: ClassVar[Phrasebook]

    def __init__(self, reason: str, /, **params: object) -> None:
        if reason not in self.phrasebook:
            raise ValueError(f"{type(self).__name__}: no message for reason {reason!r}")
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def message(self, lang: str = DEFAULT_LANG) -> str:
        return self.phrasebook.say(self.reason, lang, **self.params)

    def __str__(self) -> str:
        return self.message("en")


def one_per_level(reason: str, params: Mapping[str, object], levelled: Mapping[str, str]) -> str:
    """The phrasebook entry of `reason`: `reason.<level>` when `levelled` names the parameter whose level the
    sentence declines or agrees with («в коробе», «паллета вскрыта»), else the reason itself.

    One message per level reads right in every language, where a nominative word put into a sentence
    does not.

    >>> one_per_level("opened", {"level": "box"}, {"opened": "level"}), one_per_level("changed", {}, {})
    ('opened.box', 'changed')
    """
    field = levelled.get(reason)
    return reason if field is None else f"{reason}.{params[field]}"


class LevelledError(WarehouseError):
    """A `WarehouseError` some of whose reasons have one message per level (see `one_per_level`).

    `reason` stays the stable reason ("inside_aggregate"); `wording` is the phrasebook entry it is told
    with ("inside_aggregate.box").
    """

    levelled: ClassVar[Mapping[str, str]] = {}  # reason → the parameter naming the level

    def __init__(self, reason: str, /, **params: object) -> None:
        self.wording = one_per_level(reason, params, self.levelled)
        super().__init__(self.wording, **params)
        self.reason = reason
        self.args = (reason,)

    def message(self, lang: str = DEFAULT_LANG) -> str:
        return self.phrasebook.say(self.wording, lang, **self.params)
