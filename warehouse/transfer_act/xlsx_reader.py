"""The XLSX form of an act: the sheet "act" (or the first) in the table layout, typed cells made text."""

from __future__ import annotations

import datetime
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


def _check_zip(path: Path) -> None:
    """Raise SourceError when the workbook would unpack to too much, or a part is packed too tightly."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise SourceError(Problem("file", Reason.UNREADABLE_FILE, f"not an XLSX workbook ({type(e).__name__})")) from e
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_MB << 20:
        raise SourceError(Problem("file", Reason.UNPACKS_TOO_LARGE, str(MAX_UNPACKED_MB)))
    for info in infos:
        if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise SourceError(Problem(info.filename, Reason.PACKED_TOO_TIGHT, info.filename))


class XlsxActReader(TableActReader):
    _typed = True

    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        _check_zip(self.path)
        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        # openpyxl reports a broken workbook through whatever zipfile, lxml or its own code raised.
        except Exception as e:
            problem = Problem("file", Reason.UNREADABLE_FILE, f"not an XLSX workbook ({type(e).__name__})")
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
                raise SourceError(Problem("file", Reason.MALFORMED, f"{type(e).__name__}: {e}")) from e
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
