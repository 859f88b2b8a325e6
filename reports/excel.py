"""The Excel export of an act: summary, discrepancies, and every code by level, streamed.

openpyxl's write-only workbook keeps one row in memory at a time (each sheet goes to its own temporary
file), so a full truck of a million codes is written in constant memory.

Codes are written twice, because GS (0x1D) cannot be stored in a cell:
- "exact": the code as stored with each control character shown as its Control Picture (GS -> ␝);
  ``reports.codes_text.raw_from_visible`` gives the stored code back;
- "HRI": ``(01)…(21)…(8005)…(93)…`` for GS1 element strings, with a literal ``(`` escaped as ``\\(`` so
  that ``raw_from_hri`` is exact; empty for pack codes and custom aggregation codes, which have no AIs.

Every text goes in as an explicit string cell. openpyxl would store ``=1+1`` as a formula and
``#N/A`` as an error; such values (and anything starting with ``= + - @``, which spreadsheet programs
may evaluate when a person edits the cell) get a cell with data type "s" and the quote-prefix style.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reports.codes_text import gs1_hri, visible_gs
from reports.formatting import fmt_date
from reports.model import LEVELS, ActInfo, CodeRow, DiscrepancyLine, GtinLine, Progress
from reports.pdf_layout import Output, open_output
from reports.texts import GTIN, Lang, Words, word, words
from warehouse.messages import N_, say

__all__ = ["EXCEL_MAX_ROWS", "codes_xlsx"]

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet in every Excel since 2007
_RISKY_START = frozenset("=+-@")
_ERRORS = frozenset(ERROR_CODES)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what openpyxl refuses; tab and newlines are fine
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_MONEY = "#,##0.00"
_SHEET_NAME_MAX = 31


def codes_xlsx(
    out: Output,
    act: ActInfo,
    gtin_lines: Iterable[GtinLine],
    discrepancies: Iterable[DiscrepancyLine],
    codes: Iterable[CodeRow],
    lang: Lang,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Progress | None = None,
) -> None:
    """Write the act's workbook to ``out`` (a path or a binary file object).

    Sheets: summary (act header, counts by GTIN and level), discrepancies, one sheet per level with
    every code, its GTIN, its aggregate and its status, and notes that explain the code columns.
    A sheet that reaches ``max_rows`` rows (header included) continues on "<name> (2)", "(3)", …
    right after it. ``progress`` is called with the number of code rows written, every 10,000 rows.
    """
    if max_rows < 2:
        raise ValueError("max_rows must leave room for a header and one row")
    t = words(lang)
    wb = Workbook(write_only=True)
    try:
        _fill(wb, act, gtin_lines, discrepancies, codes, t, lang, max_rows, progress)
        with open_output(out) as stream:
            wb.save(stream)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Workbook) -> None:
    """Remove the sheets' temporary files of a workbook that will never be saved: a failed export of
    a full truck would otherwise leave a hundred megabytes in /tmp until the server stops."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None or not os.path.exists(writer.out):
            continue
        # Finishing the sheet's XML is only a way to release its file handle; the original error,
        # re-raised by the caller, is the one that matters.
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        os.remove(writer.out)


