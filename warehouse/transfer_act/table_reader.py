"""The layout CSV and XLSX share: `#key,value` header rows, a row of column names, one code a row.

`TableActReader` reads it from rows of cells; the CSV and XLSX readers only say how to get the rows and
how a typed spreadsheet cell becomes text.
"""

from __future__ import annotations

import datetime
import re
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from warehouse import codes
from warehouse.transfer_act.data import GS, GS_PICTURE, LEVELS, RANK, ActHeader, ActLine
from warehouse.transfer_act.fields import LineBuilder
from warehouse.transfer_act.header import build_header
from warehouse.transfer_act.problems import Problem, ProblemList, Reason, show, value_problem
from warehouse.transfer_act.reader import ActReader
from warehouse.vocab import Level

_DIGITS: Final = re.compile(r"[0-9]+")

COLUMNS: Final = ("code", "level", "parent_code", "gtin", "name", "price", "vat", "children")
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
_SSCC_IDENTITY: Final = re.compile(r"[0-9]{18}")
_BLOCK_IDENTITY: Final = re.compile(r"01[0-9]{14}21[!-~]{7}")

Cell = str | int | float | datetime.datetime | datetime.date | bool | None


class SourceError(Exception):
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


class TableActReader(ActReader):
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
        """(1-based line or row number, a fresh list of cells); raises SourceError."""

    def _text_cell(self, value: Cell) -> Cell:
        """How a text field is read from a cell: CSV cells are already text."""
        return value

    def _code_cell(self, value: Cell, name: str, location: str, problems: ProblemList) -> str | None:
        if value is None or isinstance(value, str):
            return value
        problems.add(value_problem(location, Reason.NUMBER_NOT_TEXT, name, value))
        return None

    def read_header(self) -> tuple[ActHeader | None, list[Problem], bool]:
        problems = ProblemList()
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
                    problems.add(Problem(location, Reason.UNKNOWN_FIELD, show(f"#{key}")))
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
        except SourceError as e:
            return None, [*problems.as_list(), e.problem], True
        if basis:
            values["basis"] = basis
        if not found_columns:
            problems.add(Problem("file", Reason.MISSING_COLUMN, ", ".join(_REQUIRED_COLUMNS)))
        header = build_header(values, lambda path: lines.get(path, lines.get(path.split(".")[0], "file")), problems)
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

    def _set_columns(self, cells: Sequence[Cell], location: str, problems: ProblemList) -> None:
        names = _trimmed(cells)
        self._width = len(names)
        for i, cell in enumerate(names):
            name = str(cell).strip().lower() if cell is not None else ""
            if name in self._columns:
                problems.add(Problem(location, Reason.DUPLICATE_FIELD, show(name)))
            elif name in COLUMNS:
                self._columns[name] = i
            else:
                problems.add(Problem(location, Reason.UNKNOWN_FIELD, show(name) if name else f"#{i + 1}"))
        for name in _REQUIRED_COLUMNS:
            if name not in self._columns:
                problems.add(Problem(location, Reason.MISSING_COLUMN, name))

    def _lines(self, problems: ProblemList) -> Iterator[ActLine]:
        if any(name not in self._columns for name in _REQUIRED_COLUMNS):
            return  # reported with the header
        build = LineBuilder(problems).build
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
                elif children == "no" or (children == "" and level_cell == Level.PACK):
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
        except SourceError as e:
            problems.add(e.problem)

    def _declared(self, value: Cell, level_cell: Cell, location: str, problems: ProblemList) -> bool:
        level = LEVELS.get(level_cell.strip().lower()) if isinstance(level_cell, str) else None
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
                    f"children: {show(text)}",
                    (("field", "children"), ("value", show(text)), ("allowed", "yes, no")),
                )
            )
            return False
        if level is None or level is Level.PACK:
            return False
        # Not said: the contents of an aggregate count as declared when the file goes below its level.
        return self._deepest_rank() < RANK[level]

    def _deepest_rank(self) -> int:
        """Rank of the lowest level in the file, found by one extra pass the first time it is needed."""
        if self._deepest is None:
            deepest = 3
            c_level = self._columns["level"]
            try:
                for lineno, cells in self._rows():
                    if lineno > self._column_line and c_level < len(cells) and isinstance(cells[c_level], str):
                        level = LEVELS.get(str(cells[c_level]).strip().lower())
                        if level is not None and RANK[level] < deepest:
                            deepest = RANK[level]
                            if deepest == 0:
                                break
            except SourceError:
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
