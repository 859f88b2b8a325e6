"""The CSV form of an act: UTF-8 (a BOM is fine), comma or semicolon, in the table layout."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, Final

from warehouse.transfer_act.problems import Problem, Reason
from warehouse.transfer_act.table_reader import Cell, SourceError, TableActReader

# CSV cells that a spreadsheet would take for a formula get a leading apostrophe; so does a value that
# itself starts with one, so that reading strips exactly what writing added.
_FORMULA_START: Final = frozenset("=+-@\t\r'")


class CsvActReader(TableActReader):
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
            raise SourceError(Problem("file", Reason.ENCODING, f"byte {e.start}")) from e
        except csv.Error as e:
            raise SourceError(_csv_problem(f"line {start}", str(e))) from e
        except OSError as e:
            raise SourceError(Problem("file", Reason.UNREADABLE_FILE, e.strerror or str(e))) from e


def _csv_problem(location: str, said: str) -> Problem:
    """The csv module's error in our words (its own text is never shown)."""
    if "field larger than field limit" in said:
        limit = str(csv.field_size_limit())
        return Problem(location, Reason.TEXT_TOO_LONG, limit, (("kind", "line"),))
    kind = "csv_ends" if "unexpected end of data" in said else "csv_quote" if "expected after" in said else "csv"
    return Problem(location, Reason.MALFORMED, kind, (("kind", kind),))


def _csv_unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def csv_escape(value: str) -> str:
    return "'" + value if value and value[0] in _FORMULA_START else value