def _fill(
    wb: Workbook,
    act: ActInfo,
    gtin_lines: Iterable[GtinLine],
    discrepancies: Iterable[DiscrepancyLine],
    codes: Iterable[CodeRow],
    t: Words,
    lang: Lang,
    max_rows: int,
    progress: Progress | None,
) -> None:
    _write_summary(wb, act, gtin_lines, t, lang)
    disc = _SheetStream(
        wb,
        say(N_("Discrepancies"), lang),
        [
            (say(N_("Discrepancy"), lang), 18),
            (say(N_("Code (exact, ␝ = GS)"), lang), 52),
            (say(N_("Code (HRI)"), lang), 56),
            (say(N_("Level"), lang), 10),
            (say(N_("Aggregate (exact, ␝ = GS)"), lang), 52),
            (say(N_("Aggregate level"), lang), 12),
            (GTIN, 16),
            (say(N_("Resolution"), lang), 22),
            (say(N_("Reason"), lang), 30),
            (say(N_("Comment"), lang), 40),
        ],
        max_rows,
    )
    by_level: dict[str, _SheetStream] = {}
    for level in LEVELS:
        columns = [(say(N_("Code (exact, ␝ = GS)"), lang), 52)] + (
            [] if level == "pack" else [(say(N_("Code (HRI)"), lang), 56)]
        )
        columns += [(GTIN, 16), (say(N_("Aggregate (exact, ␝ = GS)"), lang), 52), (say(N_("Status"), lang), 18)]
        by_level[level] = _SheetStream(wb, word(t.levels_plural, level), columns, max_rows)
    _write_notes(wb, t, lang)

    for line in discrepancies:
        parent = line.parent_code
        disc.append(
            [
                word(t.kinds, line.kind),
                visible_gs(line.code),
                gs1_hri(line.code, line.level, escape=True),
                word(t.levels, line.level),
                visible_gs(parent) if parent else None,
                word(t.levels, line.parent_level),
                _clean(line.gtin),
                _clean(word(t.resolutions, line.resolution)),
                _clean(word(t.reasons, line.reason)),
                _clean(line.comment),
            ]
        )

    statuses: dict[str | None, str] = {}
    last_parent: tuple[str | None, str | None] = (None, None)  # siblings share a parent: convert it once
    for n, row in enumerate(codes, 1):
        if row.parent_code != last_parent[0]:
            last_parent = (row.parent_code, visible_gs(row.parent_code) if row.parent_code else None)
        if (status := statuses.get(row.status)) is None:
            status = statuses[row.status] = _clean(word(t.statuses, row.status)) or ""
        gtin = _clean(row.gtin)
        if row.level == "pack":
            by_level["pack"].append([visible_gs(row.code), gtin, last_parent[1], status])
        else:
            by_level[row.level].append(
                [visible_gs(row.code), gs1_hri(row.code, row.level, escape=True), gtin, last_parent[1], status]
            )
        if progress is not None and n % 10_000 == 0:
            progress(n)


def _clean(text: str | None) -> str | None:
    """Free text (names, comments) without the control characters a cell cannot hold."""
    if text is None or not _ILLEGAL.search(text):
        return text
    return _ILLEGAL.sub(lambda m: visible_gs(m[0]), text)


