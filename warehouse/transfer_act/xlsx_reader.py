"""The XLSX form of an act: the sheet "act" (or the first) in the table layout, typed cells made text."""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from warehouse.transfer_act.problems import Problem, Reason
from warehouse.transfer_act.table_reader import Cell, SourceError, TableActReader

# What the workbook may unpack to, checked in the zip directory before openpyxl reads a byte of it
# (zipfile never unpacks more than a member's declared size). A full truck (a million codes, Excel's
# row limit) is about 300-600 MB of sheet XML, packed about 8 to 1; a file packed 1000 to 1 is a zip
# bomb: 2 MB holding one 2 GB cell took 3.9 GB to read.
MAX_UNPACKED_MB: Final = 1024
MAX_RATIO: Final = 100
_RATIO_FROM: Final = 1 << 20  # small parts (styles, themes) may be packed tighter: they cannot hurt
MAX_MEMBERS: Final = 10_000
# A cell holds at most 32,767 characters (Excel's limit; openpyxl reads any length, building the whole
# text in memory first). One character is at most 10 bytes of XML ("&#1114111;"), so a text node with
# more bytes than this has more characters: it is refused from the XML, before openpyxl reads it.
MAX_CELL: Final = 32_767
_CELL_WINDOW: Final = 10 * MAX_CELL + 1
_CHUNK: Final = 1 << 20
_CELL_REF: Final = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')


def _not_a_workbook(e: Exception) -> Problem:
    """What zipfile, zlib, lxml or openpyxl raised, told in our words ("unreadable_file.xlsx")."""
    return Problem("file", Reason.UNREADABLE_FILE, f"not an XLSX workbook ({type(e).__name__})", (("kind", "xlsx"),))


def _check_zip(path: Path) -> None:
    """Raise SourceError when the workbook would unpack to too much, or a part is packed too tightly."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise SourceError(_not_a_workbook(e)) from e
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_MB << 20:
        raise SourceError(Problem("file", Reason.UNPACKS_TOO_LARGE, str(MAX_UNPACKED_MB)))
    for info in infos:
        if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise SourceError(Problem(info.filename, Reason.PACKED_TOO_TIGHT, info.filename))


def _too_long(cell: str, row: str) -> SourceError:
    args = (("kind", "cell"), ("cell", cell))
    return SourceError(Problem(f"line {row}", Reason.TEXT_TOO_LONG, str(MAX_CELL), args))


def _long_texts(z: zipfile.ZipFile, name: str) -> Iterator[tuple[int, bytes]]:
    """(offset, the XML before it in its chunk) of each text node of `name` longer than a cell can hold:
    a window of _CELL_WINDOW bytes without a "<" lies inside one. Read a megabyte at a time, unpacked."""
    base = 0
    last_cell = b""  # the last "<c ...>" of the chunks before: a text may begin chunks before its window
    with z.open(name) as f:
        while chunk := f.read(_CHUNK):
            at = 0
            while at + _CELL_WINDOW <= len(chunk):
                if chunk.find(b"<", at, at + _CELL_WINDOW) < 0:
                    yield base + at, last_cell + chunk[:at]
                    break
                at += _CELL_WINDOW
            start = chunk.rfind(b"<c ")
            if start >= 0:
                last_cell = chunk[start : start + 200]
            base += len(chunk)


def _check_cells(path: Path) -> None:
    """Raise SourceError naming the cell whose text is longer than a cell can hold."""
    try:
        _check_members(path)
    except SourceError:
        raise
    # A damaged member: zipfile reports it through zlib, struct or its own errors.
    except Exception as e:
        raise SourceError(_not_a_workbook(e)) from e


def _check_members(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        for sheet in sheets:
            for _, before in _long_texts(z, sheet):  # an inline string: its <c r="B7"> is just before it
                refs = list(_CELL_REF.finditer(before))
                if refs:
                    raise _too_long(refs[-1][1].decode() + refs[-1][2].decode(), refs[-1][2].decode())
                raise SourceError(Problem(sheet, Reason.TEXT_TOO_LONG, str(MAX_CELL), (("kind", "workbook"),)))
        if "xl/sharedStrings.xml" not in names:
            return
        for offset, _ in _long_texts(z, "xl/sharedStrings.xml"):
            index = _string_index(z, offset)
            for sheet in sheets:
                found = _cell_of_shared(z, sheet, index)
                if found is not None:
                    raise _too_long(*found)
            raise SourceError(Problem("file", Reason.TEXT_TOO_LONG, str(MAX_CELL), (("kind", "workbook"),)))


def _string_index(z: zipfile.ZipFile, offset: int) -> int:
    """Which shared string (0-based) the byte at `offset` of sharedStrings.xml belongs to."""
    count, seen = 0, 0
    with z.open("xl/sharedStrings.xml") as f:
        while seen < offset and (chunk := f.read(min(_CHUNK, offset - seen))):
            count += chunk.count(b"<si>") + chunk.count(b"<si ")
            seen += len(chunk)
    return count - 1


def _cell_of_shared(z: zipfile.ZipFile, sheet: str, index: int) -> tuple[str, str] | None:
    """(cell, row) of the first cell of `sheet` that shows shared string `index`."""
    pattern = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\bt="s"[^>]*>\s*<v>%d</v>' % index)
    tail = b""
    with z.open(sheet) as f:
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            m = pattern.search(data)
            if m is not None:
                return m[1].decode() + m[2].decode(), m[2].decode()
            tail = data[-4096:]
    return None


class XlsxActReader(TableActReader):
    _typed = True

    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        _check_zip(self.path)
        _check_cells(self.path)
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        # openpyxl reports a broken workbook through whatever zipfile, lxml or its own code raised.
        except Exception as e:
            problem = _not_a_workbook(e)
            raise SourceError(problem) from e
        try:
            if "act" in workbook.sheetnames:
                sheet = workbook["act"]
            elif workbook.worksheets:
                sheet = workbook.worksheets[0]
            else:
                raise SourceError(Problem("file", Reason.NO_SHEET))
            try:
                for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                    yield number, list(row)
            except Exception as e:
                detail = f"{type(e).__name__}: {e}"  # for the log; a person reads "malformed.xlsx"
                raise SourceError(Problem("file", Reason.MALFORMED, detail, (("kind", "xlsx"),))) from e
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
