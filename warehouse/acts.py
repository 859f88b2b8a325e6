"""Transfer acts as files: the `transfer-act/1` exchange format in JSON, CSV and XLSX.

Pure and streaming. A reader yields one `ActLine` at a time and never holds the act in memory; a writer
takes lines one at a time. Nothing here knows Flask or the database: the import service stores the lines
and runs the whole-file checks (duplicates, unknown parents, skipped levels) in SQL, and `check_tree` is
the in-memory reference for those checks. The format is documented in docs/exchange-format.md.

    >>> header, lines = generate_act(pallets=1, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=2)
    >>> [line.level.value for line in lines]
    ['pallet', 'box', 'block', 'pack', 'pack']
"""

from __future__ import annotations

import csv
import datetime
import functools
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Final

import ijson

from warehouse import codes
from warehouse.codes import Kind

__all__ = [
    "FORMAT",
    "GS_TEXT",
    "MAX_PROBLEMS",
    "ActFormatError",
    "ActHeader",
    "ActLine",
    "ActReader",
    "BasisDocument",
    "Level",
    "Party",
    "Problem",
    "Reason",
    "check_tree",
    "generate_act",
    "load_act",
    "read_act",
    "write_csv",
    "write_json",
    "write_xlsx",
]

FORMAT: Final = "transfer-act/1"
GS: Final = "\x1d"
GS_TEXT: Final = "<GS>"  # how CSV and XLSX show GS: the usual scanner substitute, which codes.parse repairs
GS_PICTURE: Final = "\u241d"  # "␝", also accepted on reading: it can never be part of a real code
MAX_PROBLEMS: Final = 1000
XLSX_MAX_ROWS: Final = 1_048_576  # Excel refuses to open a sheet with more rows

# Longest values a line or a header may carry, so that every line a reader yields fits the import
# service's columns (acts.number 100, act_codes.code 120 / identity 100, name 300, vat a 32-bit integer).
MAX_CODE: Final = 120
MAX_IDENTITY: Final = 100
MAX_NAME: Final = 300
MAX_NUMBER: Final = 100
MAX_SHORT_TEXT: Final = 50  # turnover, basis type and number
MAX_PRICE: Final = 10**15
MAX_VAT: Final = 2**31 - 1
MAX_BASIS: Final = 100
# A JSON object that lists its "children" before its own "code" (sorted keys do that) cannot be
# streamed: its subtree waits in memory until the code arrives. Bounded so a hostile file cannot exhaust it.
MAX_BUFFERED_LINES: Final = 300_000

_BUF: Final = 1 << 16


# ---------------------------------------------------------------------------------------------------
# The data


class Level(StrEnum):
    """Packaging level of a code in an act."""

    PALLET = "pallet"
    BOX = "box"
    BLOCK = "block"
    PACK = "pack"

    @property
    def rank(self) -> int:
        """pallet 3 > box 2 > block 1 > pack 0: a code's rank is below the rank of what contains it."""
        return _RANK[self]


_RANK: Final = {Level.PALLET: 3, Level.BOX: 2, Level.BLOCK: 1, Level.PACK: 0}
# warehouse.codes fixes the values of Kind (pack|block|sscc|aggregate|product|invalid), so look them up by value.
_PACK, _BLOCK, _SSCC, _AGGREGATE, _PRODUCT, _INVALID = (
    Kind(v) for v in ("pack", "block", "sscc", "aggregate", "product", "invalid")
)
_LEVELS: Final = {level.value: level for level in Level}
# Which kinds of code may stand at a level. Boxes and pallets carry an SSCC or a custom aggregation code.
_FITS: Final = {
    Level.PALLET: frozenset({_SSCC, _AGGREGATE}),
    Level.BOX: frozenset({_SSCC, _AGGREGATE}),
    Level.BLOCK: frozenset({_BLOCK}),
    Level.PACK: frozenset({_PACK}),
}


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    bin: str  # БИН/ИИН: 12 digits


@dataclass(frozen=True, slots=True)
class BasisDocument:
    type: str  # "ESF" (ЭСФ), "SNT" (СНТ), …
    number: str
    date: str  # ISO YYYY-MM-DD, checked; kept as text so it can go into a JSON column as it is


@dataclass(frozen=True, slots=True)
class ActHeader:
    format: str
    number: str
    date: datetime.date
    sender: Party
    receiver: Party
    basis: tuple[BasisDocument, ...] = ()
    turnover: str | None = None


@dataclass(slots=True, unsafe_hash=True)  # not frozen: its __init__ cost 2 µs a line, a sixth of reading
class ActLine:
    """One code of an act. Equal lines compare equal wherever they were read from (location aside).
    Treat it as immutable (`dataclasses.replace` makes a changed copy): it is hashed by its fields.

    `code` is normalized (GS as U+001D); `identity` is what matching uses (pack: first 21 characters,
    block: 01+GTIN+21+serial, SSCC: its 18 digits, custom aggregate: the whole code); `parent_code` is
    the *identity* of the containing code, None at the top. `gtin` is the line's GTIN, or the code's
    when the line gives none. `declared_children` is False when the sender did not declare the contents
    (JSON: "children" absent).
    """

    location: str = field(compare=False)
    code: str
    identity: str
    kind: Kind
    level: Level
    parent_code: str | None
    gtin: str | None = None
    name: str | None = None
    price: int | None = None  # tiyn
    vat: int | None = None  # VAT amount included in the price, tiyn
    declared_children: bool = False


# ---------------------------------------------------------------------------------------------------
# Problems


class Reason(StrEnum):
    """Why a file or a line is refused. The values are stable: the API and the CLI print them."""

    # the file as a whole
    UNSUPPORTED_FILE = "unsupported_file"
    UNREADABLE_FILE = "unreadable_file"
    EMPTY_FILE = "empty_file"
    ENCODING = "encoding"
    MALFORMED = "malformed"
    WRONG_FORMAT = "wrong_format"
    NO_CODES = "no_codes"
    TOO_MANY_PROBLEMS = "too_many_problems"
    CHILDREN_FIRST_TOO_LARGE = "children_first_too_large"
    # fields, columns, rows
    MISSING_FIELD = "missing_field"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE_FIELD = "duplicate_field"
    WRONG_TYPE = "wrong_type"
    TOO_LONG = "too_long"
    INVALID_TEXT = "invalid_text"
    INVALID_DATE = "invalid_date"
    INVALID_BIN = "invalid_bin"
    INVALID_CHOICE = "invalid_choice"
    HEADER_AFTER_LINES = "header_after_lines"
    EXTRA_CELLS = "extra_cells"
    NUMBER_NOT_TEXT = "number_not_text"
    FIELD_AFTER_CHILDREN = "field_after_children"
    # one line
    MISSING_CODE = "missing_code"
    INVALID_CODE = "invalid_code"
    PRODUCT_BARCODE = "product_barcode"
    OTHER_PRODUCT_GROUP = "other_product_group"
    UNKNOWN_LEVEL = "unknown_level"
    LEVEL_MISMATCH = "level_mismatch"
    LEVEL_ORDER = "level_order"
    INVALID_GTIN = "invalid_gtin"
    GTIN_MISMATCH = "gtin_mismatch"
    INVALID_PRICE = "invalid_price"
    INVALID_VAT = "invalid_vat"
    # the whole tree (check_tree here, SQL in the import service)
    DUPLICATE_CODE = "duplicate_code"
    UNKNOWN_PARENT = "unknown_parent"
    CYCLE = "cycle"
    LEVEL_SKIPPED = "level_skipped"
    DUPLICATE_ACT = "duplicate_act"  # raised by the import service