class _SheetStream:
    """Rows of one logical sheet, continued on "<title> (2)", "(3)"… when a sheet is full."""

    def __init__(self, wb: Workbook, title: str, columns: Sequence[tuple[str, float]], max_rows: int) -> None:
        self.wb = wb
        self.title = title
        self.columns = columns
        self.max_rows = max_rows
        self.part = 0
        self.ws: Any = None
        self.rows = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.part += 1
        previous = self.ws
        suffix = "" if self.part == 1 else f" ({self.part})"
        self.ws = self.wb.create_sheet(_sheet_title(self.title, suffix))
        if previous is not None:  # keep a continuation right after the sheet it continues
            offset = self.wb.sheetnames.index(previous.title) + 1 - self.wb.sheetnames.index(self.ws.title)
            self.wb.move_sheet(self.ws.title, offset)
        for index, (_, width) in enumerate(self.columns, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A2"
        self.ws.append([_cell(self.ws, name, font=_BOLD) for name, _ in self.columns])
        self.rows = 1

    def append(self, values: list[Any]) -> None:
        """Append one row; a text openpyxl would take for a formula or an error becomes a text cell."""
        if self.rows >= self.max_rows:
            self._new_sheet()
        ws = self.ws
        ws.append(
            [_cell(ws, v) if v.__class__ is str and v and (v[0] in _RISKY_START or v in _ERRORS) else v for v in values]
        )
        self.rows += 1


def _sheet_title(title: str, suffix: str) -> str:
    for char in "[]:*?/\\":  # characters Excel refuses in sheet names
        title = title.replace(char, " ")
    return title[: _SHEET_NAME_MAX - len(suffix)] + suffix


def _cell(ws: Any, value: Any, *, font: Font | None = None, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula or an error, whatever the text starts with
        if value[:1] in _RISKY_START:
            cell.quotePrefix = True  # and it stays text when someone edits it in Excel
    if font is not None:
        cell.font = font
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _write_summary(wb: Workbook, act: ActInfo, gtin_lines: Iterable[GtinLine], t: Words, lang: Lang) -> None:
    ws = wb.create_sheet(_sheet_title(say(N_("Summary"), lang), ""))
    for letter, width in zip("ABCDEFGH", (18, 44, 12, 14, 14, 14, 14, 18), strict=True):
        ws.column_dimensions[letter].width = width

    def text(value: str | None) -> Any:
        return None if value is None else _cell(ws, _clean(value))

    ws.append([_cell(ws, say(N_("Marking codes of the act"), lang), font=Font(bold=True, size=14))])
    if act.demo:
        mark = say(N_("DEMO — not legally valid"), lang)
        ws.append([_cell(ws, mark, font=Font(bold=True, size=14, color="C00000"))])
    basis = "; ".join(f"{word(t.basis_types, doc[0])} № {doc[1]} {fmt_date(doc[2], lang)}".strip() for doc in act.basis)
    facts = [
        (say(N_("Act number"), lang), act.number),
        (say(N_("Act date"), lang), fmt_date(act.date, lang)),
        (say(N_("Sender"), lang), act.sender.name),
        (say(N_("BIN"), lang), act.sender.bin),
        (say(N_("Receiver"), lang), act.receiver.name),
        (say(N_("BIN"), lang), act.receiver.bin),
        (say(N_("Basis"), lang), basis or None),
        (say(N_("Turnover type"), lang), word(t.turnovers, act.turnover) or None),
        (say(N_("Receiving mode"), lang), word(t.modes, act.mode) or None),
        (say(N_("Act status"), lang), word(t.statuses, act.status) or None),
    ]
    for label, value in facts:
        ws.append([_cell(ws, label, font=_BOLD), text(value)])
    ws.append([])
    header = [
        GTIN,
        say(N_("Product (report)"), lang),
        say(N_("Level"), lang),
        say(N_("Expected"), lang),
        say(N_("Credited"), lang),
        say(N_("Difference"), lang),
        say(N_("Price, ₸"), lang),
        say(N_("Credited amount, ₸"), lang),
    ]
    ws.append([_cell(ws, name, font=_BOLD) for name in header])
    totals: dict[str, list[Any]] = {}  # expected, credited, amount
    for line in gtin_lines:
        price = None if line.price_tiyn is None else Decimal(line.price_tiyn) / 100
        amount = None if price is None else price * line.credited
        sums = totals.setdefault(line.level, [0, 0, Decimal(0)])
        sums[0] += line.expected
        sums[1] += line.credited
        sums[2] += amount or Decimal(0)
        ws.append(
            [
                text(line.gtin),
                text(line.name),
                text(word(t.levels, line.level)),
                line.expected,
                line.credited,
                line.credited - line.expected,
                _cell(ws, price, number_format=_MONEY),
                _cell(ws, amount, number_format=_MONEY),
            ]
        )
    for level in LEVELS:
        if level in totals:
            expected, credited, amount = totals[level]
            ws.append(
                [
                    None,
                    _cell(ws, say(N_("Total, {level}"), lang, level=word(t.levels, level)), font=_BOLD),
                    None,
                    expected,
                    credited,
                    credited - expected,
                    None,
                    _cell(ws, amount, font=_BOLD, number_format=_MONEY),
                ]
            )


def _write_notes(wb: Workbook, t: Words, lang: Lang) -> None:
    ws = wb.create_sheet(_sheet_title(say(N_("Notes"), lang), ""))
    ws.column_dimensions["A"].width = 120
    for note in t.notes:
        cell = _cell(ws, note)
        cell.alignment = _WRAP
        ws.append([cell])
