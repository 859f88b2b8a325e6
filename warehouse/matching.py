"""Receiving rules that need no database: scan classes, outcomes and how they are told to people.

The receiving service decides which rule applies (it owns the act's rows); this module names the
result and words it in Russian, Kazakh and English for the screen, the CLI and the API alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from warehouse.codes import from_layout


class ScanClass(StrEnum):
    MATCHED = "matched"
    DUPLICATE = "duplicate"
    SURPLUS = "surplus"
    FOREIGN = "foreign"
    WRONG_PRODUCT = "wrong_product"
    PRODUCT = "product"
    INVALID = "invalid"
    REVERSED = "reversed"  # an undo: the journal keeps both the scan and its reversal
    COMMAND = "command"  # a printed command code: mode switch, open a box, end receiving

    @property
    def is_error(self) -> bool:
        return self not in (ScanClass.MATCHED, ScanClass.REVERSED, ScanClass.COMMAND)


class Reason(StrEnum):
    CREDITED = "credited"  # the code and its declared contents are counted
    OPENED = "opened"  # full check: an aggregate's contents must now be scanned one by one
    ALREADY_SCANNED = "already_scanned"
    INSIDE_CREDITED = "inside_credited"  # its box or pallet was already counted
    CONTENTS_SCANNED = "contents_scanned"  # everything inside it was scanned already
    SURPLUS_AGAIN = "surplus_again"
    NOT_IN_ACT = "not_in_act"
    OTHER_ACT = "other_act"
    GTIN_NOT_IN_ACT = "gtin_not_in_act"
    PRODUCT_BARCODE = "product_barcode"
    UNREADABLE = "unreadable"
    UNDONE = "undone"
    NOTHING_TO_UNDO = "nothing_to_undo"
    MODE_FULL_CHECK = "mode_full_check"
    MODE_TRUSTED = "mode_trusted"
    OPEN_NEXT = "open_next"
    CLOSING = "closing"


SOUND = {  # the three sounds staff can tell apart without looking
    ScanClass.MATCHED: "ok",
    ScanClass.REVERSED: "ok",
    ScanClass.COMMAND: "ok",
    ScanClass.DUPLICATE: "duplicate",
}


def sound_of(scan_class: ScanClass) -> str:
    return SOUND.get(scan_class, "error")


LEVEL_WORDS: Mapping[str, Mapping[str, str]] = {
    "ru": {"pallet": "паллета", "box": "короб", "block": "блок", "pack": "пачка"},
    "kk": {"pallet": "паллета", "box": "жәшік", "block": "блок", "pack": "қорап"},
    "en": {"pallet": "pallet", "box": "box", "block": "block", "pack": "pack"},
}

MESSAGES: Mapping[Reason, Mapping[str, str]] = {
    Reason.CREDITED: {
        "ru": "Засчитано: {level} {code}{inside}",
        "kk": "Есепке алынды: {level} {code}{inside}",
        "en": "Counted: {level} {code}{inside}",
    },
    Reason.OPENED: {
        "ru": "{level} {code} вскрыт: сканируйте его содержимое",
        "kk": "{level} {code} ашылды: ішіндегісін сканерлеңіз",
        "en": "{level} {code} opened: scan its contents",
    },
    Reason.ALREADY_SCANNED: {
        "ru": "Уже засчитано: этот код сканировали в {time}",
        "kk": "Бұрын есепке алынған: бұл код {time} сканерленген",
        "en": "Already counted: this code was scanned at {time}",
    },
    Reason.INSIDE_CREDITED: {
        "ru": "Уже засчитано в составе: {parent_level} {parent}",
        "kk": "Құрамында есепке алынған: {parent_level} {parent}",
        "en": "Already counted in {parent_level} {parent}",
    },
    Reason.CONTENTS_SCANNED: {
        "ru": "Уже засчитано: всё его содержимое отсканировано",
        "kk": "Бұрын есепке алынған: ішіндегінің бәрі сканерленген",
        "en": "Already counted: everything inside it was scanned",
    },
    Reason.SURPLUS_AGAIN: {
        "ru": "Этот излишек уже записан",
        "kk": "Бұл артық бұрын жазылған",
        "en": "This surplus code is already recorded",
    },
    Reason.NOT_IN_ACT: {
        "ru": "Нет в этом акте: излишек",
        "kk": "Бұл актіде жоқ: артық",
        "en": "Not in this act: surplus",
    },
    Reason.OTHER_ACT: {
        "ru": "Относится к акту № {number} от {date}",
        "kk": "{date} күнгі № {number} актіге тиесілі",
        "en": "Belongs to act № {number} of {date}",
    },
    Reason.GTIN_NOT_IN_ACT: {
        "ru": "Товара {gtin} нет в этом акте",
        "kk": "{gtin} тауары бұл актіде жоқ",
        "en": "Product {gtin} is not in this act",
    },
    Reason.PRODUCT_BARCODE: {
        "ru": "Это штрихкод товара: сканируйте Data Matrix",
        "kk": "Бұл тауардың штрихкоды: Data Matrix-ті сканерлеңіз",
        "en": "This is the product barcode: scan the Data Matrix",
    },
    Reason.UNREADABLE: {
        "ru": "Код не распознан: {error}",
        "kk": "Код танылмады: {error}",
        "en": "Code not recognised: {error}",
    },
    Reason.UNDONE: {
        "ru": "Отменено сканирование {code}: снято со счёта {n}",
        "kk": "{code} сканерлеуі болдырылмады: есептен {n} алынды",
        "en": "Scan of {code} undone: {n} taken off the count",
    },
    Reason.NOTHING_TO_UNDO: {
        "ru": "Отменять нечего: на этой станции нет засчитанных сканирований",
        "kk": "Болдырмайтын ештеңе жоқ: бұл станцияда есептелген сканерлеу жоқ",
        "en": "Nothing to undo: this station has no counted scan",
    },
    Reason.MODE_FULL_CHECK: {
        "ru": "Режим полной проверки: короба и паллеты вскрываются, сканируйте содержимое",
        "kk": "Толық тексеру режимі: жәшіктер мен паллеталар ашылады, ішіндегісін сканерлеңіз",
        "en": "Full check: boxes and pallets are opened, scan their contents",
    },
    Reason.MODE_TRUSTED: {
        "ru": "Доверительный режим: этикетка короба засчитывает его содержимое",
        "kk": "Сенім режимі: жәшік заттаңбасы оның ішіндегісін есепке алады",
        "en": "Trusted mode: a box label counts its declared contents",
    },
    Reason.OPEN_NEXT: {
        "ru": "Следующий отсканированный короб или паллета будет вскрыт",
        "kk": "Келесі сканерленген жәшік немесе паллета ашылады",
        "en": "The next box or pallet scanned will be opened",
    },
    Reason.CLOSING: {
        "ru": "Приёмка завершена: результат ждёт решения",
        "kk": "Қабылдау аяқталды: нәтиже шешімді күтеді",
        "en": "Receiving ended: the result waits for the decision",
    },
}

# Printed command codes a scanner reads (docs/scanners.md). '#' is outside GS1 set 82, so no marking
# code can ever be taken for a command, nor a command for a code.
COMMAND_PREFIX = "#WH:"


class Command(StrEnum):
    UNDO = "UNDO"  # undo this station's last counted scan (journaled as a reversal)
    FULL_CHECK = "FULL_CHECK"
    TRUSTED = "TRUSTED"
    OPEN = "OPEN"  # the next aggregate scanned at this station is opened, not counted whole
    CLOSE = "CLOSE"  # end receiving of the act


def command_of(raw: str) -> Command | None:
    """The command a scan carries, also when a Russian or Kazakh layout typed it (# is № there)."""
    text = raw.strip()
    if not text.startswith(("#", "№", "І")):  # Shift+3 under US, Russian and Kazakh layouts
        return None
    for candidate in (text, from_layout(text, "ru"), from_layout(text, "kk")):
        upper = candidate.upper()
        if upper.startswith(COMMAND_PREFIX):
            try:
                return Command(upper[len(COMMAND_PREFIX) :])
            except ValueError:
                return None
    return None


INSIDE: Mapping[str, str] = {
    "ru": " (с содержимым: {n})",
    "kk": " (ішіндегісімен: {n})",
    "en": " (with {n} inside)",
}


@dataclass(frozen=True)
class Outcome:
    """What one scan did, in words that do not depend on the language yet."""

    scan_class: ScanClass
    reason: Reason
    args: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str = "ru") -> str:
        lang = lang if lang in LEVEL_WORDS else "ru"
        words = LEVEL_WORDS[lang]
        args = dict(self.args)
        for key in ("level", "parent_level"):
            if key in args:
                args[key] = words.get(args[key], args[key])
        inside = int(args.get("inside", "0") or 0)
        args["inside"] = INSIDE[lang].format(n=inside) if inside else ""
        if "level" in args and self.reason == Reason.OPENED:
            args["level"] = args["level"][:1].upper() + args["level"][1:]
        template = MESSAGES[self.reason][lang]
        return template.format_map(_Default(args))


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
