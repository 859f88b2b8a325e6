"""Why an act file, or a line of it, is refused: a stable `Reason`, where, and words from the catalogs.

A reader never raises for a bad line: it records a `Problem` (capped, `ProblemList`) and goes on, so one
report lists everything wrong with a file. `ActFormatError` is raised only when the file cannot be used
at all; it carries every problem found.

>>> Problem("line 3", Reason.INVALID_PRICE, "-5", (("value", "-5"),)).message("en")
'Price “-5” must be a whole non-negative number of tiyn'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Final, Protocol

from warehouse.messages import DEFAULT_LANG, LANGS, N_, Phrasebook, WarehouseError, catalog, say
from warehouse.transfer_act.data import GS, GS_TEXT

MAX_PROBLEMS: Final = 1000


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
    TOO_DEEP = "too_deep"
    LONE_SURROGATE = "lone_surrogate"
    NO_SHEET = "no_sheet"
    UNPACKS_TOO_LARGE = "unpacks_too_large"
    PACKED_TOO_TIGHT = "packed_too_tight"
    OUT_OF_MEMORY = "out_of_memory"
    TEXT_TOO_LONG = "text_too_long"
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


# Messages take `{detail}` and the problem's args. Where the words depend on an arg (what a field should
# be, which code stands at which level, a BIN's form or its check digit), each value has its own whole
# sentence, keyed "reason.value": no word is put into another language's sentence in the wrong case.
ACT_FILE: Final = Phrasebook(
    "act_file",
    {
        Reason.UNSUPPORTED_FILE: N_("Unsupported file type “{detail}”: an act must be a .json, .csv or .xlsx file"),
        Reason.UNREADABLE_FILE: N_("The file cannot be read: {detail}"),
        "unreadable_file.xlsx": N_("The file is not an XLSX workbook, or the workbook is damaged"),
        Reason.EMPTY_FILE: N_("The file is empty"),
        Reason.ENCODING: N_("The file is not UTF-8 text ({detail})"),
        Reason.MALFORMED: N_("The file is damaged or not in the expected form: {detail}"),
        # A broken JSON file, located by json_errors (where it stopped is the problem's location)
        "malformed.ends_object": N_("The file ends in the middle of an object {{…}}: it was cut short"),
        "malformed.ends_list": N_("The file ends in the middle of a list […]: it was cut short"),
        "malformed.ends_text": N_("The file ends in the middle of a text in quotes: it was cut short"),
        "malformed.ends": N_("The file ends before its JSON is complete: it was cut short"),
        "malformed.expect_name": N_("“{symbol}” stands where a field name in quotes was expected"),
        "malformed.expect_colon": N_("“{symbol}” stands where “:” after a field name was expected"),
        "malformed.expect_comma_object": N_("“{symbol}” stands where “,” or “}}” was expected"),
        "malformed.expect_comma_list": N_("“{symbol}” stands where “,” or “]” was expected"),
        "malformed.expect_value": N_(
            "“{symbol}” stands where a value was expected (a text in quotes, a number, an object or a list)"
        ),
        "malformed.after_end": N_("Something follows the end of the JSON: a file holds one act"),
        "malformed.control": N_(
            "A text in quotes holds a control character (a tab, a line break or another invisible character)"
        ),
        "malformed.csv_ends": N_('The file ends inside a value in quotes: a quote “"” is not closed'),
        "malformed.csv_quote": N_(
            'A value in quotes goes on after its closing quote “"”: write a quote inside quotes twice'
        ),
        "malformed.csv": N_("The line is not valid CSV"),
        "malformed.xlsx": N_("A sheet of the workbook is damaged: it cannot be read to the end"),
        "malformed.json": N_("The JSON is broken: the file was cut short or has a syntax error"),
        Reason.WRONG_FORMAT: N_("Not a transfer-act/1 file (format: “{detail}”)"),
        Reason.NO_CODES: N_("The act lists no codes"),
        Reason.TOO_MANY_PROBLEMS: N_("…and {detail} more problems"),
        Reason.CHILDREN_FIRST_TOO_LARGE: N_(
            "An aggregate lists more than {detail} codes in “children” before its own “code”: "
            "put “code” and “level” first"
        ),
        Reason.TOO_DEEP: N_(
            "Codes are nested deeper than the {detail} packaging levels allow (pallet, box, block, pack)"
        ),
        Reason.LONE_SURROGATE: N_("“{detail}” is half of a character (a lone UTF-16 surrogate): the text is damaged"),
        Reason.NO_SHEET: N_("The workbook has no sheet"),
        Reason.UNPACKS_TOO_LARGE: N_("The workbook unpacks to more than {detail} MB: an act is never that large"),
        Reason.PACKED_TOO_TIGHT: N_(
            "Part “{detail}” of the workbook is packed far tighter than a spreadsheet can be: a damaged or hostile file"
        ),
        Reason.OUT_OF_MEMORY: N_(
            "Reading the file needs more than {detail} MB of memory: check the file, or split the act"
        ),
        Reason.TEXT_TOO_LONG: N_(
            "A text in quotes is longer than {detail} characters: no field of an act is that long"
        ),
        "text_too_long.field": N_("“{field}” is longer than {detail} characters: no field of an act is that long"),
        "text_too_long.cell": N_(
            "Cell {cell} holds a text longer than {detail} characters, more than a spreadsheet cell can hold"
        ),
        "text_too_long.workbook": N_(
            "The workbook holds a text longer than {detail} characters, more than a spreadsheet cell can hold"
        ),
        "text_too_long.line": N_(
            "The line holds a value longer than {detail} characters: no field of an act is that long"
        ),
        "text_too_long.number": N_("A number is longer than {detail} digits: no field of an act is that long"),
        Reason.MISSING_FIELD: N_("Required field “{detail}” is missing"),
        Reason.MISSING_COLUMN: N_("Column “{detail}” is missing"),
        Reason.UNKNOWN_FIELD: N_("Unknown field “{detail}” (a misspelt name?)"),
        Reason.DUPLICATE_FIELD: N_("Field “{detail}” is given more than once"),
        "wrong_type.object": N_("“{field}” must be an object {{…}}"),
        "wrong_type.list": N_("“{field}” must be a list […]"),
        "wrong_type.text": N_("“{field}” must be text"),
        "wrong_type.integer": N_("“{field}” must be a whole number"),
        Reason.TOO_LONG: N_("“{field}” is too long: {max} characters at most"),
        Reason.INVALID_TEXT: N_("“{field}” contains control characters"),
        Reason.INVALID_DATE: N_("“{field}”: “{value}” is not a date in the form YYYY-MM-DD"),
        Reason.INVALID_BIN: N_("“{field}”: “{value}” is not a BIN/IIN (12 digits)"),
        "invalid_bin.check_digit": N_("“{field}”: the check digit of the BIN/IIN “{value}” is wrong (a typo?)"),
        Reason.INVALID_CHOICE: N_("“{field}”: “{value}” is not one of {allowed}"),
        Reason.HEADER_AFTER_LINES: N_("Header row “{detail}” must come before the row of column names"),
        Reason.EXTRA_CELLS: N_("The row has values beyond the last column ({detail})"),
        Reason.NUMBER_NOT_TEXT: N_(
            "“{field}” is stored as a number ({value}): a spreadsheet loses the leading zeros and digits "
            "of long codes, store the cell as text"
        ),
        Reason.FIELD_AFTER_CHILDREN: N_("“{detail}” must come before “children” in the same object"),
        Reason.MISSING_CODE: N_("The line has no code"),
        Reason.INVALID_CODE: N_("Invalid code {code}: {why}"),
        Reason.PRODUCT_BARCODE: N_("{code} is a product barcode, not a marking code"),
        Reason.OTHER_PRODUCT_GROUP: N_(
            "{code} is a marking code of another product group, not a tobacco pack or block"
        ),
        Reason.UNKNOWN_LEVEL: N_("Unknown level “{value}”: use {allowed}"),
        # LEVEL_MISMATCH: what a code is and the level it was declared at (the ones a valid code can meet)
        "level_mismatch.pack.pallet": N_("A pack code cannot be declared as a pallet"),
        "level_mismatch.pack.box": N_("A pack code cannot be declared as a box"),
        "level_mismatch.pack.block": N_("A pack code cannot be declared as a block"),
        "level_mismatch.block.pallet": N_("A block code cannot be declared as a pallet"),
        "level_mismatch.block.box": N_("A block code cannot be declared as a box"),
        "level_mismatch.block.pack": N_("A block code cannot be declared as a pack"),
        "level_mismatch.sscc.block": N_("An SSCC cannot be declared as a block"),
        "level_mismatch.sscc.pack": N_("An SSCC cannot be declared as a pack"),
        "level_mismatch.aggregate.block": N_("An aggregation code cannot be declared as a block"),
        "level_mismatch.aggregate.pack": N_("An aggregation code cannot be declared as a pack"),
        Reason.LEVEL_ORDER: N_(
            "Wrong nesting ({detail}): a code must be of a lower level than the code that contains it"
        ),
        Reason.INVALID_GTIN: N_("“{value}” is not a valid GTIN (14 digits with a correct check digit)"),
        Reason.GTIN_MISMATCH: N_("GTIN {line} differs from the GTIN in the code, {code}"),
        Reason.INVALID_PRICE: N_("Price “{value}” must be a whole non-negative number of tiyn"),
        Reason.INVALID_VAT: N_("VAT “{value}” must be a whole non-negative number of tiyn"),
        Reason.DUPLICATE_CODE: N_("The code {detail} occurs more than once in the file"),
        Reason.UNKNOWN_PARENT: N_("The code {detail} that should contain this code is not in the file"),
        Reason.CYCLE: N_("Codes contain each other in a loop: {detail}"),
        Reason.LEVEL_SKIPPED: N_("A packaging level is skipped: {detail}"),
        Reason.DUPLICATE_ACT: N_("This act is already imported: {detail}"),
        # ActFormatError: the file as a whole, told by its first problem
        "refused": N_("The act file cannot be used: {location}: {problem}"),
        "refused_more": N_("The act file cannot be used: {location}: {problem} (and {more} more problems)"),
    },
)
# The args whose values choose the sentence (see above), by reason.
_VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    Reason.WRONG_TYPE: ("expected",),
    Reason.LEVEL_MISMATCH: ("kind", "level"),
    Reason.INVALID_BIN: ("check",),
    Reason.MALFORMED: ("kind",),
    Reason.UNREADABLE_FILE: ("kind",),
    Reason.TEXT_TOO_LONG: ("kind",),
}
LEVEL_VALUES: Final = "pallet, box, block, pack"  # what UNKNOWN_LEVEL allows: the words of the file format


class Explained(Protocol):
    """Another area's refusal a problem carries (a `codes.CodeError`): told in the reader's language."""

    @property
    def reason(self) -> str: ...

    def message(self, lang: str) -> str: ...


# The places in a file the readers name (json_errors, csv/json readers), worded for the reader.
_LINE_COLUMN = re.compile(r"line (\d+)(?:, column (\d+))?")
_WHERE_FILE = N_("the file")
_WHERE_LINE = N_("line {line}")
_WHERE_LINE_COLUMN = N_("line {line}, column {column}")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why (part of) a file is refused, and where: "line 12", "products[0].children[3]", "sender.bin", "file".

    `reason` is a `Reason` value; `detail` is the offending value in plain text (for logs and as the
    fallback wording); `args` fill the message; `cause` is the code error behind an INVALID_CODE, told
    in the same language as the problem.
    """

    location: str
    reason: str
    detail: str = ""
    args: tuple[tuple[str, str], ...] = ()
    cause: Explained | None = field(default=None, compare=False)

    def message(self, lang: str = DEFAULT_LANG) -> str:
        """The problem in words, without the location, in "ru", "kk" or "en" (anything else: Russian).

        >>> Problem("file", "something_new", "42").message("en")  # a reason of another layer
        'something_new: 42'
        """
        lang = lang if lang in LANGS else DEFAULT_LANG
        values = _Blank(self.args, detail=self.detail)
        msgid = ACT_FILE.messages.get(self._key(values))
        if msgid is None:
            return f"{self.reason}: {self.detail}" if self.detail else self.reason
        if self.cause is not None:
            values["why"] = self.cause.message(lang)
        return catalog(lang).gettext(msgid).format_map(values)

    def where(self, lang: str = DEFAULT_LANG) -> str | None:
        """The location in words of `lang` when it is a place in the text ("line 3", "line 1, column 40",
        "file"); None when it is a path of the format's own keys ("products[0].children[3]"), shown as it is.

        >>> Problem("line 1, column 40", Reason.MALFORMED).where("en"), Problem("sender.bin", "x").where("en")
        ('line 1, column 40', None)
        """
        lang = lang if lang in LANGS else DEFAULT_LANG
        if self.location == "file":
            return say(_WHERE_FILE, lang)
        if found := _LINE_COLUMN.fullmatch(self.location):
            line, column = found.groups()
            return (
                say(_WHERE_LINE_COLUMN, lang, line=line, column=column) if column else say(_WHERE_LINE, lang, line=line)
            )
        return None

    def _key(self, values: dict[str, str]) -> str:
        names = _VARIANTS.get(self.reason)
        if names and all(values.get(name) for name in names):
            key = ".".join((self.reason, *(values[name] for name in names)))
            if key in ACT_FILE:
                return key
        return self.reason

    def __str__(self) -> str:
        return f"{self.location}: {self.message('en')}"

    def __reduce__(self) -> tuple[type[Problem], tuple[str, str, str, tuple[tuple[str, str], ...], Explained | None]]:
        # The import service pickles problems from its reader process: the cause crosses as its words.
        cause = self.cause
        if cause is not None and not isinstance(cause, _Told):
            cause = _Told(str(cause.reason), tuple((lang, cause.message(lang)) for lang in LANGS))
        return type(self), (self.location, self.reason, self.detail, self.args, cause)


