"""Writing an act as JSON, CSV or XLSX: line by line, atomically (nothing is left at the path on failure)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from warehouse.transfer_act.csv_reader import csv_escape
from warehouse.transfer_act.data import GS, GS_TEXT, XLSX_MAX_ROWS, ActHeader, ActLine, Party
from warehouse.transfer_act.table_reader import COLUMNS
from warehouse.vocab import Level


@contextmanager
def _atomic(path: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """Write to a temporary file beside `path` and put it in place only when everything was written."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open(mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _header_json(header: ActHeader) -> str:
    dumps = json.dumps

    def party(p: Party) -> str:
        return dumps({"name": p.name, "bin": p.bin}, ensure_ascii=False)

    basis = ", ".join(
        dumps({"type": b.type, "number": b.number, "date": b.date}, ensure_ascii=False) for b in header.basis
    )
    return (
        f'{{"format": {dumps(header.format)}, "number": {dumps(header.number, ensure_ascii=False)}, '
        f'"date": "{header.date.isoformat()}",\n'
        f' "sender": {party(header.sender)},\n "receiver": {party(header.receiver)},\n'
        f' "basis": [{basis}], "turnover": {dumps(header.turnover, ensure_ascii=False)},\n'
        ' "products": ['
    )


def write_json(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write a `transfer-act/1` JSON file; returns the number of lines written.

    `lines` must come in depth-first preorder (each line right after its parent or its parent's earlier
    descendants), as the readers and `generate_act` produce them: children are nested under their parent
    as they arrive, so only the open ancestors are kept in memory. A line's parent must declare its
    children. Raises ValueError otherwise; nothing is left at `path` then.
    """
    encode = json.encoder.encode_basestring  # the C-accelerated string encoder json.dumps uses
    count = 0
    with _atomic(Path(path), "w", encoding="utf-8", newline="\n") as f:
        write = f.write
        write(_header_json(header))
        stack: list[str] = []  # identities of the open aggregates, outermost first
        first = [True]  # per open list: nothing written into it yet
        for line in lines:
            while stack and stack[-1] != line.parent_code:
                stack.pop()
                first.pop()
                write("]}")
            if line.parent_code is not None and not stack:
                raise ValueError(
                    f"{line.location or line.code}: parent {line.parent_code} is not an open aggregate "
                    "that declares children (write_json needs depth-first preorder)"
                )
            parts = [
                "" if first[-1] else ",",
                "\n",
                "  " * (len(stack) + 1),
                '{"code": ',
                encode(line.code),
                ', "level": "',
                line.level.value,
                '"',
            ]
            first[-1] = False
            if line.gtin is not None:
                parts += [', "gtin": "', line.gtin, '"']
            if line.name is not None:
                parts += [', "name": ', encode(line.name)]
            if line.price is not None:
                parts += [', "price": ', str(line.price)]
            if line.vat is not None:
                parts += [', "vat": ', str(line.vat)]
            if line.declared_children:
                parts.append(', "children": [')
                stack.append(line.identity)
                first.append(True)
            else:
                parts.append("}")
            write("".join(parts))
            count += 1
        write("]}" * len(stack))
        write("\n]}\n")
    return count


def _table_rows(header: ActHeader) -> list[list[str]]:
    rows = [
        ["#format", header.format],
        ["#number", header.number],
        ["#date", header.date.isoformat()],
        ["#sender.name", header.sender.name],
        ["#sender.bin", header.sender.bin],
        ["#receiver.name", header.receiver.name],
        ["#receiver.bin", header.receiver.bin],
    ]
    rows += [["#basis", b.type, b.number, b.date] for b in header.basis]
    rows.append(["#turnover", header.turnover or ""])
    rows.append(["#note", f"GS (0x1D) in codes is written {GS_TEXT}; parent_code holds the parent's identity"])
    rows.append(list(COLUMNS))
    return rows


def _table_line(line: ActLine) -> list[str | int]:
    children = "yes" if line.declared_children else ("" if line.level is Level.PACK else "no")
    return [
        line.code.replace(GS, GS_TEXT),
        line.level.value,
        line.parent_code.replace(GS, GS_TEXT) if line.parent_code is not None else "",
        line.gtin or "",
        line.name or "",
        line.price if line.price is not None else "",
        line.vat if line.vat is not None else "",
        children,
    ]


def write_csv(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write the act as CSV (UTF-8 with BOM, comma, CRLF); returns the number of lines. Any order of
    lines is fine. Form: `#key,value` header rows, the column row, one code a row (docs/exchange-format.md)."""
    count = 0
    with _atomic(Path(path), "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        for row in _table_rows(header):
            writer.writerow([csv_escape(c) for c in row])
        for line in lines:
            writer.writerow([csv_escape(c) if isinstance(c, str) else c for c in _table_line(line)])
            count += 1
    return count


def write_xlsx(path: Path | str, header: ActHeader, lines: Iterable[ActLine]) -> int:
    """Write the act as an XLSX sheet "act" in the CSV's layout (openpyxl write-only: constant memory);
    returns the number of lines. Raises ValueError past Excel's 1,048,576 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("act")
    for letter, width in zip("ABCDEFGH", (48, 8, 48, 16, 32, 12, 10, 9), strict=True):
        sheet.column_dimensions[letter].width = width

    def cells(row: Sequence[str | int]) -> list[Any]:
        # openpyxl stores a string that starts with "=" as a formula: force it to stay text.
        out: list[Any] = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value if value != "" else None)
        return out

    rows = 0
    count = 0
    for row in _table_rows(header):
        sheet.append(cells(row))
        rows += 1
    for line in lines:
        rows += 1
        if rows > XLSX_MAX_ROWS:
            raise ValueError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS} rows: write this act as JSON or CSV")
        sheet.append(cells(_table_line(line)))
        count += 1
    with _atomic(Path(path), "wb") as f:
        workbook.save(f)
    return count