# Templates take `{detail}` and the problem's args; an arg named `x_ru` replaces `x` in Russian.
_MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    Reason.UNSUPPORTED_FILE: {
        "ru": "Неподдерживаемый тип файла «{detail}»: акт должен быть файлом .json, .csv или .xlsx",
        "kk": "«{detail}» файл түріне қолдау көрсетілмейді: акт .json, .csv немесе .xlsx файлы болуы керек",
        "en": "Unsupported file type “{detail}”: an act must be a .json, .csv or .xlsx file",
    },
    Reason.UNREADABLE_FILE: {
        "ru": "Не удалось прочитать файл: {detail}",
        "kk": "Файлды оқу мүмкін болмады: {detail}",
        "en": "The file cannot be read: {detail}",
    },
    Reason.EMPTY_FILE: {"ru": "Файл пустой", "kk": "Файл бос", "en": "The file is empty"},
    Reason.ENCODING: {
        "ru": "Файл не в кодировке UTF-8 ({detail})",
        "kk": "Файл UTF-8 кодтауында емес ({detail})",
        "en": "The file is not UTF-8 text ({detail})",
    },
    Reason.MALFORMED: {
        "ru": "Файл повреждён или имеет неверную структуру: {detail}",
        "kk": "Файл бүлінген немесе құрылымы дұрыс емес: {detail}",
        "en": "The file is damaged or not in the expected form: {detail}",
    },
    Reason.WRONG_FORMAT: {
        "ru": "Это не файл формата transfer-act/1 (format: «{detail}»)",
        "kk": "Бұл transfer-act/1 форматындағы файл емес (format: «{detail}»)",
        "en": "Not a transfer-act/1 file (format: “{detail}”)",
    },
    Reason.NO_CODES: {
        "ru": "В акте нет ни одного кода",
        "kk": "Актіде бірде-бір код жоқ",
        "en": "The act lists no codes",
    },
    Reason.TOO_MANY_PROBLEMS: {
        "ru": "…и ещё проблем: {detail}",
        "kk": "…және тағы {detail} қате",
        "en": "…and {detail} more problems",
    },
    Reason.CHILDREN_FIRST_TOO_LARGE: {
        "ru": "Агрегат перечисляет в «children» больше {detail} кодов раньше своего «code»: "
        "запишите «code» и «level» первыми",
        "kk": "Агрегат өз «code» өрісінен бұрын «children» ішінде {detail} кодтан көп береді: "
        "«code» және «level» өрістерін алдымен жазыңыз",
        "en": "An aggregate lists more than {detail} codes in “children” before its own “code”: "
        "put “code” and “level” first",
    },
    Reason.MISSING_FIELD: {
        "ru": "Нет обязательного поля «{detail}»",
        "kk": "Міндетті «{detail}» өрісі жоқ",
        "en": "Required field “{detail}” is missing",
    },
    Reason.MISSING_COLUMN: {
        "ru": "Нет столбца «{detail}»",
        "kk": "«{detail}» бағаны жоқ",
        "en": "Column “{detail}” is missing",
    },
    Reason.UNKNOWN_FIELD: {
        "ru": "Неизвестное поле «{detail}» (опечатка в названии?)",
        "kk": "Белгісіз «{detail}» өрісі (атауы қате жазылған болуы мүмкін)",
        "en": "Unknown field “{detail}” (a misspelt name?)",
    },
    Reason.DUPLICATE_FIELD: {
        "ru": "Поле «{detail}» указано несколько раз",
        "kk": "«{detail}» өрісі бірнеше рет берілген",
        "en": "Field “{detail}” is given more than once",
    },
    Reason.WRONG_TYPE: {
        "ru": "«{field}» должно быть {expected}",
        "kk": "«{field}» {expected} болуы керек",
        "en": "“{field}” must be {expected}",
    },
    Reason.TOO_LONG: {
        "ru": "«{field}» слишком длинное: не более {max} символов",
        "kk": "«{field}» тым ұзын: {max} таңбадан аспауы керек",
        "en": "“{field}” is too long: {max} characters at most",
    },
    Reason.INVALID_TEXT: {
        "ru": "«{field}» содержит управляющие символы",
        "kk": "«{field}» ішінде басқару таңбалары бар",
        "en": "“{field}” contains control characters",
    },
    Reason.INVALID_DATE: {
        "ru": "«{field}»: «{value}» — не дата вида ГГГГ-ММ-ДД",
        "kk": "«{field}»: «{value}» ЖЖЖЖ-АА-КК түріндегі күн емес",
        "en": "“{field}”: “{value}” is not a date in the form YYYY-MM-DD",
    },
    Reason.INVALID_BIN: {
        "ru": "«{field}»: «{value}» — не БИН/ИИН (нужно 12 цифр)",
        "kk": "«{field}»: «{value}» БСН/ЖСН емес (12 цифр болуы керек)",
        "en": "“{field}”: “{value}” is not a BIN/IIN (12 digits)",
    },
    Reason.INVALID_CHOICE: {
        "ru": "«{field}»: недопустимое значение «{value}», допустимы: {allowed}",
        "kk": "«{field}»: «{value}» мәні жарамсыз, рұқсат етілгендері: {allowed}",
        "en": "“{field}”: “{value}” is not one of {allowed}",
    },
    Reason.HEADER_AFTER_LINES: {
        "ru": "Строка заголовка «{detail}» должна стоять до строки с названиями столбцов",
        "kk": "«{detail}» тақырып жолы баған атаулары жолынан бұрын тұруы керек",
        "en": "Header row “{detail}” must come before the row of column names",
    },
    Reason.EXTRA_CELLS: {
        "ru": "В строке есть значения правее последнего столбца ({detail})",
        "kk": "Жолда соңғы бағаннан кейін мәндер бар ({detail})",
        "en": "The row has values beyond the last column ({detail})",
    },
    Reason.NUMBER_NOT_TEXT: {
        "ru": "«{field}» сохранено как число ({value}): таблица теряет ведущие нули и цифры длинных кодов, "
        "сохраните ячейку как текст",
        "kk": "«{field}» сан ретінде сақталған ({value}): кесте ұзын кодтардың алдыңғы нөлдері мен "
        "цифрларын жоғалтады, ұяшықты мәтін ретінде сақтаңыз",
        "en": "“{field}” is stored as a number ({value}): a spreadsheet loses the leading zeros and digits "
        "of long codes, store the cell as text",
    },
    Reason.FIELD_AFTER_CHILDREN: {
        "ru": "Поле «{detail}» должно стоять до «children» в том же объекте",
        "kk": "«{detail}» өрісі сол объектіде «children» өрісінен бұрын тұруы керек",
        "en": "“{detail}” must come before “children” in the same object",
    },
    Reason.MISSING_CODE: {"ru": "В строке нет кода", "kk": "Жолда код жоқ", "en": "The line has no code"},
    Reason.INVALID_CODE: {
        "ru": "Неверный код {code}: {why}",
        "kk": "Жарамсыз код {code}: {why}",
        "en": "Invalid code {code}: {why}",
    },
    Reason.PRODUCT_BARCODE: {
        "ru": "{code} — штрихкод товара, а не код маркировки",
        "kk": "{code} — тауардың штрихкоды, таңбалау коды емес",
        "en": "{code} is a product barcode, not a marking code",
    },
    Reason.OTHER_PRODUCT_GROUP: {
        "ru": "{code} — код маркировки другой товарной группы, а не пачки или блока табака",
        "kk": "{code} — басқа тауар тобының таңбалау коды, темекі қорабының не блогының коды емес",
        "en": "{code} is a marking code of another product group, not a tobacco pack or block",
    },
    Reason.UNKNOWN_LEVEL: {
        "ru": "Неизвестный уровень «{value}»: допустимы pallet, box, block, pack",
        "kk": "Белгісіз «{value}» деңгейі: pallet, box, block немесе pack болуы керек",
        "en": "Unknown level “{value}”: use pallet, box, block or pack",
    },
    Reason.LEVEL_MISMATCH: {
        "ru": "{kind} не может быть указан с уровнем «{level}»",
        "kk": "{kind} «{level}» деңгейінде көрсетуге болмайды",
        "en": "{kind} cannot be declared as a {level}",
    },
    Reason.LEVEL_ORDER: {
        "ru": "Неверная вложенность ({detail}): вложенный код должен быть ниже уровнем, чем содержащий его",
        "kk": "Кірістіру қате ({detail}): ішкі код оны қамтитын кодтан төмен деңгейде болуы керек",
        "en": "Wrong nesting ({detail}): a code must be of a lower level than the code that contains it",
    },
    Reason.INVALID_GTIN: {
        "ru": "«{value}» — неверный GTIN (нужно 14 цифр с верной контрольной цифрой)",
        "kk": "«{value}» — жарамсыз GTIN (бақылау цифры дұрыс 14 цифр болуы керек)",
        "en": "“{value}” is not a valid GTIN (14 digits with a correct check digit)",
    },
    Reason.GTIN_MISMATCH: {
        "ru": "GTIN {line} не совпадает с GTIN в коде: {code}",
        "kk": "GTIN {line} кодтағы GTIN-нен өзгеше: {code}",
        "en": "GTIN {line} differs from the GTIN in the code, {code}",
    },
    Reason.INVALID_PRICE: {
        "ru": "Цена «{value}» должна быть целым неотрицательным числом тиынов",
        "kk": "«{value}» бағасы тиынмен берілген теріс емес бүтін сан болуы керек",
        "en": "Price “{value}” must be a whole non-negative number of tiyn",
    },
    Reason.INVALID_VAT: {
        "ru": "НДС «{value}» должен быть целым неотрицательным числом тиынов",
        "kk": "«{value}» ҚҚС сомасы тиынмен берілген теріс емес бүтін сан болуы керек",
        "en": "VAT “{value}” must be a whole non-negative number of tiyn",
    },
    Reason.DUPLICATE_CODE: {
        "ru": "Код {detail} встречается в файле более одного раза",
        "kk": "{detail} коды файлда бірнеше рет кездеседі",
        "en": "The code {detail} occurs more than once in the file",
    },
    Reason.UNKNOWN_PARENT: {
        "ru": "Кода {detail}, в который вложен этот код, нет в файле",
        "kk": "Бұл код кіретін {detail} коды файлда жоқ",
        "en": "The code {detail} that should contain this code is not in the file",
    },
    Reason.CYCLE: {
        "ru": "Коды вложены друг в друга по кругу: {detail}",
        "kk": "Кодтар бір-біріне шеңбер бойымен кірістірілген: {detail}",
        "en": "Codes contain each other in a loop: {detail}",
    },
    Reason.LEVEL_SKIPPED: {
        "ru": "Пропущен уровень упаковки: {detail}",
        "kk": "Қаптама деңгейі өткізіп жіберілген: {detail}",
        "en": "A packaging level is skipped: {detail}",
    },
    Reason.DUPLICATE_ACT: {
        "ru": "Этот акт уже загружен: {detail}",
        "kk": "Бұл акт бұрын жүктелген: {detail}",
        "en": "This act is already imported: {detail}",
    },
}

_LANGUAGES: Final = ("ru", "kk", "en")
_EXPECTED: Final[Mapping[str, Mapping[str, str]]] = {
    "object": {"ru": "объектом {…}", "kk": "объект {…}", "en": "an object {…}"},
    "list": {"ru": "списком […]", "kk": "тізім […]", "en": "a list […]"},
    "text": {"ru": "текстом", "kk": "мәтін", "en": "text"},
    "integer": {"ru": "целым числом", "kk": "бүтін сан", "en": "a whole number"},
}
_KIND_WORDS: Final[Mapping[str, Mapping[str, str]]] = {  # the subject of LEVEL_MISMATCH
    "pack": {"ru": "Код пачки", "kk": "Қорап кодын", "en": "A pack code"},
    "block": {"ru": "Код блока", "kk": "Блок кодын", "en": "A block code"},
    "sscc": {"ru": "SSCC", "kk": "SSCC кодын", "en": "An SSCC"},
    "aggregate": {"ru": "Код агрегата", "kk": "Агрегаттау кодын", "en": "An aggregation code"},
    "product": {"ru": "Штрихкод товара", "kk": "Тауар штрихкодын", "en": "A product barcode"},
    "invalid": {"ru": "Неверный код", "kk": "Жарамсыз кодты", "en": "An invalid code"},
}
_LEVEL_WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "pallet": {"ru": "паллета", "kk": "паллета", "en": "pallet"},
    "box": {"ru": "короб", "kk": "жәшік", "en": "box"},
    "block": {"ru": "блок", "kk": "блок", "en": "block"},
    "pack": {"ru": "пачка", "kk": "қорап", "en": "pack"},
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Why (part of) a file is refused, and where: "line 12", "products[0].children[3]", "sender.bin", "file".

    `reason` is a `Reason` value; `detail` is the offending value in plain text (for logs and as the
    fallback wording); `args` fill the message templates, an arg `x_ru` replacing `x` in Russian.
    """

    location: str
    reason: str
    detail: str = ""
    args: tuple[tuple[str, str], ...] = ()

    def message(self, lang: str = "ru") -> str:
        """The problem in words, without the location, in "ru", "kk" or "en" (anything else: Russian).

        >>> Problem("line 3", Reason.INVALID_PRICE, "-5", (("value", "-5"),)).message("en")
        'Price “-5” must be a whole non-negative number of tiyn'
        """
        lang = lang if lang in _LANGUAGES else "ru"
        templates = _MESSAGES.get(self.reason)
        if templates is None:
            return f"{self.reason}: {self.detail}" if self.detail else self.reason
        values = _Blank(detail=self.detail)
        suffix = "_" + lang
        for key, value in self.args:
            values.setdefault(key, value)
        for key, value in self.args:
            if key.endswith(suffix):
                values[key[: -len(suffix)]] = value
        return templates[lang].format_map(values)

    def __str__(self) -> str:
        return f"{self.location}: {self.message('en')}"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


class ActFormatError(Exception):
    """The act file cannot be read; `problems` lists every reason found, each with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        first = str(problems[0]) if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)
        self.problems = problems