@dataclass(frozen=True, slots=True)
class _Told:
    """A cause already told in every language."""

    reason: str
    words: tuple[tuple[str, str], ...]

    def message(self, lang: str) -> str:
        return dict(self.words).get(lang, "")


class _Blank(dict[str, str]):
    """Message fields; one the problem does not carry reads as nothing, never as an error."""

    def __missing__(self, key: str) -> str:
        return ""


class ActFormatError(WarehouseError):
    """The act file cannot be used; `problems` lists every reason found, each with its location.

    Its message tells the first problem and how many more there are; show `problems` for the rest.
    """

    phrasebook: ClassVar[Phrasebook] = ACT_FILE

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("refused_more" if len(problems) > 1 else "refused")
        self.problems = problems

    def message(self, lang: str = DEFAULT_LANG) -> str:
        if not self.problems:
            return self.reason
        first = self.problems[0]
        more = len(self.problems) - 1
        return self.phrasebook.say(self.reason, lang, location=first.location, problem=first.message(lang), more=more)

    def __reduce__(self) -> tuple[type[ActFormatError], tuple[list[Problem]]]:
        return type(self), (self.problems,)  # pickled between the import service's processes


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def show(text: str, limit: int = 60) -> str:
    """A code as a person can read it in a message: GS as <GS>, other control characters escaped."""
    shown = _CONTROL.sub(lambda m: GS_TEXT if m[0] == GS else f"\\x{ord(m[0]):02x}", text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def wrong_type(location: str, name: str, expected: str) -> Problem:
    """`expected`: "object", "list", "text" or "integer"."""
    return Problem(location, Reason.WRONG_TYPE, f"{name}: {expected}", (("field", name), ("expected", expected)))


def value_problem(
    location: str, reason: Reason, name: str, value: object, more: tuple[tuple[str, str], ...] = ()
) -> Problem:
    shown = show(value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False))
    return Problem(location, reason, f"{name}: {shown}", (("field", name), ("value", shown), *more))


