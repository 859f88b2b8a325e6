"""Transfer acts as files: the `transfer-act/1` exchange format in JSON, CSV and XLSX.

Pure and streaming. A reader yields one `ActLine` at a time and never holds the act in memory; a writer
takes lines one at a time. Nothing here knows Flask or the database: the import service stores the lines
and runs the whole-file checks (duplicates, unknown parents, skipped levels) in SQL, and `check_tree` is
the in-memory reference for those checks. The format is documented in docs/exchange-format.md.

    from warehouse import transfer_act

    reader = transfer_act.read_act(path)  # ActFormatError(problems) when the file cannot be used at all
    for line in reader.lines(): ...
    if reader.problems: ...  # refuse the act

One concept a module: `data` (header and lines), `problems` (reasons and their words), `fields` (the
checks every reader shares), `header`, the `json_reader`, `csv_reader` and `xlsx_reader` (the last two
on `table_reader`), `reading` (`read_act`, `load_act`), `writers`, `tree` (`check_tree`) and `demo`
(`generate_act`).
"""

from warehouse.transfer_act.data import (
    FORMAT,
    MAX_NAME,
    MAX_NUMBER,
    MAX_PRICE,
    MAX_SHORT_TEXT,
    ActHeader,
    ActLine,
    BasisDocument,
    Party,
)
from warehouse.transfer_act.demo import generate_act
from warehouse.transfer_act.problems import MAX_PROBLEMS, ActFormatError, Problem, Reason, capped
from warehouse.transfer_act.reader import ActReader
from warehouse.transfer_act.reading import load_act, read_act
from warehouse.transfer_act.tree import check_tree
from warehouse.transfer_act.writers import write_csv, write_json, write_xlsx
from warehouse.vocab import Level

__all__ = [
    "FORMAT",
    "MAX_NAME",
    "MAX_NUMBER",
    "MAX_PRICE",
    "MAX_PROBLEMS",
    "MAX_SHORT_TEXT",
    "ActFormatError",
    "ActHeader",
    "ActLine",
    "ActReader",
    "BasisDocument",
    "Level",
    "Party",
    "Problem",
    "Reason",
    "capped",
    "check_tree",
    "generate_act",
    "load_act",
    "read_act",
    "write_csv",
    "write_json",
    "write_xlsx",
]
