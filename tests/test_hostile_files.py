"""Hostile act files: each is refused quickly, with its reason and location, in bounded memory.

These tests read each file with the pure reader or the import service; tests/web/test_hostile_uploads.py
sends the corpus through the browser's upload, with the reader process under its OS memory limit, and
checks that the station stays up and nothing is written.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.factories import ActFactory, gtin
from tests.factories import pack as pack_code
from warehouse import transfer_act
from warehouse.db import Database
from warehouse.services import importing
from warehouse.services.importing import sources
from warehouse.transfer_act import ActFormatError, Reason, json_errors

FORMAT_DEPTH = 4  # pallet > box > block > pack


def _header() -> dict[str, object]:
    act = ActFactory().build()
    return {k: v for k, v in act.items() if k != "products"}


def _deep_json(depth: int) -> bytes:
    """An act whose only product nests `depth` objects in "children"."""
    head = json.dumps(_header(), ensure_ascii=False)[:-1]
    item = b'{"code": "148701230000000013", "level": "box", "children": ['
    return (head + ', "products": [').encode() + item * depth + b"]}" * depth + b"]}"


def _problems(path: Path) -> list[transfer_act.Problem]:
    try:
        transfer_act.load_act(path)
    except ActFormatError as e:
        return e.problems
    raise AssertionError("the act was accepted")


def test_deep_json_is_refused_at_the_first_level_too_many_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(_deep_json(100_000))  # 6 MB: without a depth limit, tens of GB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    problems = _problems(path)
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    deep = [p for p in problems if p.reason == Reason.TOO_DEEP]
    assert len(deep) == 1
    assert deep[0].location == "products[0]" + ".children[0]" * FORMAT_DEPTH
    assert "pallet" in deep[0].message("en")


def test_a_deep_header_value_is_refused_without_recursion(tmp_path: Path) -> None:
    head = _header()
    body = json.dumps(head)[:-1] + ', "products": [], "note": ' + "[" * 50_000 + "]" * 50_000 + "}"
    path = tmp_path / "deep-header.json"
    path.write_text(body)
    assert _problems(path)  # refused (unknown field), no RecursionError
    head["sender"] = "@"
    body = json.dumps(head).replace('"@"', "[" * 50_000 + "]" * 50_000)
    path.write_text(body[:-1] + ', "products": []}')
    assert _problems(path)


def test_json_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ActFactory().build(), ensure_ascii=False).encode())
    header, lines = transfer_act.load_act(path)
    assert header.number and lines


def test_csv_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    act = ActFactory().build()
    plain = tmp_path / "plain.csv"
    header, lines = transfer_act.load_act(_as(tmp_path, act, ".json"))
    transfer_act.write_csv(plain, header, lines)
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    assert transfer_act.load_act(path)[1] == transfer_act.load_act(plain)[1]


def _as(tmp_path: Path, act: dict[str, object], suffix: str) -> Path:
    path = tmp_path / f"act{suffix}"
    path.write_text(json.dumps(act, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "x\\ud83dy", "\\\\\\udbff"])
def test_a_lone_surrogate_is_refused_with_its_line(tmp_path: Path, escape: str) -> None:
    act = ActFactory().build()
    act["products"][0] = {"name": "@", **act["products"][0]}
    text = json.dumps(act, ensure_ascii=False, indent=1).replace('"@"', f'"{escape}"')
    path = tmp_path / "surrogate.json"
    path.write_text(text)
    line = 1 + text[: text.index(escape)].count("\n")
    problems = _problems(path)
    assert [(p.location, p.reason) for p in problems] == [(f"line {line}", Reason.LONE_SURROGATE)]


def test_a_surrogate_pair_and_an_escaped_backslash_are_fine(tmp_path: Path) -> None:
    act = ActFactory().build()
    act["products"][0] = {"name": "@", **act["products"][0]}
    text = json.dumps(act, ensure_ascii=False).replace('"@"', '"\\ud83d\\ude00 \\\\ud800"')
    path = tmp_path / "pair.json"
    path.write_text(text)
    _, lines = transfer_act.load_act(path)
    assert lines[0].name == "\U0001f600 \\ud800"


def _xlsx_with(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _real_xlsx(tmp_path: Path) -> Path:
    header, lines = transfer_act.load_act(_as(tmp_path, ActFactory().build(), ".json"))
    path = tmp_path / "real.xlsx"
    transfer_act.write_xlsx(path, header, lines)
    return path


def _replace_member(path: Path, name: str, data: bytes) -> bytes:
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    members[name] = data
    return _xlsx_with(members)


def test_an_xlsx_without_a_sheet_is_refused(tmp_path: Path) -> None:
    real = _real_xlsx(tmp_path)
    with zipfile.ZipFile(real) as z:
        workbook = z.read("xl/workbook.xml").decode()
    start, end = workbook.index("<sheets>"), workbook.index("</sheets>") + len("</sheets>")
    path = tmp_path / "nosheet.xlsx"
    path.write_bytes(_replace_member(real, "xl/workbook.xml", (workbook[:start] + workbook[end:]).encode()))
    assert [p.reason for p in _problems(path)] == [Reason.NO_SHEET]


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_read(tmp_path: Path) -> None:
    real = _real_xlsx(tmp_path)
    path = tmp_path / "bomb.xlsx"
    # one cell of 200 MB of "A": 200 KB packed
    with zipfile.ZipFile(real) as z:
        sheet_name = next(n for n in z.namelist() if n.startswith("xl/worksheets/"))
        sheet = z.read(sheet_name)
    cell = b'<row r="99"><c r="A99" t="inlineStr"><is><t>' + b"A" * (200 << 20) + b"</t></is></c></row>"
    path.write_bytes(_replace_member(real, sheet_name, sheet.replace(b"</sheetData>", cell + b"</sheetData>")))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = _problems(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000
    assert [(p.location, p.reason) for p in problems] == [(sheet_name, Reason.PACKED_TOO_TIGHT)]


def _children_first(packs: int) -> bytes:
    """A pallet that lists `packs` packs in "children" before its own code: the reader must hold them."""
    head = json.dumps(_header(), ensure_ascii=False)[:-1]
    g = gtin(1)
    items = ",".join(json.dumps({"code": pack_code(g, i), "level": "pack"}) for i in range(packs))
    return (
        head + ', "products": [{"children": [' + items + '], "code": "148701230000000013", "level": "pallet"}]}'
    ).encode()


def test_the_reader_process_runs_under_a_memory_limit_and_its_refusal_says_so(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv(sources.MEMORY_ENV, "120")
    path = tmp_path / "held.json"
    path.write_bytes(_children_first(250_000))
    with pytest.raises(importing.ActImportError) as e:
        importing.import_act(db, path)
    assert [p.reason for p in e.value.problems] == [Reason.OUT_OF_MEMORY]
    assert "120 MB" in e.value.message("en")
    _nothing_written(db)


def test_a_reader_process_killed_midway_is_a_refusal_not_a_second_read_here(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    killer = tmp_path / "killed-python"
    killer.write_text("#!/bin/sh\nkill -9 $$\n")
    killer.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(killer))  # what the kernel's OOM killer leaves
    path = tmp_path / "act.json"
    path.write_text(json.dumps(ActFactory().build(), ensure_ascii=False))
    with pytest.raises(importing.ActImportError) as e:
        importing.import_act(db, path)
    assert [p.reason for p in e.value.problems] == [Reason.OUT_OF_MEMORY]
    _nothing_written(db)


def _nothing_written(db: Database) -> None:
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM act_codes")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM acts")).scalar_one() == 0


@pytest.mark.parametrize("reader_process", [False, True])
def test_whole_tree_problems_are_capped_like_line_problems(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_process: bool
) -> None:
    if reader_process:
        monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    act = ActFactory().build()
    pack = {"code": pack_code(gtin(1), 1), "level": "pack"}
    act["products"] = [pack] * 20_000  # the same pack 20,000 times
    path = tmp_path / "dups.json"
    path.write_text(json.dumps(act))
    with pytest.raises(importing.ActImportError) as e:
        importing.import_act(db, path)
    problems = e.value.problems
    assert len(problems) == transfer_act.MAX_PROBLEMS + 1
    assert problems[-1].reason == Reason.TOO_MANY_PROBLEMS
    assert int(problems[-1].detail) == 20_000 - 1 - transfer_act.MAX_PROBLEMS
    _nothing_written(db)


def _with_product_field(tmp_path: Path, key: str, raw_value: str, after_children: bool = False) -> Path:
    """The factory's act with `key` set to `raw_value` (JSON text) in its first product."""
    act = ActFactory().build()
    first = {k: v for k, v in act["products"][0].items() if k != key}
    first = {**first, key: "@"} if after_children else {key: "@", **first}
    if after_children:
        first.setdefault("children", [])
        first = {k: v for k, v in first.items() if k != key} | {key: "@"}
    act["products"][0] = first
    path = tmp_path / "long.json"
    path.write_text(json.dumps(act, ensure_ascii=False).replace('"@"', raw_value, 1), encoding="utf-8")
    return path