def capped(problems: Iterable[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS of `problems`, then one "and N more" for the rest (theirs included)."""
    collected = ProblemList()
    collected.extend(problems)
    return collected.as_list()


def invalid_code(location: str, text: str, error: Explained | None) -> Problem:
    args = (("code", show(text)),) if error is None else (("code", show(text)), ("cause", str(error.reason)))
    return Problem(location, Reason.INVALID_CODE, show(text, 200), args, error)


class ProblemList:
    """Problems of one read, capped: a broken million-line file must not produce a million messages."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.dropped = 0
        # What is listed: two checks that find the same problem (a box in a block: the reader, which knows
        # the parent's level, and the import's planner) list it once.
        self._listed: set[Problem] = set()

    def add(self, problem: Problem) -> None:
        if problem.reason == Reason.TOO_MANY_PROBLEMS and problem.detail.isdigit():
            self.dropped += int(problem.detail)  # another list's "and N more": they add up
        elif problem in self._listed:
            return
        elif len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)
            self._listed.add(problem)
        else:
            self.dropped += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def count(self) -> int:
        """Every problem recorded, the dropped ones too: a change means a step found one."""
        return len(self.items) + self.dropped

    def __bool__(self) -> bool:
        return bool(self.items)

    def as_list(self) -> list[Problem]:
        if self.dropped:
            return [*self.items, Problem("file", Reason.TOO_MANY_PROBLEMS, str(self.dropped))]
        return list(self.items)
