"""Opening an act file: `read_act` picks the reader by the extension, `load_act` reads a small act whole."""

from __future__ import annotations

from pathlib import Path

from warehouse.transfer_act.csv_reader import CsvActReader
from warehouse.transfer_act.data import ActHeader, ActLine
from warehouse.transfer_act.json_reader import JsonActReader
from warehouse.transfer_act.problems import ActFormatError, Problem, ProblemList, Reason
from warehouse.transfer_act.reader import ActReader
from warehouse.transfer_act.tree import check_tree
from warehouse.transfer_act.xlsx_reader import XlsxActReader


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
    readers: dict[str, type[ActReader]] = {".json": JsonActReader, ".csv": CsvActReader, ".xlsx": XlsxActReader}
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
    header, problems, fatal = reader.read_header()
    if header is None:
        collected = ProblemList()
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
    problems = ProblemList()
    problems.extend(reader.problems)
    if not any(p.reason == Reason.MALFORMED for p in reader.problems):
        problems.extend(check_tree((line.identity, line.parent_code, line.level, line.location) for line in lines))
    if problems:
        raise ActFormatError(problems.as_list())
    return reader.header, lines