def test_a_huge_product_name_is_refused_at_once_naming_the_field_and_its_limit(tmp_path: Path) -> None:
    path = _with_product_field(tmp_path, "name", '"' + "Я" * (15 << 20) + '"')  # 30 MB of text
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    problems = _problems(path)
    assert time.monotonic() - started < 2  # 113 s on this machine before the raw scan
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    assert [p.reason for p in problems] == [Reason.TOO_LONG]
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    column = len(head[: head.index("ЯЯЯ")])  # the opening quote, counted in characters
    assert problems[0].location == f"line 1, column {column}"
    assert problems[0].message("en") == "“name” is too long: 300 characters at most"
    assert problems[0].message("ru") != problems[0].message("en")


def test_a_huge_text_with_escaped_quotes_or_in_an_unknown_field_is_refused_too(tmp_path: Path) -> None:
    path = _with_product_field(tmp_path, "note", '"' + '\\"a' * (4 << 20) + '"')
    problems = _problems(path)
    assert [p.reason for p in problems] == [Reason.TEXT_TOO_LONG]
    assert "“note”" in problems[0].message("en") and "10000" in problems[0].message("en")


def test_a_huge_number_is_refused_at_once(tmp_path: Path) -> None:
    path = _with_product_field(tmp_path, "price", "1" * (20 << 20))
    started = time.monotonic()
    problems = _problems(path)
    assert time.monotonic() - started < 2
    assert [p.reason for p in problems] == [Reason.TEXT_TOO_LONG]
    assert "number" in problems[0].message("en")


