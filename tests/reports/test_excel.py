"""The Excel export read back with openpyxl: every code round-trips, nothing is a formula, big lists continue."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from reports.codes_text import raw_from_hri, raw_from_visible
from reports.excel import codes_xlsx
from reports.model import CodeRow, DiscrepancyLine
from reports.texts import GTIN, words
from tests import factories as f
from warehouse.messages import N_, say

RISKY = ["=1+1", "+77012345678", "-1", "@SUM(A1)", '=HYPERLINK("http://x")', "#N/A", "#DIV/0!"]


def risky_rows() -> list[CodeRow]:
    """Custom aggregation codes and statuses that a spreadsheet would take for formulas or errors."""
    return [CodeRow(code, "box", f.sscc_code(1), code, code) for code in RISKY]


def write(path: Path, codes: list[CodeRow], discrepancies: list[DiscrepancyLine] | None = None, **kwargs: Any) -> Path:
    codes_xlsx(path, f.act(), f.gtin_lines(), iter(discrepancies or []), iter(codes), "ru", **kwargs)
    return path


def sheet_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


def test_every_code_comes_back_from_both_columns(tmp_path: Path) -> None:
    codes = [*f.tree(2, 3, 4, 5), *risky_rows(), CodeRow(f.block(f.gtin(1001), "A(93)B\\x"), "block", None)]
    sheets = sheet_rows(write(tmp_path / "codes.xlsx", codes))
    t = words("ru")
    seen: list[tuple[str, str, str | None]] = []
    for level in ("pallet", "box", "block", "pack"):
        header, *rows = sheets[t.levels_plural[level]]
        assert header[0] == say(N_("Code (exact, ␝ = GS)"), "ru")
        for row in rows:
            exact = raw_from_visible(row[0])
            if level == "pack":
                assert header[1] == GTIN and len(row) == 4
                parent = row[2]
            else:
                assert header[1] == say(N_("Code (HRI)"), "ru")
                if row[1] is not None:
                    assert raw_from_hri(row[1]) == exact
                parent = row[3]
            seen.append((exact, level, raw_from_visible(parent) if parent else None))
    assert Counter(seen) == Counter((c.code, c.level, c.parent_code) for c in codes)


def test_gs1_codes_have_an_hri_and_others_do_not(tmp_path: Path) -> None:
    block = f.block(f.gtin(1001), "(x)")
    codes = [CodeRow(f.sscc_code(3), "box"), CodeRow("CUSTOM-AGG-000000001", "box"), CodeRow(block, "block")]
    sheets = sheet_rows(write(tmp_path / "c.xlsx", codes))
    boxes = sheets["Короба"][1:]
    assert boxes[0][:2] == (f.sscc_code(3), "(00)" + f.sscc(3))
    assert boxes[1][:2] == ("CUSTOM-AGG-000000001", None)
    assert sheets["Блоки"][1][:2] == (block.replace("\x1d", "␝"), f"(01){f.gtin(1001)}(21)\\(x)(8005)112000(93)Ab1+")


def test_no_cell_is_a_formula_or_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "risky.xlsx",
        risky_rows(),
        [DiscrepancyLine("invalid", code, None, None, None, code, code, code) for code in RISKY],
    )
    wb = load_workbook(path)  # the full reader: it is the one that would turn "=..." into a formula
    values: list[Any] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    for value in RISKY:
        assert values.count(value) >= 5  # code and status in "Короба"; code, GTIN, reason, comment in discrepancies
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                xml = zf.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml
        assert 'quotePrefix="1"' in zf.read("xl/styles.xml").decode()  # stays text when edited in Excel


def test_long_lists_continue_on_further_sheets(tmp_path: Path) -> None:
    codes = list(f.tree(1, 5, 10, 50))  # 2,500 packs, 50 blocks, 5 boxes, 1 pallet
    lines = list(f.discrepancy_lines(1500))
    sheets = sheet_rows(write(tmp_path / "big.xlsx", codes, lines, max_rows=1000))
    names = list(sheets)
    assert names == [
        "Сводка",
        "Расхождения",
        "Расхождения (2)",
        "Паллеты",
        "Короба",
        "Блоки",
        "Пачки",
        "Пачки (2)",
        "Пачки (3)",
        "Пояснения",
    ]
    packs = [sheets[name] for name in ("Пачки", "Пачки (2)", "Пачки (3)")]
    assert [len(rows) for rows in packs] == [1000, 1000, 503]  # a header on each, 2,500 packs in all
    assert all(rows[0] == packs[0][0] for rows in packs)
    listed = [raw_from_visible(row[0]) for rows in packs for row in rows[1:]]
    assert listed == [c.code for c in codes if c.level == "pack"]  # in order, none lost or repeated
    assert len(sheets["Расхождения"]) + len(sheets["Расхождения (2)"]) == 1500 + 2


def test_summary_and_notes_explain_the_act(tmp_path: Path) -> None:
    sheets = sheet_rows(write(tmp_path / "s.xlsx", []))
    summary = sheets["Сводка"]
    flat = [v for row in summary for v in row if v is not None]
    assert "ТА-000123 <&>" in flat and "ТОО «Табак-Трейд» <опт> & Ко" in flat and "123456789021" in flat
    gtin_rows = [row for row in summary if row and row[0] == f.gtin(1001)]
    assert [row[3:6] for row in gtin_rows] == [(100, 97, -3), (1000, 970, -30)]
    assert gtin_rows[0][6] == 1120  # tenge, a number a person can sum
    assert any("␝" in str(row[0]) for row in sheets["Пояснения"])


def test_kazakh_workbook(tmp_path: Path) -> None:
    path = tmp_path / "kk.xlsx"
    codes_xlsx(path, f.act(), f.gtin_lines(), [], f.tree(1, 1, 1, 1), "kk")
    sheets = sheet_rows(path)
    assert list(sheets) == ["Жиынтық", "Сәйкессіздіктер", "Паллеталар", "Жәшіктер", "Блоктар", "Қораптар", "Түсіндірме"]
    assert sheets["Қораптар"][1][3] == "қабылданды"


def test_control_characters_in_free_text_do_not_break_the_export(tmp_path: Path) -> None:
    line = DiscrepancyLine("invalid", "\x02garbage\x1d\x7f", None, None, None, None, None, "a\x01b\tc\nd")
    rows = sheet_rows(write(tmp_path / "x.xlsx", [], [line]))["Расхождения"]
    assert rows[1][1] == "␂garbage␝␡" and raw_from_visible(rows[1][1]) == line.code
    assert rows[1][9] == "a␁b\tc\nd"


def test_progress_and_file_objects(tmp_path: Path) -> None:
    seen: list[int] = []
    buffer = io.BytesIO()
    codes_xlsx(buffer, f.act(), [], [], f.tree(1, 10, 20, 50), "en", progress=seen.append)
    assert seen == [10_000]  # 10,000 packs + 200 blocks + 10 boxes + 1 pallet = 10,211 rows
    assert load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).sheetnames[0] == "Summary"


def test_a_sheet_needs_room_for_a_row() -> None:
    with pytest.raises(ValueError):
        codes_xlsx(io.BytesIO(), f.act(), [], [], [], "ru", max_rows=1)


@settings(max_examples=15, deadline=None)
@given(serials=st.lists(st.text(alphabet=f.SET82 + "\\[]", min_size=1, max_size=20), min_size=1, max_size=20))
def test_random_serials_round_trip_through_a_workbook(serials: list[str]) -> None:
    codes = [CodeRow(f.block(f.gtin(1001), ser), "block", f.sscc_code(1)) for ser in serials]
    buffer = io.BytesIO()
    codes_xlsx(buffer, f.act(), [], [], codes, "ru")
    wb = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    rows = list(wb["Блоки"].iter_rows(min_row=2, values_only=True))
    assert [raw_from_visible(row[0]) for row in rows] == [c.code for c in codes]
    assert [raw_from_hri(row[1]) for row in rows] == [c.code for c in codes]


def test_a_failed_export_leaves_no_temporary_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where openpyxl streams each sheet
    out = tmp_path / "codes.xlsx"

    def broken() -> Iterator[CodeRow]:
        yield from f.tree(1, 2, 2, 3)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        codes_xlsx(out, f.act(), [], [], broken(), "ru")
    assert list(scratch.iterdir()) == []
    assert not out.exists()