def _localized(name: str, words: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return ((name, words["en"]), *((f"{name}_{lang}", words[lang]) for lang in ("ru", "kk")))


def _show(text: str, limit: int = 60) -> str:
    """A code as a person can read it in a message: GS as <GS>, other control characters escaped."""
    shown = _CONTROL.sub(lambda m: GS_TEXT if m[0] == GS else f"\\x{ord(m[0]):02x}", text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _wrong_type(location: str, name: str, expected: str) -> Problem:
    return Problem(
        location,
        Reason.WRONG_TYPE,
        f"{name}: {expected}",
        (("field", name), *_localized("expected", _EXPECTED[expected])),
    )


def _value_problem(location: str, reason: Reason, name: str, value: object) -> Problem:
    shown = _show(value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False))
    return Problem(location, reason, f"{name}: {shown}", (("field", name), ("value", shown)))


class _Problems:
    """Problems of one read, capped: a broken million-line file must not produce a million messages."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.dropped = 0

    def add(self, problem: Problem) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)
        else:
            self.dropped += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __bool__(self) -> bool:
        return bool(self.items)

    def as_list(self) -> list[Problem]:
        if self.dropped:
            return [*self.items, Problem("file", Reason.TOO_MANY_PROBLEMS, str(self.dropped))]
        return list(self.items)


# ---------------------------------------------------------------------------------------------------
# Field checks shared by every reader

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# Text a header or a name may not contain: control characters, lone surrogates and the two XML
# non-characters. Everything accepted can therefore be written to XLSX and XML as it is.
_BAD_TEXT: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_DIGITS: Final = re.compile(r"[0-9]+")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GS1_GTIN: Final = re.compile(r"01([0-9]{14})21")
_TOBACCO_BLOCK_TAIL: Final = re.compile("[!-~]{7}(?:\x1d|<GS>)?(?:8005|93)")


def _check_digit(body: str) -> str:
    """GS1 mod-10 check digit: weights 3, 1, 3, … from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


@functools.lru_cache(maxsize=4096)  # an act has a few GTINs on a million lines
def _gtin_ok(gtin: str) -> bool:
    return len(gtin) == 14 and gtin.isascii() and gtin.isdigit() and _check_digit(gtin[:13]) == gtin[13]


def _text(
    value: object, name: str, location: str, limit: int, problems: _Problems, required: bool = False
) -> str | None:
    """A text field, or None when it is absent, empty or wrong (the problem is recorded)."""
    if value is None or value == "":
        if required:
            problems.add(Problem(location, Reason.MISSING_FIELD, name))
        return None
    if not isinstance(value, str):
        problems.add(_wrong_type(location, name, "text"))
        return None
    if _BAD_TEXT.search(value):
        problems.add(Problem(location, Reason.INVALID_TEXT, name, (("field", name),)))
        return None
    if len(value) > limit:
        problems.add(
            Problem(
                location, Reason.TOO_LONG, f"{name}: {len(value)} > {limit}", (("field", name), ("max", str(limit)))
            )
        )
        return None
    return value


def _date(value: object, name: str, location: str, problems: _Problems) -> datetime.date | None:
    if value is None or value == "":
        problems.add(Problem(location, Reason.MISSING_FIELD, name))
        return None
    if isinstance(value, datetime.datetime):  # a spreadsheet date cell
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(_value_problem(location, Reason.INVALID_DATE, name, value))
    return None


def _bin(value: object, name: str, location: str, problems: _Problems) -> str | None:
    if value is None or value == "":
        problems.add(Problem(location, Reason.MISSING_FIELD, name))
        return None
    # Only the form is checked: 12 digits. The IIN/BIN check digit is not, so far (see the docs).
    if isinstance(value, str) and len(value) == 12 and _DIGITS.fullmatch(value):
        return value
    problems.add(_value_problem(location, Reason.INVALID_BIN, name, value))
    return None


def _amount(value: object, reason: Reason, limit: int, name: str, location: str, problems: _Problems) -> int | None:
    if value is None or value == "":
        return None
    if type(value) is int and 0 <= value <= limit:  # not bool, not Decimal: tiyn are whole
        return value
    problems.add(_value_problem(location, reason, name, value if not isinstance(value, Decimal) else str(value)))
    return None


def _gtin_field(value: object, location: str, problems: _Problems) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # GTIN-8/12/13 are GTIN-14 with leading zeros; the act stores GTIN-14.
        padded = value.zfill(14) if len(value) in (8, 12, 13) else value
        if _gtin_ok(padded):
            return padded
    problems.add(_value_problem(location, Reason.INVALID_GTIN, "gtin", value))
    return None


def _level(value: object, location: str, problems: _Problems) -> Level | None:
    if value is None or value == "":
        problems.add(Problem(location, Reason.MISSING_FIELD, "level"))
        return None
    level = _LEVELS.get(value.strip().lower()) if isinstance(value, str) else None
    if level is None:
        problems.add(_value_problem(location, Reason.UNKNOWN_LEVEL, "level", value))
    return level


def _looks_other_group(text: str) -> bool:
    """A GS1 element string with a real GTIN and a serial (01…21…) not shaped like a tobacco block
    (7-character serial, then 8005 or 93): milk, shoes, medicines and the other groups look like this.
    A tobacco-shaped but damaged block stays an invalid code."""
    m = _GS1_GTIN.match(text)
    return m is not None and _gtin_ok(m[1]) and not _TOBACCO_BLOCK_TAIL.match(text, 18)


class _LineBuilder:
    """Turns the raw fields of one line into an ActLine, recording every problem of the line."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def build(
        self,
        location: str,
        code: object,
        level_value: object,
        gtin: object,
        name: object,
        price: object,
        vat: object,
        parent_code: str | None,
        parent_level: Level | None,
        declared_children: bool,
    ) -> ActLine | None:
        """None when the line has no usable code or level; otherwise a line, possibly with problems."""
        problems = self.problems
        # Fast paths first: a million lines go through here. Each slow path records its problem.
        level = _LEVELS.get(level_value) if type(level_value) is str else None
        if level is None:
            level = _level(level_value, location, problems)
        if type(code) is not str or not code or len(code) > MAX_CODE:
            self._bad_code(location, code)
            self._check_fields(location, gtin, name, price, vat)  # report everything wrong with the line
            return None
        text = code.replace(GS_PICTURE, GS) if GS_PICTURE in code else code
        parsed = codes.parse(text)
        kind = parsed.kind
        ok = parsed.error is None and kind is not _INVALID  # parsed.ok, without a property call a line
        if not (ok and level is not None and kind in _FITS[level]):
            self._code_problem(location, text, parsed, level)
        code_gtin = parsed.gtin
        if gtin is None or (gtin == code_gtin and ok):  # a valid code's GTIN passed its check digit
            line_gtin = code_gtin
        else:
            line_gtin = _gtin_field(gtin, location, problems)
            if line_gtin is None:
                line_gtin = code_gtin
            elif code_gtin is not None and line_gtin != code_gtin:
                problems.add(
                    Problem(
                        location,
                        Reason.GTIN_MISMATCH,
                        f"{line_gtin} != {code_gtin}",
                        (("line", line_gtin), ("code", code_gtin)),
                    )
                )
        if name is not None:
            name = _text(name, "name", location, MAX_NAME, problems)
        if price is not None:
            price = _amount(price, Reason.INVALID_PRICE, MAX_PRICE, "price", location, problems)
        if vat is not None:
            vat = _amount(vat, Reason.INVALID_VAT, MAX_VAT, "vat", location, problems)
        if level is None:
            return None
        if parent_level is not None and _RANK[parent_level] <= _RANK[level]:
            problems.add(Problem(location, Reason.LEVEL_ORDER, f"{level.value} in {parent_level.value}"))
        normalized = parsed.normalized or text
        identity = parsed.identity if ok and parsed.identity else normalized
        return ActLine(
            location,
            normalized[:MAX_CODE],
            identity[:MAX_IDENTITY],
            kind,
            level,
            parent_code,
            line_gtin,
            name,
            price,
            vat,
            declared_children,
        )

    def _check_fields(self, location: str, gtin: object, name: object, price: object, vat: object) -> None:
        problems = self.problems
        if gtin is not None:
            _gtin_field(gtin, location, problems)
        if name is not None:
            _text(name, "name", location, MAX_NAME, problems)
        if price is not None:
            _amount(price, Reason.INVALID_PRICE, MAX_PRICE, "price", location, problems)
        if vat is not None:
            _amount(vat, Reason.INVALID_VAT, MAX_VAT, "vat", location, problems)

    def _bad_code(self, location: str, code: object) -> None:
        if code is None or code == "":
            self.problems.add(Problem(location, Reason.MISSING_CODE))
        elif not isinstance(code, str):
            self.problems.add(_wrong_type(location, "code", "text"))
        else:  # not a code at all: do not even try to repair it
            self.problems.add(
                Problem(
                    location,
                    Reason.TOO_LONG,
                    f"code: {len(code)} > {MAX_CODE}",
                    (("field", "code"), ("max", str(MAX_CODE))),
                )
            )

    def _code_problem(self, location: str, text: str, parsed: codes.ParsedCode, level: Level | None) -> None:
        kind = parsed.kind
        problems = self.problems
        if kind is _PRODUCT:
            problems.add(Problem(location, Reason.PRODUCT_BARCODE, text, (("code", _show(text)),)))
        elif (
            (level is Level.PACK or level is Level.BLOCK)
            and kind not in (_PACK, _BLOCK)
            and _looks_other_group(parsed.normalized or text)
        ):
            problems.add(Problem(location, Reason.OTHER_PRODUCT_GROUP, text, (("code", _show(text)),)))
        elif not parsed.ok:
            problems.add(_invalid_code(location, text, parsed.error))
        elif level is not None:
            problems.add(
                Problem(
                    location,
                    Reason.LEVEL_MISMATCH,
                    f"{kind.value} code as {level.value}",
                    (
                        *_localized("kind", _KIND_WORDS.get(kind.value, _KIND_WORDS["invalid"])),
                        *_localized("level", _LEVEL_WORDS[level.value]),
                    ),
                )
            )


def _invalid_code(location: str, text: str, error: Any) -> Problem:
    args: list[tuple[str, str]] = [("code", _show(text))]
    if error is not None:
        args.append(("why", str(error.message("en"))))
        args.extend((f"why_{lang}", str(error.message(lang))) for lang in ("ru", "kk"))
    return Problem(location, Reason.INVALID_CODE, _show(text, 200), tuple(args))


# ---------------------------------------------------------------------------------------------------
# The header, whatever file it came from

_HEADER_KEYS: Final = ("format", "number", "date", "sender", "receiver", "basis", "turnover")


def _build_header(values: Mapping[str, object], where: Callable[[str], str], problems: _Problems) -> ActHeader | None:
    """Check the header fields (JSON shape) and build the header; None if any is wrong.

    `where(path)` gives the location of a field ("sender.bin" in JSON, "line 5" in CSV)."""
    fmt = values.get("format")
    if fmt is None:
        problems.add(Problem(where("format"), Reason.MISSING_FIELD, "format"))
    elif fmt != FORMAT:
        # Another format or version: the rest of the file means something else, so stop here.
        problems.add(Problem(where("format"), Reason.WRONG_FORMAT, _show(str(fmt))))
        return None
    before = len(problems.items) + problems.dropped
    number = _text(values.get("number"), "number", where("number"), MAX_NUMBER, problems, required=True)
    date = _date(values.get("date"), "date", where("date"), problems)
    sender = _party(values.get("sender"), "sender", where, problems)
    receiver = _party(values.get("receiver"), "receiver", where, problems)
    basis = _basis(values.get("basis"), where, problems)
    turnover = _text(values.get("turnover"), "turnover", where("turnover"), MAX_SHORT_TEXT, problems)
    if len(problems.items) + problems.dropped != before or fmt is None:
        return None
    assert number is not None and date is not None and sender is not None and receiver is not None
    return ActHeader(FORMAT, number, date, sender, receiver, basis, turnover)


def _party(value: object, key: str, where: Callable[[str], str], problems: _Problems) -> Party | None:
    if value is None:
        problems.add(Problem(where(key), Reason.MISSING_FIELD, key))
        return None
    if not isinstance(value, dict):
        problems.add(_wrong_type(where(key), key, "object"))
        return None
    for extra in sorted(set(value) - {"name", "bin"}):
        problems.add(Problem(where(f"{key}.{extra}"), Reason.UNKNOWN_FIELD, _show(f"{key}.{extra}")))
    name = _text(value.get("name"), f"{key}.name", where(f"{key}.name"), MAX_NAME, problems, required=True)
    bin_ = _bin(value.get("bin"), f"{key}.bin", where(f"{key}.bin"), problems)
    return Party(name, bin_) if name is not None and bin_ is not None else None


def _basis(value: object, where: Callable[[str], str], problems: _Problems) -> tuple[BasisDocument, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(_wrong_type(where("basis"), "basis", "list"))
        return ()
    if len(value) > MAX_BASIS:
        problems.add(
            Problem(
                where("basis"),
                Reason.TOO_LONG,
                f"basis: {len(value)} > {MAX_BASIS}",
                (("field", "basis"), ("max", str(MAX_BASIS))),
            )
        )
        return ()
    documents = []
    for i, item in enumerate(value):
        key = f"basis[{i}]"
        if not isinstance(item, dict):
            problems.add(_wrong_type(where(key), key, "object"))
            continue
        for extra in sorted(set(item) - {"type", "number", "date"}):
            problems.add(Problem(where(f"{key}.{extra}"), Reason.UNKNOWN_FIELD, _show(f"{key}.{extra}")))
        type_ = _text(item.get("type"), f"{key}.type", where(f"{key}.type"), MAX_SHORT_TEXT, problems, True)
        number = _text(item.get("number"), f"{key}.number", where(f"{key}.number"), MAX_NUMBER, problems, True)
        date = _date(item.get("date"), f"{key}.date", where(f"{key}.date"), problems)
        if type_ is not None and number is not None and date is not None:
            documents.append(BasisDocument(type_, number, date.isoformat()))
    return tuple(documents)


# ---------------------------------------------------------------------------------------------------
# Readers


class ActReader(ABC):
    """An act file opened for reading. Get one from `read_act`.

    `header` is read and checked when the reader is made. `lines()` streams the codes parent before
    child and records every problem it meets in `problems` instead of raising: read all the lines,
    then look at `problems` (empty means every line is good; the whole-tree checks are `check_tree`'s
    or the import service's). Each call of `lines()` reads the file again and starts `problems` afresh.
    """

    header: ActHeader

    def __init__(self, path: Path) -> None:
        self.path = path
        self._problems = _Problems()

    @property
    def problems(self) -> list[Problem]:
        """Problems found by the last `lines()` iteration, at most MAX_PROBLEMS plus an "and N more"."""
        return self._problems.as_list()

    def lines(self) -> Iterator[ActLine]:
        """The act's lines, each parent before its children (JSON: depth-first preorder; CSV and XLSX:
        file order). Never raises ActFormatError: a damaged file ends the iteration with a problem."""
        self._problems = problems = _Problems()
        lines = self._lines(problems)
        first = next(lines, None)
        if first is None:
            if not problems:
                problems.add(Problem("file", Reason.NO_CODES))
            return
        yield first
        yield from lines  # delegated without a Python step per line

    @abstractmethod
    def _read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        """(header or None, problems, fatal): fatal when the lines cannot be read either."""

    @abstractmethod
    def _lines(self, problems: _Problems) -> Iterator[ActLine]: ...


def read_act(path: Path | str) -> ActReader:
    """Open an act file by its extension (.json, .csv, .xlsx) and read its header.

    Raises ActFormatError with every problem found when the file cannot be used at all: unsupported
    extension, unreadable or empty file, wrong format tag, a broken header (then the lines are read
    too, so the report is complete).

        reader = read_act(path)
        for line in reader.lines(): ...
        if reader.problems: ...   # refuse the act
    """
    path = Path(path)
    readers: dict[str, type[ActReader]] = {".json": _JsonActReader, ".csv": _CsvActReader, ".xlsx": _XlsxActReader}
    cls = readers.get(path.suffix.lower())
    if cls is None:
        raise ActFormatError([Problem("file", Reason.UNSUPPORTED_FILE, path.suffix or path.name)])
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ActFormatError([Problem("file", Reason.UNREADABLE_FILE, e.strerror or str(e))]) from e
    if size == 0:
        raise ActFormatError([Problem("file", Reason.EMPTY_FILE)])
    reader = cls(path)
    header, problems, fatal = reader._read_header()
    if header is None:
        collected = _Problems()
        collected.extend(problems)
        if not fatal:  # the header is wrong but the file is readable: report the lines' problems too
            for _line in reader.lines():
                pass
            collected.extend(p for p in reader.problems if p.reason != Reason.NO_CODES)
        raise ActFormatError(collected.as_list())
    reader.header = header
    return reader


def load_act(path: Path | str) -> tuple[ActHeader, list[ActLine]]:
    """Read a whole (small) act into memory and run every check, `check_tree` included.

    Raises ActFormatError listing every problem. For tests, small acts and tools; the import service
    streams instead."""
    reader = read_act(path)
    lines = list(reader.lines())
    problems = _Problems()
    problems.extend(reader.problems)
    if not any(p.reason == Reason.MALFORMED for p in reader.problems):
        problems.extend(check_tree((line.identity, line.parent_code, line.level, line.location) for line in lines))
    if problems:
        raise ActFormatError(problems.as_list())
    return reader.header, lines


# --- JSON ---------------------------------------------------------------------------------------------

_JSON_ERRORS: Final = (ijson.JSONError, UnicodeDecodeError, OSError)
_PRODUCT_SCALARS: Final = frozenset({"code", "level", "gtin", "name", "price", "vat"})
_OPEN: Final = frozenset({"start_map", "start_array"})
_CLOSE: Final = frozenset({"end_map", "end_array"})


def _next(events: Iterator[tuple[str, Any]]) -> tuple[str, Any]:
    """The next event; the end of the stream inside a value is a truncated file, not a StopIteration
    (which a generator would turn into a RuntimeError)."""
    for item in events:
        return item
    raise ijson.IncompleteJSONError("premature end of the file")


def _skip(events: Iterator[tuple[str, Any]], event: str) -> None:
    """Consume the rest of a value whose first event was `event`."""
    if event not in _OPEN:
        return
    depth = 1
    for ev, _ in events:
        if ev in _OPEN:
            depth += 1
        elif ev in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def _build_value(events: Iterator[tuple[str, Any]], event: str, value: Any, limit: int = 10_000) -> Any:
    """Build a small JSON value (a header field) from its events; None if it is absurdly large."""
    if event not in _OPEN:
        return value
    root: Any = {} if event == "start_map" else []
    stack: list[Any] = [root]
    key: list[str] = [""]
    count = 0
    for ev, val in events:
        if ev == "map_key":
            key[-1] = val
            continue
        if ev in _CLOSE:
            stack.pop()
            key.pop()
            if not stack:
                return root if count <= limit else None
            continue
        count += 1
        if count > limit:  # keep consuming to stay in step, store nothing more
            if ev in _OPEN:
                _skip(events, ev)
            continue
        item: Any = {} if ev == "start_map" else [] if ev == "start_array" else val
        top = stack[-1]
        if isinstance(top, dict):
            top[key[-1]] = item
        else:
            top.append(item)
        if ev in _OPEN:
            stack.append(item)
            key.append("")
    return root


class _JsonActReader(ActReader):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        # Header keys seen before "products" when the header pass stopped there; keys after "products"
        # are then checked by the lines pass.
        self._stopped_at_products = False
        self._keys_before_products: set[str] = set()

    def _read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        problems = _Problems()
        values: dict[str, Any] = {}
        seen_products = False
        try:
            with self.path.open("rb") as f:
                events = ijson.basic_parse(f, buf_size=_BUF)
                first, _ = _next(events)
                if first != "start_map":
                    problems.add(_wrong_type("file", "(file)", "object"))
                    return None, problems.as_list(), True
                for ev, key in events:
                    if ev == "end_map":
                        break
                    ev, val = _next(events)
                    if key == "products":
                        if seen_products:
                            problems.add(Problem("products", Reason.DUPLICATE_FIELD, "products"))
                        seen_products = True
                        if ev != "start_array":
                            problems.add(_wrong_type("products", "products", "list"))
                        elif all(k in values for k in _HEADER_KEYS):
                            # The whole header came first (our writer puts it there): no need to read on.
                            self._stopped_at_products = True
                            self._keys_before_products = set(values)
                            break
                        _skip(events, ev)
                    elif key in _HEADER_KEYS:
                        if key in values:
                            problems.add(Problem(key, Reason.DUPLICATE_FIELD, key))
                            _skip(events, ev)
                        else:
                            values[key] = _build_value(events, ev, val)
                    else:
                        problems.add(Problem(_show(key), Reason.UNKNOWN_FIELD, _show(key)))
                        _skip(events, ev)
        except _JSON_ERRORS as e:
            return None, [*problems.as_list(), _json_error(e)], True
        if not seen_products:
            problems.add(Problem("products", Reason.MISSING_FIELD, "products"))
        header = _build_header(values, lambda path: path, problems)
        if problems:
            wrong = any(p.reason == Reason.WRONG_FORMAT for p in problems.items)
            return None, problems.as_list(), wrong or not seen_products
        return header, [], False

    def _lines(self, problems: _Problems) -> Iterator[ActLine]:
        walk = _JsonWalk(_LineBuilder(problems))
        done = False
        try:
            with self.path.open("rb") as f:
                events = ijson.basic_parse(f, buf_size=_BUF)
                first, _ = _next(events)
                if first != "start_map":
                    return
                for ev, key in events:
                    if ev == "end_map":
                        break
                    ev, _val = _next(events)
                    if key == "products" and ev == "start_array" and not done:
                        done = True
                        yield from walk.run(events)
                        continue
                    if self._stopped_at_products and done:
                        # The header pass never saw what follows "products".
                        reason = (
                            Reason.DUPLICATE_FIELD
                            if key in self._keys_before_products or key == "products"
                            else Reason.UNKNOWN_FIELD
                        )
                        problems.add(Problem(_show(key), reason, _show(key)))
                    _skip(events, ev)
                for _ in events:  # trailing garbage or a truncated end is an error too
                    pass
        except _JSON_ERRORS as e:
            problems.add(_json_error(e))


def _json_error(e: Exception) -> Problem:
    if isinstance(e, UnicodeDecodeError):
        return Problem("file", Reason.ENCODING, f"byte {e.start}")
    if isinstance(e, OSError):
        return Problem("file", Reason.UNREADABLE_FILE, e.strerror or str(e))
    text = str(e).strip() or type(e).__name__
    return Problem("file", Reason.MALFORMED, _show(text.replace("\n", " "), 300))


class _Frame:
    """One product object being read."""

    __slots__ = ("buffer", "count", "fields", "has_children", "in_children", "line", "line_done", "parent", "path")

    def __init__(self, path: str, parent: _Frame | None) -> None:
        self.path = path
        self.parent = parent
        self.fields: dict[str, Any] = {}
        self.has_children = False  # a "children" key was seen
        self.in_children = False  # between the "[" and "]" of its children
        self.line_done = False
        self.line: ActLine | None = None
        self.buffer: list[tuple[ActLine, bool]] | None = None  # (line, is a direct child) while code is unknown
        self.count = 0  # children seen


class _JsonWalk:
    """Walks the events of "products" and yields lines in preorder.

    A product's line is emitted when its "children" list opens (its fields came first: constant memory)
    or when the object closes. If "children" opens before "code" (sorted keys do that), the subtree waits
    in the nearest such frame's buffer until the code is known.
    """

    def __init__(self, builder: _LineBuilder) -> None:
        self.builder = builder
        self.problems = builder.problems
        self.ready: list[ActLine] = []
        self.buffering = 0  # frames on the stack that hold a buffer
        self.buffered = 0  # lines in those buffers
        self.overflow = False

    def run(self, events: Iterator[tuple[str, Any]]) -> Iterator[ActLine]:
        # The hot loop: about eight events per pack. Scalar fields of a product are stored inline;
        # anything unusual goes to _key.
        stack: list[_Frame] = []
        index = 0
        ready = self.ready
        scalars = _PRODUCT_SCALARS
        containers = _OPEN
        for ev, val in events:
            if ev == "map_key":
                frame = stack[-1]  # keys at this level only occur in product objects
                try:
                    ev, value = next(events)
                except StopIteration:
                    raise ijson.IncompleteJSONError("premature end of the file") from None
                fields = frame.fields
                if val in scalars and ev not in containers and val not in fields and not frame.line_done:
                    fields[val] = value
                    continue
                self._key(frame, val, ev, events)
            elif ev == "end_map":
                frame = stack.pop()
                if frame.line_done or frame.buffer is not None or self.buffering:
                    self._close(frame)
                else:  # the common case, a product without a children list (a pack): straight out
                    line = self._line(frame, frame.has_children)
                    if line is not None:
                        yield line
            elif ev == "start_map":  # an item of "products" or of a "children" list
                if stack:
                    top = stack[-1]
                    stack.append(_Frame(f"{top.path}.children[{top.count}]", top))
                    top.count += 1
                else:
                    stack.append(_Frame(f"products[{index}]", None))
                    index += 1
            elif ev == "end_array":
                if not stack:
                    break
                stack[-1].in_children = False
            else:  # a list item that is not an object
                if stack:
                    top = stack[-1]
                    path = f"{top.path}.children[{top.count}]"
                    top.count += 1
                else:
                    path = f"products[{index}]"
                    index += 1
                self.problems.add(_wrong_type(path, path, "object"))
                _skip(events, ev)
            if ready:
                yield from ready
                ready.clear()

    def _key(self, frame: _Frame, key: str, ev: str, events: Iterator[tuple[str, Any]]) -> None:
        """A key the fast path did not take: a duplicate, a wrong type, a late field, children, unknown."""
        if key in _PRODUCT_SCALARS:
            if key in frame.fields:
                self.problems.add(Problem(frame.path, Reason.DUPLICATE_FIELD, key))
            elif ev in _OPEN:
                self.problems.add(_wrong_type(frame.path, key, "integer" if key in ("price", "vat") else "text"))
                frame.fields[key] = None
            else:
                self.problems.add(Problem(frame.path, Reason.FIELD_AFTER_CHILDREN, key))
            _skip(events, ev)
        elif key == "children":
            if frame.has_children:
                self.problems.add(Problem(frame.path, Reason.DUPLICATE_FIELD, key))
                _skip(events, ev)
                return
            if ev == "null":  # read as "contents not declared", like an absent key
                return
            frame.has_children = True
            if ev != "start_array":
                self.problems.add(_wrong_type(frame.path, "children", "list"))
                _skip(events, ev)
                return
            frame.in_children = True
            if "code" in frame.fields:
                self._emit(frame, declared=True)
            else:
                frame.buffer = []
                self.buffering += 1
        else:
            self.problems.add(Problem(frame.path, Reason.UNKNOWN_FIELD, _show(key)))
            _skip(events, ev)

    def _line(self, frame: _Frame, declared: bool) -> ActLine | None:
        """The product's line, from its fields and its parent's line."""
        frame.line_done = True
        parent = frame.parent
        parent_line = parent.line if parent is not None and parent.line_done else None
        get = frame.fields.get
        frame.line = self.builder.build(
            frame.path,
            get("code"),
            get("level"),
            get("gtin"),
            get("name"),
            get("price"),
            get("vat"),
            parent_line.identity if parent_line else None,
            parent_line.level if parent_line else None,
            declared,
        )
        return frame.line

    def _emit(self, frame: _Frame, declared: bool) -> None:
        line = self._line(frame, declared)
        if line is not None:
            if self.buffering:
                self._out(line, frame.parent, direct=True)
            else:
                self.ready.append(line)

    def _close(self, frame: _Frame) -> None:
        if not frame.line_done:
            self._emit(frame, declared=frame.has_children)
        buffer = frame.buffer
        if buffer is None:
            return
        frame.buffer = None
        self.buffering -= 1
        self.buffered -= len(buffer)
        own = frame.line
        for line, direct in buffer:
            if direct and own is not None:
                line = replace(line, parent_code=own.identity)
                if own.level.rank <= line.level.rank:
                    detail = f"{line.level.value} in {own.level.value}"
                    self.problems.add(Problem(line.location, Reason.LEVEL_ORDER, detail))
            self._out(line, frame.parent, direct=False)

    def _out(self, line: ActLine, parent: _Frame | None, direct: bool) -> None:
        holder = parent
        while holder is not None and holder.buffer is None:
            holder = holder.parent
        if holder is None or holder.buffer is None:
            self.ready.append(line)
            return
        if self.buffered >= MAX_BUFFERED_LINES:
            if not self.overflow:
                self.overflow = True
                self.problems.add(Problem(holder.path, Reason.CHILDREN_FIRST_TOO_LARGE, str(MAX_BUFFERED_LINES)))
            return
        self.buffered += 1
        holder.buffer.append((line, direct and holder is parent))


# --- CSV and XLSX ---------------------------------------------------------------------------------------

_COLUMNS: Final = ("code", "level", "parent_code", "gtin", "name", "price", "vat", "children")
_REQUIRED_COLUMNS: Final = ("code", "level")
_TABLE_HEADER_KEYS: Final = {
    "format": "format",
    "number": "number",
    "date": "date",
    "turnover": "turnover",
    "sender.name": "sender",
    "sender.bin": "sender",
    "receiver.name": "receiver",
    "receiver.bin": "receiver",
}
_YES: Final = frozenset({"yes", "true", "1", "да", "иә"})
_NO: Final = frozenset({"no", "false", "0", "нет", "жоқ"})
# CSV cells that a spreadsheet would take for a formula get a leading apostrophe; so does a value that
# itself starts with one, so that reading strips exactly what writing added.
_FORMULA_START: Final = frozenset("=+-@\t\r'")
_SSCC_IDENTITY: Final = re.compile(r"[0-9]{18}")
_BLOCK_IDENTITY: Final = re.compile(r"01[0-9]{14}21[!-~]{7}")

Cell = str | int | float | datetime.datetime | datetime.date | bool | None


class _SourceError(Exception):
    """The rows of a table file cannot be read further."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _blank(cells: Sequence[Cell]) -> bool:
    return all(c is None or c == "" for c in cells)


def _trimmed(cells: Sequence[Cell]) -> list[Cell]:
    """The cells without the empty ones at the end (spreadsheets pad rows to the widest row)."""
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return list(cells[:end])


class _TableActReader(ActReader):
    """CSV and XLSX share one layout: `#key,value` header rows, a row of column names, one code a row."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._columns: dict[str, int] = {}
        self._column_line = 0
        self._width = 0
        self._deepest: int | None = None

    _typed = False  # cells carry numbers and dates (XLSX), not only text (CSV)

    @abstractmethod
    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(1-based line or row number, a fresh list of cells); raises _SourceError."""

    def _text_cell(self, value: Cell) -> Cell:
        """How a text field is read from a cell: CSV cells are already text."""
        return value

    def _code_cell(self, value: Cell, name: str, location: str, problems: _Problems) -> str | None:
        if value is None or isinstance(value, str):
            return value
        problems.add(_value_problem(location, Reason.NUMBER_NOT_TEXT, name, value))
        return None

    def _read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        problems = _Problems()
        values: dict[str, Any] = {}
        lines: dict[str, str] = {}
        basis: list[dict[str, Cell]] = []
        found_columns = False
        try:
            for lineno, cells in self._rows():
                if _blank(cells):
                    continue
                first = cells[0]
                location = f"line {lineno}"
                if not (isinstance(first, str) and first.startswith("#")):
                    self._set_columns(cells, location, problems)
                    self._column_line = lineno
                    found_columns = True
                    break
                key = first[1:].strip().lower()
                rest = _trimmed(cells[1:])
                if key == "note":
                    continue
                if key == "basis":
                    i = len(basis)
                    for part in ("type", "number", "date"):
                        lines[f"basis[{i}].{part}"] = location
                    lines.setdefault("basis", location)
                    basis.append(
                        dict(zip(("type", "number", "date"), (self._text_cell(c) for c in rest), strict=False))
                    )
                    if len(rest) > 3:
                        problems.add(Problem(location, Reason.EXTRA_CELLS, f"#{key}"))
                    continue
                target = _TABLE_HEADER_KEYS.get(key)
                if target is None:
                    problems.add(Problem(location, Reason.UNKNOWN_FIELD, _show(f"#{key}")))
                    continue
                if key in lines:
                    problems.add(Problem(location, Reason.DUPLICATE_FIELD, f"#{key}"))
                    continue
                lines[key] = location
                if len(rest) > 1:
                    problems.add(Problem(location, Reason.EXTRA_CELLS, f"#{key}"))
                value = self._header_value(key, rest[0] if rest else None)
                if "." in key:
                    lines.setdefault(target, location)
                    values.setdefault(target, {})[key.split(".", 1)[1]] = value
                else:
                    values[key] = value
        except _SourceError as e:
            return None, [*problems.as_list(), e.problem], True
        if basis:
            values["basis"] = basis
        if not found_columns:
            problems.add(Problem("file", Reason.MISSING_COLUMN, ", ".join(_REQUIRED_COLUMNS)))
        header = _build_header(values, lambda path: lines.get(path, lines.get(path.split(".")[0], "file")), problems)
        if problems:
            fatal = not found_columns or any(
                p.reason in (Reason.WRONG_FORMAT, Reason.MISSING_COLUMN) for p in problems.items
            )
            return None, problems.as_list(), fatal
        return header, [], False

    def _header_value(self, key: str, value: Cell) -> Cell:
        if key.endswith(".bin") and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
            return f"{value:012d}"  # a spreadsheet turned the BIN into a number: its leading zeros are back
        if key == "date" and isinstance(value, datetime.date):
            return value
        return self._text_cell(value)

    def _set_columns(self, cells: Sequence[Cell], location: str, problems: _Problems) -> None:
        names = _trimmed(cells)
        self._width = len(names)
        for i, cell in enumerate(names):
            name = str(cell).strip().lower() if cell is not None else ""
            if name in self._columns:
                problems.add(Problem(location, Reason.DUPLICATE_FIELD, _show(name)))
            elif name in _COLUMNS:
                self._columns[name] = i
            else:
                problems.add(Problem(location, Reason.UNKNOWN_FIELD, _show(name) if name else f"#{i + 1}"))
        for name in _REQUIRED_COLUMNS:
            if name not in self._columns:
                problems.add(Problem(location, Reason.MISSING_COLUMN, name))

    def _lines(self, problems: _Problems) -> Iterator[ActLine]:
        if any(name not in self._columns for name in _REQUIRED_COLUMNS):
            return  # reported with the header
        build = _LineBuilder(problems).build
        typed = self._typed
        col = self._columns
        width = self._width
        c_code, c_level = col["code"], col["level"]
        # an absent column points at the padding slot past the last column, which is always None
        c_parent, c_gtin, c_name, c_price, c_vat, c_children = (
            col.get(name, width) for name in ("parent_code", "gtin", "name", "price", "vat", "children")
        )
        column_line = self._column_line
        # Aggregates on the path to the current row: in a preorder file the parent is there, so its level
        # can be checked without remembering the whole file. Other orders are checked on the whole tree.
        path: list[tuple[str, Level]] = []
        last_parent: tuple[Cell, str | None] = (None, None)
        try:
            for lineno, cells in self._rows():
                if lineno <= column_line:
                    continue
                n = len(cells)
                if n == width:
                    cells.append(None)
                elif n < width:
                    cells.extend([None] * (width + 1 - n))
                else:
                    if not _blank(cells[width:]):
                        problems.add(Problem(f"line {lineno}", Reason.EXTRA_CELLS, f"{len(_trimmed(cells))} > {width}"))
                    del cells[width + 1 :]
                    cells[width] = None
                code = cells[c_code]
                first = cells[0]
                if isinstance(first, str) and first.startswith("#"):
                    if first[1:].strip().lower() != "note":
                        problems.add(Problem(f"line {lineno}", Reason.HEADER_AFTER_LINES, first))
                    continue
                if (code is None or code == "") and _blank(cells):
                    continue
                location = f"line {lineno}"
                level_cell = cells[c_level]
                raw_parent = cells[c_parent]
                gtin, name, price, vat, children = (
                    cells[c_gtin],
                    cells[c_name],
                    cells[c_price],
                    cells[c_vat],
                    cells[c_children],
                )
                if typed:
                    code = self._code_cell(code, "code", location, problems)
                    if code is None and cells[c_code] not in (None, ""):
                        continue
                    gtin, name = self._gtin_cell(gtin), self._text_cell(name)
                    price, vat = self._amount_cell(price), self._amount_cell(vat)
                if raw_parent != last_parent[0]:
                    parent_text = self._code_cell(raw_parent, "parent_code", location, problems)
                    last_parent = (raw_parent, _parent_identity(parent_text) if parent_text else None)
                parent = last_parent[1]
                while path and path[-1][0] != parent:
                    path.pop()
                parent_level = path[-1][1] if path and parent is not None else None
                if children == "yes":
                    declared = True
                elif children == "no" or (children == "" and level_cell == "pack"):
                    declared = False
                else:
                    declared = self._declared(children, level_cell, location, problems)
                if type(price) is str:
                    price = (
                        int(price)
                        if price.isdigit() and price.isascii() and len(price) < 20
                        else (self._amount_cell(price) if price else None)
                    )
                if type(vat) is str:
                    vat = (
                        int(vat)
                        if vat.isdigit() and vat.isascii() and len(vat) < 20
                        else (self._amount_cell(vat) if vat else None)
                    )
                line = build(
                    location, code, level_cell, gtin or None, name or None, price, vat, parent, parent_level, declared
                )
                if line is None:
                    continue
                if line.level is not Level.PACK:
                    path.append((line.identity, line.level))
                yield line
        except _SourceError as e:
            problems.add(e.problem)

    def _declared(self, value: Cell, level_cell: Cell, location: str, problems: _Problems) -> bool:
        level = _LEVELS.get(level_cell.strip().lower()) if isinstance(level_cell, str) else None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if value is not None else ""
        if text in _YES:
            return True
        if text in _NO:
            return False
        if text:
            problems.add(
                Problem(
                    location,
                    Reason.INVALID_CHOICE,
                    f"children: {_show(text)}",
                    (("field", "children"), ("value", _show(text)), ("allowed", "yes, no")),
                )
            )
            return False
        if level is None or level is Level.PACK:
            return False
        # Not said: the contents of an aggregate count as declared when the file goes below its level.
        return self._deepest_rank() < level.rank

    def _deepest_rank(self) -> int:
        """Rank of the lowest level in the file, found by one extra pass the first time it is needed."""
        if self._deepest is None:
            deepest = 3
            c_level = self._columns["level"]
            try:
                for lineno, cells in self._rows():
                    if lineno > self._column_line and c_level < len(cells) and isinstance(cells[c_level], str):
                        level = _LEVELS.get(str(cells[c_level]).strip().lower())
                        if level is not None and level.rank < deepest:
                            deepest = level.rank
                            if deepest == 0:
                                break
            except _SourceError:
                pass  # the lines pass reports it
            self._deepest = deepest
        return self._deepest

    def _gtin_cell(self, value: Cell) -> Cell:
        return value

    def _amount_cell(self, value: Cell) -> Cell:
        if isinstance(value, str):
            text = value.strip()
            return int(text) if _DIGITS.fullmatch(text) and len(text) < 20 else value
        return value


def _parent_identity(text: str) -> str:
    """The identity a parent_code cell names: the parent's full code or already its identity."""
    text = text.replace(GS_PICTURE, GS) if GS_PICTURE in text else text
    if _SSCC_IDENTITY.fullmatch(text) or _BLOCK_IDENTITY.fullmatch(text):
        return text  # an SSCC's 18 digits, a block's 01+GTIN+21+serial: identities as the writers put them
    parsed = codes.parse(text)
    return parsed.identity if parsed.ok and parsed.identity else text


class _CsvActReader(_TableActReader):
    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        try:
            with self.path.open("r", encoding="utf-8-sig", newline="") as f:
                first = f.readline(4096)
                f.seek(0)
                # Excel in a Russian or Kazakh locale saves CSV with semicolons.
                comma, semicolon = first.find(","), first.find(";")
                delimiter = ";" if semicolon >= 0 and (comma < 0 or semicolon < comma) else ","
                reader = csv.reader(f, delimiter=delimiter, strict=True)
                start = 1
                for row in reader:
                    cells: list[Any] = row  # text only; Cell is wider
                    joined = "\x1f".join(row)  # one C pass finds whether any cell starts with '
                    if joined[:1] == "'" or "\x1f'" in joined:
                        cells = [_csv_unescape(c) if c[:1] == "'" else c for c in row]
                    yield start, cells
                    start = reader.line_num + 1
        except UnicodeDecodeError as e:
            raise _SourceError(Problem("file", Reason.ENCODING, f"byte {e.start}")) from e
        except csv.Error as e:
            raise _SourceError(Problem(f"line {start}", Reason.MALFORMED, str(e))) from e
        except OSError as e:
            raise _SourceError(Problem("file", Reason.UNREADABLE_FILE, e.strerror or str(e))) from e


def _csv_unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _csv_escape(value: str) -> str:
    return "'" + value if value and value[0] in _FORMULA_START else value


class _XlsxActReader(_TableActReader):
    _typed = True

    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        # openpyxl reports a broken workbook through whatever zipfile, lxml or its own code raised.
        except Exception as e:
            problem = Problem("file", Reason.UNREADABLE_FILE, f"not an XLSX workbook ({type(e).__name__})")
            raise _SourceError(problem) from e
        try:
            sheet = workbook["act"] if "act" in workbook.sheetnames else workbook.worksheets[0]
            try:
                for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                    yield number, list(row)
            except Exception as e:
                raise _SourceError(Problem("file", Reason.MALFORMED, f"{type(e).__name__}: {e}")) from e
        finally:
            workbook.close()

    def _text_cell(self, value: Cell) -> Cell:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        return str(value)

    def _gtin_cell(self, value: Cell) -> Cell:
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and float(value).is_integer()
            and 0 <= value < 10**14
        ):
            return f"{int(value):014d}"  # the spreadsheet dropped the leading zeros of a GTIN: restore them
        return value

    def _amount_cell(self, value: Cell) -> Cell:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return super()._amount_cell(value)