def test_a_long_name_after_children_is_refused_as_too_long(tmp_path: Path) -> None:
    path = _with_product_field(tmp_path, "name", '"' + "x" * 5000 + '"', after_children=True)
    problems = _problems(path)
    assert any(p.reason == Reason.TOO_LONG and p.location == "products[0]" for p in problems), problems


_GOOD = '{"format": "transfer-act/1",\n "products": [{"code": "148701230000000013", "level": "box"}]}'


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        (_GOOD[:-10], "line 2, column 53", "ends in the middle of an object"),
        (_GOOD[:-2], "line 2, column 61", "ends in the middle of a list"),
        (_GOOD[:40] + '"x', "line 2, column 14", "ends in the middle of a text"),
        (_GOOD.replace('", "level"', '" "level"'), "line 2, column 45", '“"level"” stands where “,” or “}”'),
        (_GOOD.replace('"level":', '"level"'), "line 2, column 54", '“"box"” stands where “:” after a field name'),
        (_GOOD.replace('"box"}', '"box",}'), "line 2, column 61", "“}” stands where a field name in quotes"),
        (_GOOD.replace('"box"}]', '"box"} {}]'), "line 2, column 62", "“{” stands where “,” or “]” was expected"),
        (_GOOD.replace('"box"', "tru"), "line 2, column 55", "“tru” stands where a value was expected"),
        (_GOOD.replace('"box"', '"b\x01x"'), "line 2, column 55", "a control character"),
    ],
)
def test_a_broken_json_is_told_in_our_words_with_its_place(
    tmp_path: Path, text: str, location: str, words: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    problems = [p for p in _problems(path) if p.reason != Reason.MISSING_FIELD]  # _GOOD has no header
    assert [p.reason for p in problems] == [Reason.MALFORMED]
    message = problems[0].message("en")
    assert words in message
    assert problems[0].location == location
    for internal in ("premature", "right here", "lexeme", "parse error", "Unexpected symbol"):
        assert internal not in message and internal not in problems[0].message("ru")


@pytest.mark.parametrize(
    ("change", "to", "words"),
    [
        ('"level": "pack"', '"level": "pack" "x": 1', '“"x"” stands where “,” or “}” was expected'),
        ('"level": "pack"', '"level": tru', "“tru” stands where a value was expected"),
    ],
)
def test_a_broken_big_json_is_located_at_the_c_parsers_speed(tmp_path: Path, change: str, to: str, words: str) -> None:
    act = ActFactory().build()
    g = gtin(1)
    act["products"] = [{"code": pack_code(g, i), "level": "pack"} for i in range(80_000)]
    text = json.dumps(act, indent=1)
    assert len(text) > json_errors.LOCATE_MAX_BYTES
    at = text.rindex(change)
    path = tmp_path / "big.json"
    path.write_text(text[:at] + to + text[at + len(change) :])
    token = at + to.index("tru" if "tru" in to else '"x"')
    line, column = text[:at].count("\n") + 1, token - text.rfind("\n", 0, at)
    started = time.monotonic()
    problems = _problems(path)
    assert time.monotonic() - started < 5
    assert [p.reason for p in problems] == [Reason.MALFORMED]
    assert problems[0].location == f"line {line}, column {column}"
    assert words in problems[0].message("en")


def test_what_follows_a_whole_act_is_told_in_our_words(tmp_path: Path) -> None:
    path = tmp_path / "two.json"
    path.write_text(json.dumps(ActFactory().build()) + " {}")
    problems = _problems(path)
    assert [(p.location, p.reason) for p in problems] == [("file", Reason.MALFORMED)]
    assert "Something follows the end" in problems[0].message("en")


def test_binary_garbage_named_json_is_refused_in_our_words(tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    path.write_bytes(bytes(range(256)) * 40)
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].reason in (Reason.MALFORMED, Reason.ENCODING)
    assert "right here" not in problems[0].message("en")


def _xlsx_with_a_huge_cell(tmp_path: Path, shared: bool) -> Path:
    """The real workbook plus row 99 whose cell C99 holds 8 MB of text that packs no tighter than 4 to 3."""
    import base64
    import os

    real = _real_xlsx(tmp_path)
    huge = base64.b64encode(os.urandom(6 << 20))
    with zipfile.ZipFile(real) as z:
        sheet_name = next(n for n in z.namelist() if n.startswith("xl/worksheets/"))
        sheet = z.read(sheet_name)
    if shared:
        cell = b'<row r="99"><c r="C99" t="s"><v>1</v></c></row>'
        strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        strings += b"<si><t>x</t></si><si><t>" + huge + b"</t></si></sst>"
    else:
        cell = b'<row r="99"><c r="C99" t="inlineStr"><is><t>' + huge + b"</t></is></c></row>"
    data = _replace_member(real, sheet_name, sheet.replace(b"</sheetData>", cell + b"</sheetData>"))
    path = tmp_path / "huge-cell.xlsx"
    path.write_bytes(data)
    if shared:
        path.write_bytes(_replace_member(path, "xl/sharedStrings.xml", strings))
    return path


@pytest.mark.parametrize("shared", [False, True])
def test_a_huge_xlsx_cell_is_refused_with_its_cell_before_openpyxl_reads_it(tmp_path: Path, shared: bool) -> None:
    path = _xlsx_with_a_huge_cell(tmp_path, shared)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    problems = _problems(path)
    assert time.monotonic() - started < 3
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 30_000  # KiB: the cell is 8 MB
    assert [(p.location, p.reason) for p in problems] == [("line 99", Reason.TEXT_TOO_LONG)]
    assert problems[0].message("en") == (
        "Cell C99 holds a text longer than 32767 characters, more than a spreadsheet cell can hold"
    )


def _csv(tmp_path: Path, change: str, to: str) -> Path:
    plain = tmp_path / "plain.csv"
    header, lines = transfer_act.load_act(_as(tmp_path, ActFactory().build(), ".json"))
    transfer_act.write_csv(plain, header, lines)
    text = plain.read_text(encoding="utf-8-sig")
    assert change in text
    text = text.rstrip("\n").removesuffix('"') + "\n" if change == "" else text  # no quote opens at its end
    path = tmp_path / "bad.csv"
    path.write_text(text + to if change == "" else text.replace(change, to, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "to", "reason", "words"),
    [
        ("", '"unclosed', Reason.MALFORMED, 'a quote “"” is not closed'),
        ("#number", '"closed" and more', Reason.MALFORMED, "write a quote inside quotes twice"),
        ("#number", "x" * 200_000, Reason.TEXT_TOO_LONG, "longer than 131072 characters"),
    ],
)
def test_a_broken_csv_is_told_in_our_words(tmp_path: Path, change: str, to: str, reason: Reason, words: str) -> None:
    path = _csv(tmp_path, change, to)
    problems = [p for p in _problems(path) if p.reason in (Reason.MALFORMED, Reason.TEXT_TOO_LONG)]
    assert [p.reason for p in problems] == [reason]
    assert words in problems[0].message("en")
    assert problems[0].location.startswith("line ")


@pytest.mark.parametrize("reader_process", [False, True])
def test_a_problem_two_checks_find_is_listed_once(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader_process: bool
) -> None:
    if reader_process:
        monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    act = ActFactory().build()
    block = act["products"][0]["children"][0]["children"][0]
    block["children"].append({"code": "00048700000000009999", "level": "box"})  # a box inside a block
    path = tmp_path / "order.json"
    path.write_text(json.dumps(act))
    with pytest.raises(importing.ActImportError) as e:
        importing.import_act(db, path)
    listed = [(p.location, p.reason, p.detail) for p in e.value.problems]
    assert len(listed) == len(set(listed)), listed
    assert [p.reason for p in e.value.problems].count(Reason.LEVEL_ORDER) == 1
    _nothing_written(db)
