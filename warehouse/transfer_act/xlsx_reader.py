"""The XLSX form of an act: the sheet "act" (or the first) in the table layout, typed cells made text."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from warehouse.transfer_act.problems import Problem, Reason
from warehouse.transfer_act.table_reader import Cell, SourceError, TableActReader


class XlsxActReader(TableActReader):
    _typed = True

    def _rows(self) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        # openpyxl reports a broken workbook through whatever zipfile, lxml or its own code raised.
        except Exception as e:
            problem = Problem("file", Reason.UNREADABLE_FILE, f"not an XLSX workbook ({type(e).__name__})")
            raise SourceError(problem) from e
        try:
            sheet = workbook["act"] if "act" in workbook.sheetnames else workbook.worksheets[0]
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
