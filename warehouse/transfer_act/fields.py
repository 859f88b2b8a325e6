"""Field checks every reader shares, and the builder that turns the raw fields of a line into an `ActLine`.

Each check returns the value when it is good and records a `Problem` otherwise, so a reader reports
everything wrong with a line at once. `LineBuilder.build` is the hot path (a million lines a truck):
its fast paths come first, each slow path records its problem.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal
from typing import Final

from warehouse import codes, identifiers
from warehouse.transfer_act.data import (
    BLOCK,
    FITS,
    GS,
    GS_PICTURE,
    INVALID,
    LEVELS,
    MAX_CODE,
    MAX_IDENTITY,
    MAX_NAME,
    MAX_PRICE,
    MAX_VAT,
    PACK,
    PRODUCT,
    RANK,
    ActLine,
)
from warehouse.transfer_act.problems import (
    LEVEL_VALUES,
    Problem,
    ProblemList,
    Reason,
    invalid_code,
    show,
    value_problem,
    wrong_type,
)
from warehouse.vocab import Level

# Text a header or a name may not contain: control characters, lone surrogates and the two XML
# non-characters. Everything accepted can therefore be written to XLSX and XML as it is.
_BAD_TEXT: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GS1_GTIN: Final = re.compile(r"01([0-9]{14})21")
_TOBACCO_BLOCK_TAIL: Final = re.compile("[!-~]{7}(?:\x1d|<GS>)?(?:8005|93)")


@functools.lru_cache(maxsize=4096)  # an act has a few GTINs on a million lines
def _gtin_ok(gtin: str) -> bool:
    return len(gtin) == 14 and identifiers.gs1_key_ok(gtin)


def check_text(
    value: object, name: str, location: str, limit: int, problems: ProblemList, required: bool = False
) -> str | None:
    """A text field, or None when it is absent, empty or wrong (the problem is recorded)."""
    if value is None or value == "":
        if required:
            problems.add(Problem(location, Reason.MISSING_FIELD, name))
        return None
    if not isinstance(value, str):
        problems.add(wrong_type(location, name, "text"))
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


def check_date(value: object, name: str, location: str, problems: ProblemList) -> datetime.date | None:
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
    problems.add(value_problem(location, Reason.INVALID_DATE, name, value))
    return None


def check_bin(value: object, name: str, location: str, problems: ProblemList) -> str | None:
    """A БИН/ИИН: twelve digits, the last the check digit of the first eleven."""
    if value is None or value == "":
        problems.add(Problem(location, Reason.MISSING_FIELD, name))
        return None
    if isinstance(value, str) and identifiers.valid_bin(value):
        return value
    if isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit():
        # the form is right, the number is not: a typo, or a made-up number
        problems.add(value_problem(location, Reason.INVALID_BIN, name, value, (("check", "check_digit"),)))
    else:
        problems.add(value_problem(location, Reason.INVALID_BIN, name, value))
    return None


def check_amount(
    value: object, reason: Reason, limit: int, name: str, location: str, problems: ProblemList
) -> int | None:
    if value is None or value == "":
        return None
    if type(value) is int and 0 <= value <= limit:  # not bool, not Decimal: tiyn are whole
        return value
    problems.add(value_problem(location, reason, name, value if not isinstance(value, Decimal) else str(value)))
    return None


def check_gtin(value: object, location: str, problems: ProblemList) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # GTIN-8/12/13 are GTIN-14 with leading zeros; the act stores GTIN-14.
        padded = value.zfill(14) if len(value) in (8, 12, 13) else value
        if _gtin_ok(padded):
            return padded
    problems.add(value_problem(location, Reason.INVALID_GTIN, "gtin", value))
    return None


def check_level(value: object, location: str, problems: ProblemList) -> Level | None:
    if value is None or value == "":
        problems.add(Problem(location, Reason.MISSING_FIELD, "level"))
        return None
    found = LEVELS.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        problems.add(value_problem(location, Reason.UNKNOWN_LEVEL, "level", value, (("allowed", LEVEL_VALUES),)))
    return found


def _looks_other_group(text: str) -> bool:
    """A GS1 element string with a real GTIN and a serial (01…21…) not shaped like a tobacco block
    (7-character serial, then 8005 or 93): milk, shoes, medicines and the other groups look like this.
    A tobacco-shaped but damaged block stays an invalid code."""
    m = _GS1_GTIN.match(text)
    return m is not None and _gtin_ok(m[1]) and not _TOBACCO_BLOCK_TAIL.match(text, 18)


class LineBuilder:
    """Turns the raw fields of one line into an ActLine, recording every problem of the line."""

    def __init__(self, problems: ProblemList) -> None:
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
        level = LEVELS.get(level_value) if type(level_value) is str else None
        if level is None:
            level = check_level(level_value, location, problems)
        if type(code) is not str or not code or len(code) > MAX_CODE:
            self._bad_code(location, code)
            self._check_fields(location, gtin, name, price, vat)  # report everything wrong with the line
            return None
        text = code.replace(GS_PICTURE, GS) if GS_PICTURE in code else code
        parsed = codes.parse(text)
        if parsed.kind is INVALID and (level is Level.PACK or level is Level.BLOCK):
            # An act fetched from the operator gives packs and blocks in its form (no crypto tail).
            parsed = codes.parse_operator_form(text) or parsed
        kind = parsed.kind
        ok = parsed.error is None and kind is not INVALID  # parsed.ok, without a property call a line
        if not (ok and level is not None and kind in FITS[level]):
            self._code_problem(location, text, parsed, level)
        code_gtin = parsed.gtin
        if gtin is None or (gtin == code_gtin and ok):  # a valid code's GTIN passed its check digit
            line_gtin = code_gtin
        else:
            line_gtin = check_gtin(gtin, location, problems)
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
            name = check_text(name, "name", location, MAX_NAME, problems)
        if price is not None:
            price = check_amount(price, Reason.INVALID_PRICE, MAX_PRICE, "price", location, problems)
        if vat is not None:
            vat = check_amount(vat, Reason.INVALID_VAT, MAX_VAT, "vat", location, problems)
        if level is None:
            return None
        if parent_level is not None and RANK[parent_level] <= RANK[level]:
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
            check_gtin(gtin, location, problems)
        if name is not None:
            check_text(name, "name", location, MAX_NAME, problems)
        if price is not None:
            check_amount(price, Reason.INVALID_PRICE, MAX_PRICE, "price", location, problems)
        if vat is not None:
            check_amount(vat, Reason.INVALID_VAT, MAX_VAT, "vat", location, problems)

    def _bad_code(self, location: str, code: object) -> None:
        if code is None or code == "":
            self.problems.add(Problem(location, Reason.MISSING_CODE))
        elif not isinstance(code, str):
            self.problems.add(wrong_type(location, "code", "text"))
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
        if kind is PRODUCT:
            problems.add(Problem(location, Reason.PRODUCT_BARCODE, text, (("code", show(text)),)))
        elif (
            (level is Level.PACK or level is Level.BLOCK)
            and kind not in (PACK, BLOCK)
            and _looks_other_group(parsed.normalized or text)
        ):
            problems.add(Problem(location, Reason.OTHER_PRODUCT_GROUP, text, (("code", show(text)),)))
        elif not parsed.ok:
            problems.add(invalid_code(location, text, parsed.error))
        elif level is not None:
            detail = f"{kind.value} code as {level.value}"
            problems.add(
                Problem(location, Reason.LEVEL_MISMATCH, detail, (("kind", kind.value), ("level", level.value)))
            )