# ---------------------------------------------------------------------------------------------------
# Writers


@contextmanager
def _atomic(path: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """Write to a temporary file beside `path` and put it in place only when everything was written."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open(mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _header_json(header: ActHeader) -> str:
    dumps = json.dumps

    def party(p: Party) -> str:
        return dumps({"name": p.name, "bin": p.bin}, ensure_ascii=False)

    basis = ", ".join(
        dumps({"type": b.type, "number": b.number, "date": b.date}, ensure_ascii=False) for b in header.basis
    )
    return (
        f'{{"format": {dumps(header.format)}, "number": {dumps(header.number, ensure_ascii=False)}, '
        f'"date": "{header.date.isoformat()}",\n'
        f' "sender": {party(header.sender)},\n "receiver": {party(header.receiver)},\n'
        f' "basis": [{basis}], "turnover": {dumps(header.turnover, ensure_ascii=False)},\n'
        ' "products": ['
    )


def write_json(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write a `transfer-act/1` JSON file; returns the number of lines written.

    `lines` must come in depth-first preorder (each line right after its parent or its parent's earlier
    descendants), as the readers and `generate_act` produce them: children are nested under their parent
    as they arrive, so only the open ancestors are kept in memory. A line's parent must declare its
    children. Raises ValueError otherwise; nothing is left at `path` then.
    """
    encode = json.encoder.encode_basestring  # the C-accelerated string encoder json.dumps uses
    count = 0
    with _atomic(Path(path), "w", encoding="utf-8", newline="\n") as f:
        write = f.write
        write(_header_json(header))
        stack: list[str] = []  # identities of the open aggregates, outermost first
        first = [True]  # per open list: nothing written into it yet
        for line in lines:
            while stack and stack[-1] != line.parent_code:
                stack.pop()
                first.pop()
                write("]}")
            if line.parent_code is not None and not stack:
                raise ValueError(
                    f"{line.location or line.code}: parent {line.parent_code} is not an open aggregate "
                    "that declares children (write_json needs depth-first preorder)"
                )
            parts = [
                "" if first[-1] else ",",
                "\n",
                "  " * (len(stack) + 1),
                '{"code": ',
                encode(line.code),
                ', "level": "',
                line.level.value,
                '"',
            ]
            first[-1] = False
            if line.gtin is not None:
                parts += [', "gtin": "', line.gtin, '"']
            if line.name is not None:
                parts += [', "name": ', encode(line.name)]
            if line.price is not None:
                parts += [', "price": ', str(line.price)]
            if line.vat is not None:
                parts += [', "vat": ', str(line.vat)]
            if line.declared_children:
                parts.append(', "children": [')
                stack.append(line.identity)
                first.append(True)
            else:
                parts.append("}")
            write("".join(parts))
            count += 1
        write("]}" * len(stack))
        write("\n]}\n")
    return count


def _table_rows(header: ActHeader) -> list[list[str]]:
    rows = [
        ["#format", header.format],
        ["#number", header.number],
        ["#date", header.date.isoformat()],
        ["#sender.name", header.sender.name],
        ["#sender.bin", header.sender.bin],
        ["#receiver.name", header.receiver.name],
        ["#receiver.bin", header.receiver.bin],
    ]
    rows += [["#basis", b.type, b.number, b.date] for b in header.basis]
    rows.append(["#turnover", header.turnover or ""])
    rows.append(["#note", f"GS (0x1D) in codes is written {GS_TEXT}; parent_code holds the parent's identity"])
    rows.append(list(_COLUMNS))
    return rows


def _table_line(line: ActLine) -> list[str | int]:
    children = "yes" if line.declared_children else ("" if line.level is Level.PACK else "no")
    return [
        line.code.replace(GS, GS_TEXT),
        line.level.value,
        line.parent_code.replace(GS, GS_TEXT) if line.parent_code is not None else "",
        line.gtin or "",
        line.name or "",
        line.price if line.price is not None else "",
        line.vat if line.vat is not None else "",
        children,
    ]


def write_csv(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write the act as CSV (UTF-8 with BOM, comma, CRLF); returns the number of lines. Any order of
    lines is fine. Form: `#key,value` header rows, the column row, one code a row (docs/exchange-format.md)."""
    count = 0
    with _atomic(Path(path), "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        for row in _table_rows(header):
            writer.writerow([_csv_escape(c) for c in row])
        for line in lines:
            writer.writerow([_csv_escape(c) if isinstance(c, str) else c for c in _table_line(line)])
            count += 1
    return count


def write_xlsx(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write the act as an XLSX sheet "act" in the CSV's layout (openpyxl write-only: constant memory);
    returns the number of lines. Raises ValueError past Excel's 1,048,576 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("act")
    for letter, width in zip("ABCDEFGH", (48, 8, 48, 16, 32, 12, 10, 9), strict=True):
        sheet.column_dimensions[letter].width = width

    def cells(row: Sequence[str | int]) -> list[Any]:
        # openpyxl stores a string that starts with "=" as a formula: force it to stay text.
        out: list[Any] = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value if value != "" else None)
        return out

    rows = 0
    count = 0
    for row in _table_rows(header):
        sheet.append(cells(row))
        rows += 1
    for line in lines:
        rows += 1
        if rows > XLSX_MAX_ROWS:
            raise ValueError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS} rows: write this act as JSON or CSV")
        sheet.append(cells(_table_line(line)))
        count += 1
    with _atomic(Path(path), "wb") as f:
        workbook.save(f)
    return count


# ---------------------------------------------------------------------------------------------------
# The realistic generator

_SET82: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"
# Set 82 without "S": then no serial can contain "<GS>", which is legal but reads as the GS substitute
# (the edge-case tests build such codes on purpose). Quotes, <, >, & and ' all stay.
_ALPHABET: Final = _SET82.replace("S", "")
_PAIRS: Final = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # 6,561 two-character strings
_N7: Final = 81**7
_N8: Final = 81**8
# Multipliers near 0.618 * 81**k and not multiples of 3: n * m mod 81**k is a bijection that scatters.
_MIX7: Final = 14_138_635_289_602
_MIX8: Final = 1_145_229_458_457_730
# (product, pack retail price in tiyn): a few of what a Kazakh wholesaler carries, and names that need escaping.
_PRODUCTS: Final = (
    ("Marlboro Red", 115_000),
    ("Parliament Aqua Blue", 135_000),
    ("L&M Red Label", 92_000),
    ("Winston XStyle Blue", 98_000),
    ('Kent "iSwitch" <Menthol>', 120_000),
    ("Rothmans Demi Click 'Amber'", 85_000),
)


def _bin_check(body: str) -> str:
    """The 12th digit of a Kazakh IIN/BIN (two weight rounds mod 11); only used to make realistic BINs."""
    digits = [int(d) for d in body]
    r = sum(w * d for w, d in zip(range(1, 12), digits, strict=True)) % 11
    if r == 10:
        r = sum(w * d for w, d in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), digits, strict=True)) % 11
    return str(r)  # 10 again means the body is never issued; the bodies below avoid it


def _serial(n: int, seed: int) -> str:
    """Seven characters, distinct for distinct n below 81**7 (a multiplicative bijection)."""
    x = ((n + seed * 7_919_777) * _MIX7) % _N7
    a, r = divmod(x, 81**5)
    b, r = divmod(r, 81**3)
    c, d = divmod(r, 81)
    return _PAIRS[a] + _PAIRS[b] + _PAIRS[c] + _ALPHABET[d]


def _tail(n: int, seed: int, pairs: int) -> str:
    """The opaque end of a code (a pack's characters 22-29, a block's 93 check): varied, not unique."""
    x = ((n * 40_503 + seed) * _MIX8) % _N8
    out = []
    for _ in range(pairs):
        x, r = divmod(x, 6561)
        out.append(_PAIRS[r])
    return "".join(out)


def generate_act(
    *,
    pallets: int,
    boxes_per_pallet: int,
    blocks_per_box: int,
    packs_per_block: int,
    depth: Level = Level.PACK,
    seed: int = 0,
    number: str = "ТА-000001",
    date: datetime.date = datetime.date(2026, 11, 20),
    sender: Party | None = None,
    receiver: Party | None = None,
    basis: tuple[BasisDocument, ...] | None = None,
    turnover: str | None = "sale",
) -> tuple[ActHeader, Iterator[ActLine]]:
    """A realistic valid act: pallets (KZ SSCCs 487…) of boxes of one product each, blocks
    (01 GTIN 21 serial GS 8005 price GS 93 check) and packs of the block's GTIN, in depth-first
    preorder, streamed, the same for the same seed. Serials use the whole GS1 set 82, so quotes,
    `<`, `>`, `&` and `'` occur. `depth` is the lowest level the act declares (Level.BOX: pallets and
    boxes, the boxes' contents not declared). With `pallets=0` there is no pallet level: one group of
    `boxes_per_pallet` boxes at the top. Prices are in tiyn: a block's line price is 10 packs at the retail
    price carried in its 8005; VAT is the 16% included in it.

    A full truck (1,102,040 lines) takes a few seconds.
    """
    if min(pallets, boxes_per_pallet, blocks_per_box, packs_per_block) < 0:
        raise ValueError("counts must not be negative")
    rng = seed % 1_000_000
    sender = sender or Party("ТОО «Табак-Трейд Алматы»", _make_bin("99034000123"))
    receiver = receiver or Party('ТОО "Склад & Ко" <Астана>', _make_bin("05114000456"))
    if basis is None:
        basis = (
            BasisDocument("ESF", f"KZ-ESF-0001-{rng:06d}", (date - datetime.timedelta(days=1)).isoformat()),
            BasisDocument("SNT", f"KZ-SNT-0001-{rng:06d}", (date - datetime.timedelta(days=1)).isoformat()),
        )
    header = ActHeader(FORMAT, number, date, sender, receiver, basis, turnover)
    products = [
        (_make_gtin(f"487{10234 + seed % 89_000:05d}{(7 * i + 1) % 10_000:04d}"), name, price)
        for i, (name, price) in enumerate(_PRODUCTS)
    ]
    return header, _generate_lines(pallets, boxes_per_pallet, blocks_per_box, packs_per_block, depth, seed, products)


def _make_gtin(body12: str) -> str:
    body13 = "0" + body12
    return body13 + _check_digit(body13)


def _make_bin(body11: str) -> str:
    return body11 + _bin_check(body11)


def _generate_lines(
    pallets: int,
    boxes_per_pallet: int,
    blocks_per_box: int,
    packs_per_block: int,
    depth: Level,
    seed: int,
    products: list[tuple[str, str, int]],
) -> Iterator[ActLine]:
    kind_pack, kind_block, kind_sscc = _PACK, _BLOCK, _SSCC
    pallet_l, box_l, block_l, pack_l = Level.PALLET, Level.BOX, Level.BLOCK, Level.PACK
    with_boxes = depth.rank <= Level.BOX.rank
    with_blocks = depth.rank <= Level.BLOCK.rank
    with_packs = depth is Level.PACK
    company = f"487{(5234 + seed * 7919) % 9000 + 1000:04d}"  # KZ GS1 prefix 487 + company, 7 digits
    sscc_n = 0
    unit_n = 0
    line_n = 0
    serial_seed = seed % 1_000_003

    def sscc() -> str:
        nonlocal sscc_n
        sscc_n += 1
        body = f"{sscc_n % 10}{company}{sscc_n // 10 % 10**9:09d}"  # extension digit + prefix + reference
        return body + _check_digit(body)

    groups = pallets if pallets > 0 else 1
    for p in range(groups):
        pallet_id: str | None = None
        if pallets > 0:
            pallet_id = sscc()
            line_n += 1
            yield ActLine(
                f"generated[{line_n}]",
                "00" + pallet_id,
                pallet_id,
                kind_sscc,
                pallet_l,
                None,
                declared_children=with_boxes,
            )
            if not with_boxes:
                continue
        for b in range(boxes_per_pallet):
            gtin, name, pack_price = products[(p * boxes_per_pallet + b + seed) % len(products)]
            box_id = sscc()
            line_n += 1
            yield ActLine(
                f"generated[{line_n}]",
                "00" + box_id,
                box_id,
                kind_sscc,
                box_l,
                pallet_id,
                gtin,
                name,
                declared_children=with_blocks,
            )
            if not with_blocks:
                continue
            block_price = pack_price * 10
            block_vat = block_price * 16 // 116
            price_ai = f"{GS}8005{pack_price:06d}{GS}93"
            block_head = "01" + gtin + "21"
            for _k in range(blocks_per_box):
                unit_n += 1
                block_id = block_head + _serial(unit_n, serial_seed)
                line_n += 1
                yield ActLine(
                    f"generated[{line_n}]",
                    block_id + price_ai + _tail(unit_n, seed, 2),
                    block_id,
                    kind_block,
                    block_l,
                    box_id,
                    gtin,
                    name,
                    block_price,
                    block_vat,
                    declared_children=with_packs,
                )
                if not with_packs:
                    continue
                for _j in range(packs_per_block):
                    unit_n += 1
                    pack_id = gtin + _serial(unit_n, serial_seed)
                    line_n += 1
                    yield ActLine(
                        f"generated[{line_n}]",
                        pack_id + _tail(unit_n, seed, 4),
                        pack_id,
                        kind_pack,
                        pack_l,
                        block_id,
                        gtin,
                    )


# ---------------------------------------------------------------------------------------------------
# Whole-tree checks (the reference for the import service's SQL)

TreeRow = tuple[str, str | None, Level] | tuple[str, str | None, Level, str]


def check_tree(lines: Iterable[TreeRow]) -> list[Problem]:
    """Whole-file checks over (identity, parent identity or None, level[, location]) rows, in memory.

    Reports: a code given twice (duplicate_code, at the later one); a parent that is not in the file
    (unknown_parent); a child whose level is not below its parent's (level_order); codes that contain
    each other in a loop (cycle, once per loop); and a child more than one level below its parent when
    the file has the level in between (level_skipped: a pack straight on a pallet when the file has
    boxes or blocks, a pack in a box when it has blocks, a block on a pallet when it has boxes).
    The location is the row's fourth element, or the identity when there is none.
    """
    problems = _Problems()
    nodes: dict[str, tuple[str | None, Level, str]] = {}
    rows: list[tuple[str, str | None, Level, str]] = []
    levels: set[Level] = set()
    for row in lines:
        identity, parent, level = row[0], row[1], row[2]
        location = row[3] if len(row) == 4 else identity
        rows.append((identity, parent, level, location))
        levels.add(level)
        if identity in nodes:
            problems.add(Problem(location, Reason.DUPLICATE_CODE, identity))
        else:
            nodes[identity] = (parent, level, location)
    ranks = {level.rank for level in levels}
    for identity, parent, level, location in rows:
        if parent is None:
            continue
        found = nodes.get(parent)
        if found is None:
            problems.add(Problem(location, Reason.UNKNOWN_PARENT, parent))
            continue
        parent_level = found[1]
        if parent_level.rank <= level.rank:
            if parent != identity:  # a code inside itself is a loop, reported below
                problems.add(Problem(location, Reason.LEVEL_ORDER, f"{level.value} in {parent_level.value}"))
        elif any(r in ranks for r in range(level.rank + 1, parent_level.rank)):
            problems.add(Problem(location, Reason.LEVEL_SKIPPED, f"{level.value} in {parent_level.value} {parent}"))
    problems.extend(_cycles(nodes))
    return problems.as_list()


def _cycles(nodes: Mapping[str, tuple[str | None, Level, str]]) -> Iterator[Problem]:
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    for start in nodes:
        if start in state:
            continue
        walk: list[str] = []
        node: str | None = start
        while node is not None and node in nodes and node not in state:
            state[node] = 1
            walk.append(node)
            node = nodes[node][0]
        if node is not None and state.get(node) == 1:  # came back onto this walk: a loop
            loop = walk[walk.index(node) :]
            shown = " → ".join(_show(code, 40) for code in loop[:5]) + (" → …" if len(loop) > 5 else "")
            yield Problem(nodes[node][2], Reason.CYCLE, f"{shown} → {_show(node, 40)}")
        for visited in walk:
            state[visited] = 2
