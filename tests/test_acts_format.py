"""The act file layer (`warehouse.transfer_act`): transfer-act/1 JSON, CSV and XLSX read, written, checked.

Codes for the hand-made cases come from tests/factories.py (independent of the generator under test).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tests.factories import GS, block, check_digit, gtin, pack, sscc
from warehouse import codes, identifiers, transfer_act
from warehouse.messages import WarehouseError
from warehouse.transfer_act import (
    ActFormatError,
    ActHeader,
    ActLine,
    BasisDocument,
    Level,
    Party,
    Problem,
    Reason,
    check_tree,
    generate_act,
    json_reader,
    read_act,
    write_csv,
    write_json,
    write_xlsx,
)
from warehouse.transfer_act.data import FITS

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
WRITERS: dict[str, Callable[[Path, ActHeader, Iterable[ActLine]], int]] = {
    "json": write_json,
    "csv": write_csv,
    "xlsx": write_xlsx,
}
LANGS = ("ru", "kk", "en")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # a template field left unfilled
SET82 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"
G1, G2 = gtin(1001), gtin(1002)
HEADER = ActHeader(
    "transfer-act/1",
    "ТА-000123",
    dt.date(2026, 11, 20),
    Party("ТОО «Табак-Трейд» <опт>", "123456789025"),
    Party('ТОО "Склад & Ко"', "987654321090"),
    (BasisDocument("ESF", "ESF-1", "2026-11-19"), BasisDocument("SNT", "SNT-7", "2026-11-19")),
    "sale",
)


def small_act(**kw: Any) -> tuple[ActHeader, list[ActLine]]:
    shape: dict[str, Any] = {"pallets": 1, "boxes_per_pallet": 2, "blocks_per_box": 2, "packs_per_block": 2}
    shape.update(kw)
    header, lines = generate_act(**shape)
    return header, list(lines)


def read(path: Path) -> tuple[ActHeader, list[ActLine], list[Problem]]:
    reader = read_act(path)
    lines = list(reader.lines())
    return reader.header, lines, reader.problems


def line(code: str, level: Level, parent: ActLine | None = None, **kw: Any) -> ActLine:
    """A line as a reader would produce it, identity and kind from warehouse.codes itself."""
    parsed = codes.parse(code)
    assert parsed.ok and parsed.identity is not None, (code, parsed.error)
    fields: dict[str, Any] = {"gtin": parsed.gtin, "declared_children": level is not Level.PACK}
    fields.update(kw)
    return ActLine(
        "", parsed.normalized, parsed.identity, parsed.kind, level, parent.identity if parent else None, **fields
    )


def json_act(products: list[Any], **header: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "transfer-act/1",
        "number": "ТА-1",
        "date": "2026-11-20",
        "sender": {"name": "ТОО «А»", "bin": "123456789025"},
        "receiver": {"name": "ТОО Б", "bin": "987654321090"},
        "basis": [{"type": "ESF", "number": "ESF-1", "date": "2026-11-19"}],
        "turnover": "sale",
    }
    doc.update(header)
    doc["products"] = products
    return doc


def write_doc(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def csv_act(
    path: Path,
    rows: list[list[str]],
    header_rows: list[list[str]] | None = None,
    columns: str = "code,level,parent_code,gtin,name,price,vat,children",
) -> Path:
    head = (
        header_rows
        if header_rows is not None
        else [
            ["#format", "transfer-act/1"],
            ["#number", "ТА-1"],
            ["#date", "2026-11-20"],
            ["#sender.name", "ТОО А"],
            ["#sender.bin", "123456789025"],
            ["#receiver.name", "ТОО Б"],
            ["#receiver.bin", "987654321090"],
        ]
    )
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerows(head)
        writer.writerow(columns.split(","))
        writer.writerows(rows)
    return path


def reasons_at(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.location, p.reason) for p in problems}


# --- round trips ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_generated_act_round_trips(tmp_path: Path, fmt: str) -> None:
    header, lines = small_act(pallets=2, boxes_per_pallet=3, blocks_per_box=3, packs_per_block=4)
    path = tmp_path / f"act.{fmt}"
    assert WRITERS[fmt](path, header, lines) == len(lines)
    got_header, got, problems = read(path)
    assert problems == []
    assert got_header == header
    assert got == lines
    assert [g.kind for g in got] == [g.kind for g in lines]  # kind is compared too, but say it
    # every location says where the line is in this file
    first = "products[0]" if fmt == "json" else "line 13"  # 12 header rows come first
    assert got[0].location == first


def nasty_lines() -> list[ActLine]:
    """Codes with every character people forget to escape, GS, and cells a spreadsheet would run."""
    pallet = line("00" + sscc(7), Level.PALLET, name='=HYPERLINK("http://x","y")')
    box = line('+AGG-BOX<&>"quoted"\'0001', Level.BOX, pallet, name="@SUM(1+1)")
    box2 = line("-AGG;BOX,=0002'x-long", Level.BOX, pallet, name="'already quoted", declared_children=False)
    box3 = line("'=AGG-BOX-0003-quote", Level.BOX, pallet, name="  leading and trailing spaces stay  ")
    blk = line(
        f"01{G1}21<&>\"'%;{GS}8005112000{GS}93<&>'",
        Level.BLOCK,
        box,
        name='Kent "iSwitch" <Menthol> & Co',
        price=1_120_000,
        vat=154_482,
    )
    packs = [
        line(G1 + serial + "AbC1" + tail, Level.PACK, blk)
        for serial, tail in (("<>&\"';,", "xY=9"), ("=+-%?_.", "\"<'>"), ("'\"'\"'\"'", ",;,;"))
    ]
    return [pallet, box, blk, *packs, box2, box3]


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_codes_with_special_characters_and_gs_round_trip(tmp_path: Path, fmt: str) -> None:
    lines = nasty_lines()
    path = tmp_path / f"act.{fmt}"
    WRITERS[fmt](path, HEADER, lines)
    got_header, got, problems = read(path)
    assert problems == []
    assert got_header == HEADER
    assert got == lines
    assert GS in got[2].code


def test_csv_protects_formula_cells_and_writes_gs_visibly(tmp_path: Path) -> None:
    path = tmp_path / "act.csv"
    write_csv(path, HEADER, nasty_lines())
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Cyrillic as UTF-8
    assert b"\x1d" not in raw
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@", f"formula-like cell {cell!r}"
    data = rows[rows.index(["code", "level", "parent_code", "gtin", "name", "price", "vat", "children"]) + 1 :]
    assert data[0][4] == '\'=HYPERLINK("http://x","y")'
    assert data[1][0].startswith("'+AGG")
    assert data[6][4] == "''already quoted"  # an apostrophe of the value itself is kept by doubling
    assert "<GS>8005112000<GS>93" in data[2][0]


def test_xlsx_stores_formula_like_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "act.xlsx"
    write_xlsx(path, HEADER, nasty_lines())
    sheet = load_workbook(path).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {c.value for c in cells} >= {'=HYPERLINK("http://x","y")', "@SUM(1+1)"}
    assert all(c.data_type == "s" for c in cells)
    notes = [row[1] for row in sheet.iter_rows(values_only=True) if row[0] == "#note"]
    assert notes and "<GS>" in notes[0]


def test_json_is_nested_with_gs_escaped_and_children_only_when_declared(tmp_path: Path) -> None:
    header, lines = small_act(depth=Level.BOX, boxes_per_pallet=2)
    path = tmp_path / "act.json"
    write_json(path, header, lines)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "transfer-act/1"
    pallet = doc["products"][0]
    assert [b["level"] for b in pallet["children"]] == ["box", "box"]
    assert all("children" not in b for b in pallet["children"])
    _, got, problems = read(path)
    assert problems == [] and got == lines
    assert [g.declared_children for g in got] == [True, False, False]
    header, lines = small_act()
    write_json(path, header, lines)
    text = path.read_text(encoding="utf-8")
    assert "\\u001d8005" in text and "\x1d" not in text


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_readers_give_parents_before_children(tmp_path: Path, fmt: str) -> None:
    header, lines = small_act(pallets=2, boxes_per_pallet=2, blocks_per_box=2, packs_per_block=3)
    path = tmp_path / f"act.{fmt}"
    WRITERS[fmt](path, header, lines)
    seen: set[str] = set()
    for got in read_act(path).lines():
        assert got.parent_code is None or got.parent_code in seen
        seen.add(got.identity)
    assert len(seen) == len(lines)


def test_json_accepts_any_key_order(tmp_path: Path) -> None:
    """Sorted keys put "children" before "code" and the header after "products": same act."""
    header, lines = small_act()
    path = tmp_path / "act.json"
    write_json(path, header, lines)
    doc = json.loads(path.read_text(encoding="utf-8"))
    sorted_path = tmp_path / "sorted.json"
    sorted_path.write_text(json.dumps(doc, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    assert json.dumps(doc, sort_keys=True).index('"products"') < json.dumps(doc, sort_keys=True).index('"receiver"')
    got_header, got, problems = read(sorted_path)
    assert problems == []
    assert got_header == header
    assert got == lines


def test_json_products_before_header(tmp_path: Path) -> None:
    header, lines = small_act()
    path = tmp_path / "act.json"
    write_json(path, header, lines)
    doc = json.loads(path.read_text(encoding="utf-8"))
    reordered = {"products": doc.pop("products"), **doc}
    write_doc(path, reordered)
    got_header, got, problems = read(path)
    assert (got_header, got, problems) == (header, lines, [])


def test_json_streams_lines_before_reading_the_whole_file(tmp_path: Path) -> None:
    header, lines = small_act(pallets=3)
    path = tmp_path / "act.json"
    write_json(path, header, lines)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")  # truncated near the end
    reader = read_act(path)  # the header comes first, so this works
    got = list(reader.lines())
    assert 0 < len(got) < len(lines)
    assert got == lines[: len(got)]
    assert [p.reason for p in reader.problems] == [Reason.MALFORMED]


def test_lines_can_be_read_twice(tmp_path: Path) -> None:
    header, lines = small_act()
    path = tmp_path / "act.csv"
    write_csv(path, header, lines)
    reader = read_act(path)
    assert list(reader.lines()) == list(reader.lines()) == lines


def test_csv_variants_people_produce(tmp_path: Path) -> None:
    """Semicolons (Excel in a Russian locale), raw GS, ␝, a block's identity or full code as parent."""
    box = "00" + sscc(5)
    code = block(G1, 9)
    rows = [
        [box, "box", "", "", "", "", "", "yes"],
        [code.replace(GS, "\u241d"), "BLOCK", box, G1, "Marlboro", "112000", "", ""],
        [pack(G1, 10), "pack", code, "", "", "", "", ""],
        [pack(G1, 11), " pack ", code[:25], "", "", "", "", ""],
    ]
    path = csv_act(tmp_path / "act.csv", rows)
    text = path.read_text(encoding="utf-8").replace(",", ";")
    path.write_text(text, encoding="utf-8")
    _, got, problems = read(path)
    assert problems == []
    assert got[1].code == codes.parse(code).normalized
    assert got[1].declared_children is True  # not said, but the file goes down to packs
    assert got[2].parent_code == got[3].parent_code == got[1].identity
    assert got[0].identity == sscc(5)


def test_table_without_children_column_declares_contents_down_to_the_deepest_level(tmp_path: Path) -> None:
    pallet, box = "00" + sscc(1), "00" + sscc(2)
    rows = [[pallet, "pallet", ""], [box, "box", pallet]]
    path = csv_act(tmp_path / "act.csv", rows, columns="code,level,parent_code")
    _, got, problems = read(path)
    assert problems == []
    assert [g.declared_children for g in got] == [True, False]  # the boxes' contents are not declared


def test_xlsx_cells_a_person_typed(tmp_path: Path) -> None:
    """Numbers where text belongs: a GTIN or a BIN lose their leading zeros; a code loses digits."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (
        ["#format", "transfer-act/1"],
        ["#number", 123],
        ["#date", dt.datetime(2026, 11, 20)],
        ["#sender.name", "ТОО А"],
        ["#sender.bin", 12345678900],
        ["#receiver.name", "ТОО Б"],
        ["#receiver.bin", "987654321090"],
        ["code", "level", "gtin", "price"],
        ["00" + sscc(3), "box", int(G1), 1000.0],
        [int("00" + sscc(4)), "box", None, None],
    ):
        sheet.append(row)
    path = tmp_path / "act.xlsx"
    workbook.save(path)
    reader = read_act(path)
    assert reader.header.number == "123"
    assert reader.header.date == dt.date(2026, 11, 20)
    assert reader.header.sender.bin == "012345678900"
    got = list(reader.lines())
    assert got[0].gtin == G1 and got[0].price == 1000
    assert reasons_at(reader.problems) == {("line 10", Reason.NUMBER_NOT_TEXT)}


# --- hypothesis: random trees survive every format -----------------------------------------------------

serials = st.text(alphabet=SET82, min_size=7, max_size=7).filter(lambda s: "<GS>" not in s)
tails = st.text(alphabet=SET82, min_size=4, max_size=4).filter(lambda s: "<GS>" not in s)
texts = st.text(st.characters(exclude_categories=("Cc", "Cs", "Cn")), min_size=1, max_size=30)
amounts = st.none() | st.integers(min_value=0, max_value=10**12)
# A БИН/ИИН: eleven digits and their check digit (the few bodies that have none are left out).
bins = (
    st.from_regex(r"[0-9]{11}", fullmatch=True)
    .filter(lambda body: identifiers.bin_check_digit(body) is not None)
    .map(lambda body: f"{body}{identifiers.bin_check_digit(body)}")
)


@st.composite
def trees(draw: st.DrawFn) -> tuple[ActHeader, list[ActLine]]:
    header = ActHeader(
        "transfer-act/1",
        draw(texts),
        draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
        Party(draw(texts), draw(bins)),
        Party(draw(texts), draw(bins)),
        tuple(
            BasisDocument(
                draw(st.sampled_from(["ESF", "SNT"])),
                draw(texts.filter(lambda t: len(t) <= 50)),
                draw(st.dates()).isoformat(),
            )
            for _ in range(draw(st.integers(0, 2)))
        ),
        draw(st.none() | st.sampled_from(["sale", "return", "=commission"])),
    )
    out: list[ActLine] = []
    used: set[str] = set()

    def add(code: str, level: Level, parent: ActLine | None, declared: bool) -> ActLine | None:
        parsed = codes.parse(code)
        if not parsed.ok or parsed.identity is None or parsed.identity in used or parsed.kind not in FITS[level]:
            return None
        used.add(parsed.identity)
        # a code's own GTIN is always there (readers fill it in); an SSCC's line may carry one or not
        line_gtin = parsed.gtin or draw(st.none() | st.sampled_from([G1, G2]))
        new = ActLine(
            "",
            parsed.normalized,
            parsed.identity,
            parsed.kind,
            level,
            parent.identity if parent else None,
            line_gtin,
            draw(st.none() | texts),
            draw(amounts),
            draw(st.none() | st.integers(0, 2**31 - 1)),
            declared,
        )
        out.append(new)
        return new

    def aggregate() -> str:
        if draw(st.booleans()):
            return "00" + sscc(draw(st.integers(0, 10**12)))
        return draw(st.sampled_from("=+-'A")) + draw(
            st.text(alphabet=SET82, min_size=20, max_size=40).filter(lambda s: "<GS>" not in s)
        )

    def packs(parent: ActLine | None, g: str) -> None:
        for _ in range(draw(st.integers(0, 3))):
            add(g + draw(serials) + draw(tails) + draw(tails), Level.PACK, parent, False)

    def blocks(parent: ActLine | None) -> None:
        for _ in range(draw(st.integers(0, 3))):
            g = draw(st.sampled_from([G1, G2]))
            declared = draw(st.booleans())
            price = f"{GS}8005{draw(st.integers(0, 999_999)):06d}" if draw(st.booleans()) else ""
            new = add(f"01{g}21{draw(serials)}{price}{GS}93{draw(tails)}", Level.BLOCK, parent, declared)
            if new is not None and declared:
                packs(new, g)

    def boxes(parent: ActLine | None) -> None:
        for _ in range(draw(st.integers(0, 3))):
            declared = draw(st.booleans())
            new = add(aggregate(), Level.BOX, parent, declared)
            if new is not None and declared:
                blocks(new)

    for _ in range(draw(st.integers(1, 3))):
        top = draw(st.sampled_from([Level.PALLET, Level.BOX, Level.BLOCK, Level.PACK]))
        declared = draw(st.booleans())
        if top is Level.PALLET:
            new = add(aggregate(), top, None, declared)
            if new is not None and declared:
                boxes(new)
        elif top is Level.BOX:
            boxes(None)
        elif top is Level.BLOCK:
            blocks(None)
        else:
            packs(None, G2)
    if not out:
        add("00" + sscc(1), Level.BOX, None, False)
    return header, out


def _round_trip(tmp_path: Path, fmt: str, act: tuple[ActHeader, list[ActLine]]) -> None:
    header, lines = act
    path = tmp_path / f"act.{fmt}"
    WRITERS[fmt](path, header, lines)
    got_header, got, problems = read(path)
    assert problems == []
    assert got_header == header
    assert got == lines


@pytest.mark.parametrize("fmt", ["json", "csv"])
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(act=trees())
def test_any_tree_round_trips(tmp_path: Path, fmt: str, act: tuple[ActHeader, list[ActLine]]) -> None:
    _round_trip(tmp_path, fmt, act)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(act=trees())
def test_any_tree_round_trips_xlsx(tmp_path: Path, act: tuple[ActHeader, list[ActLine]]) -> None:
    _round_trip(tmp_path, "xlsx", act)


# --- per-line problems, each with its location ------------------------------------------------------------

BAD_GTIN_PACK = G1[:13] + str((int(G1[13]) + 1) % 10) + "AbcdefgAbC1xY=9"
MILK = f"01{G1}215AZ8NC{GS}93Xy7q"  # dairy: a 6-character serial
SHOES = f"01{G2}21ABCDEFGHIJKLM{GS}91EE06{GS}92" + "A" * 44


def problem_products() -> list[dict[str, Any]]:
    box = "00" + sscc(21)
    blk = block(G1, 22)
    return [
        {
            "code": box,
            "level": "box",
            "children": [
                {
                    "code": blk,
                    "level": "block",
                    "gtin": G2,
                    "price": -5,
                    "vat": 1.5,
                    "children": [  # [0].children[0]
                        {"code": BAD_GTIN_PACK, "level": "pack"},  # .children[0]
                        {"code": "00" + sscc(23), "level": "pack"},  # SSCC as a pack
                        {"code": MILK, "level": "pack"},  # another group
                        {"code": pack(G1, 24), "level": "box"},  # box in a block
                        {"code": G1, "level": "pack"},  # product barcode
                        {"level": "pack", "gtin": "123"},  # no code, bad GTIN
                        {"code": pack(G1, 25), "level": "crate", "colour": "red"},  # unknown level, field
                        {"code": pack(G1, 26), "level": "pack", "price": "100", "name": 5},  # types
                    ],
                },
                {"code": SHOES, "level": "block"},  # another group
                {"code": pack(G2, 27), "level": "block", "vat": True},  # pack code as block
            ],
        },
    ]


def test_json_line_problems_have_paths(tmp_path: Path) -> None:
    path = write_doc(tmp_path / "act.json", json_act(problem_products()))
    reader = read_act(path)
    got = list(reader.lines())
    found = reasons_at(reader.problems)
    block_path = "products[0].children[0]"
    expected = {
        (block_path, Reason.GTIN_MISMATCH),
        (block_path, Reason.INVALID_PRICE),
        (block_path, Reason.INVALID_VAT),
        (f"{block_path}.children[0]", Reason.INVALID_CODE),
        (f"{block_path}.children[1]", Reason.LEVEL_MISMATCH),
        (f"{block_path}.children[2]", Reason.OTHER_PRODUCT_GROUP),
        (f"{block_path}.children[3]", Reason.LEVEL_MISMATCH),
        (f"{block_path}.children[3]", Reason.LEVEL_ORDER),
        (f"{block_path}.children[4]", Reason.PRODUCT_BARCODE),
        (f"{block_path}.children[5]", Reason.MISSING_CODE),
        (f"{block_path}.children[5]", Reason.INVALID_GTIN),
        (f"{block_path}.children[6]", Reason.UNKNOWN_LEVEL),
        (f"{block_path}.children[6]", Reason.UNKNOWN_FIELD),
        (f"{block_path}.children[7]", Reason.INVALID_PRICE),
        (f"{block_path}.children[7]", Reason.WRONG_TYPE),
        ("products[0].children[1]", Reason.OTHER_PRODUCT_GROUP),
        ("products[0].children[2]", Reason.LEVEL_MISMATCH),
        ("products[0].children[2]", Reason.INVALID_VAT),
    }
    assert found == expected
    # a bad line is still yielded when it has a code and a level, so its children keep their parent
    assert next(g.location for g in got if g.level is Level.BLOCK) == block_path
    assert all(p.message(lang) for p in reader.problems for lang in LANGS)


def test_csv_line_problems_have_line_numbers(tmp_path: Path) -> None:
    box = "00" + sscc(31)
    blk = block(G1, 32)
    rows = [
        [box, "box", "", "", "", "", "", "yes"],  # line 9
        [blk, "block", box, G2, "", "12.50", "-1", "yes"],  # line 10: gtin, price, vat
        [BAD_GTIN_PACK, "pack", blk, "", "", "", "", ""],  # line 11
        ["00" + sscc(33), "box", blk, "", "", "", "", "maybe"],  # line 12: box in a block, children value
        [MILK, "block", box, "", "", "", "", ""],  # line 13
        ["", "pack", blk, "", "", "", "", "", "extra"],  # line 14: no code, extra cell
        [pack(G1, 34), "", blk, "", "", "", "", ""],  # line 15: no level
        ["#number", "late"],  # line 16
    ]
    path = csv_act(tmp_path / "act.csv", rows)
    _, _, problems = read(path)
    assert reasons_at(problems) == {
        ("line 10", Reason.GTIN_MISMATCH),
        ("line 10", Reason.INVALID_PRICE),
        ("line 10", Reason.INVALID_VAT),
        ("line 11", Reason.INVALID_CODE),
        ("line 12", Reason.LEVEL_ORDER),
        ("line 12", Reason.INVALID_CHOICE),
        ("line 13", Reason.OTHER_PRODUCT_GROUP),
        ("line 14", Reason.MISSING_CODE),
        ("line 14", Reason.EXTRA_CELLS),
        ("line 15", Reason.MISSING_FIELD),
        ("line 16", Reason.HEADER_AFTER_LINES),
    }


def test_lengths_control_characters_and_duplicate_keys(tmp_path: Path) -> None:
    """Everything a reader yields fits the import service's columns and can be written to XLSX."""
    text = (
        '{"format": "transfer-act/1", "number": "ТА-1", "date": "2026-11-20", '
        '"sender": {"name": "А", "bin": "123456789025"}, "receiver": {"name": "Б", "bin": "987654321090"}, '
        '"basis": [], "turnover": null, "products": ['
        '{"code": "' + "A" * 121 + '", "level": "box"}, '
        '{"code": "' + "00" + sscc(71) + '", "level": "box", "name": "' + "x" * 301 + '"}, '
        '{"code": "' + "00" + sscc(72) + '", "level": "box", "name": "bell\\u0007"}, '
        '{"code": "' + "00" + sscc(73) + '", "level": "box", "level": "pallet"}]}'
    )
    path = tmp_path / "act.json"
    path.write_text(text, encoding="utf-8")
    reader = read_act(path)
    got = list(reader.lines())
    assert reasons_at(reader.problems) == {
        ("products[0]", Reason.TOO_LONG),
        ("products[1]", Reason.TOO_LONG),
        ("products[2]", Reason.INVALID_TEXT),
        ("products[3]", Reason.DUPLICATE_FIELD),
    }
    assert [g.level for g in got] == [Level.BOX] * 3  # the first value of a repeated key counts
    assert got[0].name is None and got[1].name is None


def test_problem_list_is_capped(tmp_path: Path) -> None:
    products = [{"code": "00" + sscc(i), "level": "pack"} for i in range(1, 1501)]
    path = write_doc(tmp_path / "act.json", json_act(products))
    reader = read_act(path)
    assert len(list(reader.lines())) == 1500
    problems = reader.problems
    assert len(problems) == transfer_act.MAX_PROBLEMS + 1
    assert problems[-1].reason == Reason.TOO_MANY_PROBLEMS and problems[-1].detail == "500"
    assert "500" in problems[-1].message("kk")


def test_fields_after_children_are_reported(tmp_path: Path) -> None:
    box = {"code": "00" + sscc(41), "children": [], "level": "box"}
    path = write_doc(tmp_path / "act.json", json_act([box]))
    reader = read_act(path)
    assert list(reader.lines()) == []  # the box has no level when its line must be emitted
    assert reasons_at(reader.problems) == {
        ("products[0]", Reason.MISSING_FIELD),
        ("products[0]", Reason.FIELD_AFTER_CHILDREN),
    }


def test_children_before_code_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_reader, "MAX_BUFFERED_LINES", 3)
    blk = block(G1, 50)
    product = {
        "children": [{"code": pack(G1, 50 + i), "level": "pack"} for i in range(1, 6)],
        "code": blk,
        "level": "block",
    }
    path = write_doc(tmp_path / "act.json", json_act([product]))
    reader = read_act(path)
    list(reader.lines())
    assert reasons_at(reader.problems) == {("products[0]", Reason.CHILDREN_FIRST_TOO_LARGE)}


def test_empty_act_is_a_problem(tmp_path: Path) -> None:
    path = write_doc(tmp_path / "act.json", json_act([]))
    reader = read_act(path)
    assert list(reader.lines()) == []
    assert [p.reason for p in reader.problems] == [Reason.NO_CODES]


# --- header problems and broken files: ActFormatError and nothing else -------------------------------------


def format_error(path: Path) -> list[Problem]:
    with pytest.raises(ActFormatError) as info:
        read_act(path)
    assert info.value.problems
    return info.value.problems


def test_header_problems_in_json(tmp_path: Path) -> None:
    doc = json_act(
        [{"code": "00" + sscc(1), "level": "box"}, {"code": BAD_GTIN_PACK, "level": "pack"}],
        sender={"name": "ТОО А", "bin": "12345"},
        date="2026-13-01",
        number="",
        receiver={"name": "ТОО Б", "bin": "987654321090", "email": "b@example.kz"},
        basis=[{"type": "ESF", "number": "1"}],
        extra=1,
    )
    problems = format_error(write_doc(tmp_path / "act.json", doc))
    assert reasons_at(problems) == {
        ("sender.bin", Reason.INVALID_BIN),
        ("date", Reason.INVALID_DATE),
        ("number", Reason.MISSING_FIELD),
        ("receiver.email", Reason.UNKNOWN_FIELD),
        ("basis[0].date", Reason.MISSING_FIELD),
        ("extra", Reason.UNKNOWN_FIELD),
        ("products[1]", Reason.INVALID_CODE),  # the lines are read too, so the report is complete
    }


def test_header_problems_in_csv(tmp_path: Path) -> None:
    head = [
        ["#format", "transfer-act/1"],
        ["#number", "ТА-1"],
        ["#date", "20.11.2026"],
        ["#sender.name", "ТОО А"],
        ["#sender.bin", "1234567890AB"],
        ["#receiver.name", "ТОО Б"],
        ["#colour", "red"],
        ["#number", "again"],
    ]
    path = csv_act(tmp_path / "act.csv", [["00" + sscc(1), "box", "", "", "", "", "", ""]], head)
    assert reasons_at(format_error(path)) == {
        ("line 3", Reason.INVALID_DATE),
        ("line 5", Reason.INVALID_BIN),
        ("line 6", Reason.MISSING_FIELD),  # receiver.bin: pointed at the receiver's other row
        ("line 7", Reason.UNKNOWN_FIELD),
        ("line 8", Reason.DUPLICATE_FIELD),
    }


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_wrong_format_tag_stops_there(tmp_path: Path, fmt: str) -> None:
    if fmt == "json":
        path = write_doc(tmp_path / "act.json", json_act([{"code": "junk", "level": "box"}], format="transfer-act/2"))
    else:
        path = csv_act(tmp_path / "act.csv", [["junk", "box"]], [["#format", "transfer-act/2"]])
    problems = format_error(path)
    assert [(p.reason, p.detail) for p in problems] == [(Reason.WRONG_FORMAT, "transfer-act/2")]
    assert "transfer-act/2" in problems[0].message("ru")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_bin_with_a_wrong_check_digit_is_refused_where_it_stands(tmp_path: Path, fmt: str) -> None:
    wrong = "123456789021"  # twelve digits, but the check digit of 12345678902 is 5
    box = "00" + sscc(1)
    if fmt == "json":
        path = write_doc(
            tmp_path / "act.json", json_act([{"code": box, "level": "box"}], receiver={"name": "ТОО Б", "bin": wrong})
        )
        where = "receiver.bin"
    else:
        header = [
            ["#format", "transfer-act/1"],
            ["#number", "ТА-1"],
            ["#date", "2026-11-20"],
            ["#sender.name", "ТОО А"],
            ["#sender.bin", "123456789025"],
            ["#receiver.name", "ТОО Б"],
            ["#receiver.bin", wrong],
        ]
        path = csv_act(tmp_path / "act.csv", [[box, "box"]], header, columns="code,level")
        where = "line 7"
    [problem] = format_error(path)
    assert (problem.location, problem.reason, problem.detail) == (where, Reason.INVALID_BIN, f"receiver.bin: {wrong}")
    assert problem.message("en") == f"“receiver.bin”: the check digit of the BIN/IIN “{wrong}” is wrong (a typo?)"
    assert "контрольная цифра" in problem.message("ru") and "бақылау цифры" in problem.message("kk")


def test_act_format_error_tells_its_first_problem_and_how_many_more(tmp_path: Path) -> None:
    doc = json_act([], sender={"name": "ТОО А", "bin": "12345"}, date="20.11.2026")
    with pytest.raises(ActFormatError) as info:
        read_act(write_doc(tmp_path / "act.json", doc))
    error = info.value
    assert isinstance(error, WarehouseError) and error.reason == "refused_more"
    assert [p.location for p in error.problems] == ["date", "sender.bin"]
    assert error.message("en") == (
        "The act file cannot be used: date: “date”: “20.11.2026” is not a date in the form YYYY-MM-DD "
        "(and 1 more problems)"
    )
    assert error.message("ru").startswith("Файл акта не принят: date: «date»: «20.11.2026» — не дата")
    assert str(error) == error.message("en")
    with pytest.raises(ActFormatError) as one:
        read_act(tmp_path / "act.xml")
    assert one.value.message("kk") == "Акт файлы қабылданбады: file: " + one.value.problems[0].message("kk")


def test_csv_missing_column(tmp_path: Path) -> None:
    path = csv_act(tmp_path / "act.csv", [["00" + sscc(1), "", "box"]], columns="code,parent_code,lvl")
    assert reasons_at(format_error(path)) == {("line 8", Reason.MISSING_COLUMN), ("line 8", Reason.UNKNOWN_FIELD)}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("act.json", b"", Reason.EMPTY_FILE),
        ("act.csv", b"", Reason.EMPTY_FILE),
        ("act.xlsx", b"", Reason.EMPTY_FILE),
        ("act.json", b'{"format": "transfer-act/1", "number": "1", "products": [{"code"', Reason.MALFORMED),
        ("act.json", b"\x89PNG\r\n\x1a\n\x00\x00garbage", Reason.MALFORMED),
        ("act.json", b"[1, 2, 3]", Reason.WRONG_TYPE),
        ("act.json", b"   \n", Reason.MALFORMED),
        ("act.csv", b"#format,transfer-act/1\n\xff\xfe\x00garbage", Reason.ENCODING),
        ("act.csv", b"#format,transfer-act/1\n\x00\x00\x00", Reason.MISSING_COLUMN),
        ("act.csv", b'#format,transfer-act/1\ncode,level\n"unclosed,box\n', Reason.MALFORMED),
        ("act.xlsx", b"PK\x03\x04 this is not a workbook", Reason.UNREADABLE_FILE),
        ("act.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls", Reason.UNREADABLE_FILE),
        ("act.xml", b"<act/>", Reason.UNSUPPORTED_FILE),
        ("act", b"{}", Reason.UNSUPPORTED_FILE),
    ],
)
def test_broken_files_give_clear_problems(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    problems = format_error(path)
    assert reason in {p.reason for p in problems}
    assert all(p.message(lang) and not PLACEHOLDER.search(p.message(lang)) for p in problems for lang in LANGS)


def test_missing_file(tmp_path: Path) -> None:
    assert [p.reason for p in format_error(tmp_path / "nowhere.json")] == [Reason.UNREADABLE_FILE]


def _only_format_errors(path: Path) -> None:
    try:
        reader = read_act(path)
    except ActFormatError as e:
        assert e.problems
        return
    list(reader.lines())  # never raises; a broken file ends with a problem
    assert isinstance(reader.problems, list)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("valid")
    header, lines = small_act()
    out = {}
    for fmt, writer in WRITERS.items():
        writer(folder / f"act.{fmt}", header, lines)
        out[fmt] = (folder / f"act.{fmt}").read_bytes()
    return out


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_only_ever_raise_act_format_error(
    tmp_path: Path, valid_files: dict[str, bytes], fmt: str, data: st.DataObject
) -> None:
    original = valid_files[fmt]
    cut = data.draw(st.integers(0, len(original)))
    damaged = bytearray(original[:cut] if data.draw(st.booleans()) else original)
    for _ in range(data.draw(st.integers(0, 3))):
        if damaged:
            damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / f"act.{fmt}"
    path.write_bytes(bytes(damaged))
    _only_format_errors(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), fmt=st.sampled_from(["json", "csv", "xlsx"]))
def test_garbage_only_ever_raises_act_format_error(tmp_path: Path, content: bytes, fmt: str) -> None:
    path = tmp_path / f"act.{fmt}"
    path.write_bytes(content)
    _only_format_errors(path)


# --- messages -----------------------------------------------------------------------------------------------


# The args that choose a reason's sentence, and their values: each value has a sentence of its own.
VARIANTS: dict[str, list[tuple[tuple[str, str], ...]]] = {
    Reason.WRONG_TYPE: [(("expected", e),) for e in ("object", "list", "text", "integer")],
    Reason.LEVEL_MISMATCH: [
        (("kind", kind), ("level", level))
        for kind, levels in {
            "pack": ("pallet", "box", "block"),
            "block": ("pallet", "box", "pack"),
            "sscc": ("block", "pack"),
            "aggregate": ("block", "pack"),
        }.items()
        for level in levels
    ],
    Reason.INVALID_BIN: [(), (("check", "check_digit"),)],
}


def test_every_reason_has_three_languages() -> None:
    base = (
        ("field", "f"),
        ("value", "v"),
        ("code", "c"),
        ("why", "w"),
        ("max", "9"),
        ("line", "g1"),
        ("allowed", "a"),
    )
    for reason in Reason:
        variants = VARIANTS.get(reason, [()])
        english = set()
        for variant in variants:
            problem = Problem("line 1", reason, "X", base + variant)
            ru, kk, en = (problem.message(lang) for lang in ("ru", "kk", "en"))
            assert ru and kk and en and len({ru, kk, en}) == 3, (reason, variant)
            assert not PLACEHOLDER.search(ru + kk + en)
            english.add(en)
        assert len(english) == len(variants), f"{reason}: a variant without a sentence of its own"
    assert Problem("x", Reason.EMPTY_FILE).message("de") == Problem("x", Reason.EMPTY_FILE).message("ru")


def test_messages_use_the_language_of_the_reader(tmp_path: Path) -> None:
    path = write_doc(tmp_path / "act.json", json_act([{"code": pack(G1, 1), "level": "box"}]))
    reader = read_act(path)
    list(reader.lines())
    [problem] = reader.problems
    assert problem.message("en") == "A pack code cannot be declared as a box"
    assert problem.message("ru") == "Код пачки не может быть указан с уровнем «короб»"
    assert problem.message("kk") == "Қорап кодын «жәшік» деңгейінде көрсетуге болмайды"
    assert str(problem) == "products[0]: A pack code cannot be declared as a box"


def test_an_invalid_code_is_explained_in_the_language_of_the_reader(tmp_path: Path) -> None:
    path = write_doc(tmp_path / "act.json", json_act([{"code": BAD_GTIN_PACK, "level": "pack"}]))
    reader = read_act(path)
    list(reader.lines())
    [problem] = reader.problems
    assert problem.reason == Reason.INVALID_CODE and problem.cause is not None
    for lang in LANGS:
        assert problem.cause.message(lang) in problem.message(lang)
    assert "контрольная цифра" in problem.message("ru") and "бақылау цифры" in problem.message("kk")
    # the import service's reader process hands its problems over pickled: the words survive
    again = pickle.loads(pickle.dumps(problem))
    assert again == problem and all(again.message(lang) == problem.message(lang) for lang in LANGS)


def test_unknown_reason_from_another_layer_still_reads() -> None:
    assert Problem("file", "something_new", "42").message("en") == "something_new: 42"
    assert "уже загружен" in Problem("file", "duplicate_act", "ТА-1 2026-11-20 #3").message("ru")


# --- check_tree ----------------------------------------------------------------------------------------------


def test_check_tree_accepts_a_generated_act() -> None:
    _, lines = small_act(pallets=2)
    assert check_tree((g.identity, g.parent_code, g.level) for g in lines) == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("P", None, Level.PALLET), ("B", "P", Level.BOX), ("B", "P", Level.BOX)], {("B", Reason.DUPLICATE_CODE)}),
        ([("B", None, Level.BOX), ("K", "X", Level.BLOCK)], {("K", Reason.UNKNOWN_PARENT)}),
        ([("K", None, Level.BLOCK), ("B", "K", Level.BOX)], {("B", Reason.LEVEL_ORDER)}),
        (
            [("A", "B", Level.BOX), ("B", "A", Level.BOX)],
            {("A", Reason.LEVEL_ORDER), ("B", Reason.LEVEL_ORDER), ("A", Reason.CYCLE)},
        ),
        ([("A", "A", Level.BOX)], {("A", Reason.CYCLE)}),
        (
            [("P", None, Level.PALLET), ("B", "P", Level.BOX), ("K", "B", Level.BLOCK), ("x", "P", Level.PACK)],
            {("x", Reason.LEVEL_SKIPPED)},
        ),
        ([("P", None, Level.PALLET), ("B", "P", Level.BOX), ("k", "P", Level.BLOCK)], {("k", Reason.LEVEL_SKIPPED)}),
        ([("B", None, Level.BOX), ("K", "B", Level.BLOCK), ("x", "B", Level.PACK)], {("x", Reason.LEVEL_SKIPPED)}),
        # no boxes or blocks in the file: packs on a pallet are fine, and so are loose packs at the top
        ([("P", None, Level.PALLET), ("x", "P", Level.PACK), ("y", None, Level.PACK)], set()),
        # loose blocks elsewhere in the file: a pack straight on a pallet skips the block level
        ([("P", None, Level.PALLET), ("x", "P", Level.PACK), ("K", None, Level.BLOCK)], {("x", Reason.LEVEL_SKIPPED)}),
    ],
)
def test_check_tree(rows: list[tuple[str, str | None, Level]], expected: set[tuple[str, str]]) -> None:
    assert reasons_at(check_tree(rows)) == expected


def test_check_tree_uses_locations_and_caps() -> None:
    rows = [("A", None, Level.BOX, "line 3"), ("A", None, Level.BOX, "line 9")]
    [problem] = check_tree(rows)
    assert (problem.location, problem.reason, problem.detail) == ("line 9", Reason.DUPLICATE_CODE, "A")
    many = [(f"c{i}", "nowhere", Level.PACK) for i in range(1200)]
    problems = check_tree(many)
    assert len(problems) == transfer_act.MAX_PROBLEMS + 1 and problems[-1].detail == "200"


def test_load_act_runs_the_tree_checks(tmp_path: Path) -> None:
    box = "00" + sscc(61)
    rows = [
        [box, "box", "", "", "", "", "", "yes"],
        [box, "box", "", "", "", "", "", "yes"],
        [block(G1, 62), "block", sscc(99), "", "", "", "", ""],
    ]
    path = csv_act(tmp_path / "act.csv", rows)
    with pytest.raises(ActFormatError) as info:
        transfer_act.load_act(path)
    assert reasons_at(info.value.problems) == {("line 10", Reason.DUPLICATE_CODE), ("line 11", Reason.UNKNOWN_PARENT)}


# --- the generator and the writers' contract -----------------------------------------------------------------


def test_generator_is_realistic_deterministic_and_streaming() -> None:
    header, lines = small_act(pallets=2, boxes_per_pallet=3, blocks_per_box=4, packs_per_block=5, seed=7)
    assert small_act(pallets=2, boxes_per_pallet=3, blocks_per_box=4, packs_per_block=5, seed=7) == (header, lines)
    other = small_act(pallets=2, boxes_per_pallet=3, blocks_per_box=4, packs_per_block=5, seed=8)[1]
    assert {g.code for g in lines}.isdisjoint(g.code for g in other)
    counts = {level: sum(g.level is level for g in lines) for level in Level}
    assert counts == {Level.PALLET: 2, Level.BOX: 6, Level.BLOCK: 24, Level.PACK: 120}
    assert len({g.identity for g in lines}) == len(lines)
    for g in lines:
        parsed = codes.parse(g.code)
        assert parsed.ok and parsed.normalized == g.code and parsed.identity == g.identity, g
        assert parsed.kind is g.kind and parsed.kind in FITS[g.level]
        if g.gtin is not None and parsed.gtin is not None:
            assert g.gtin == parsed.gtin
    assert all(g.code.startswith("00") and g.identity[1:4] == "487" for g in lines if g.level.rank >= 2)
    assert all(f"{GS}8005" in g.code and g.price and g.vat for g in lines if g.level is Level.BLOCK)
    assert len({g.gtin for g in lines if g.gtin}) >= 3
    serial_chars = "".join(g.identity[14:] for g in lines if g.level is Level.PACK)
    assert set("<>&\"'") <= set(serial_chars)
    assert "Marlboro Red" in {g.name for g in lines}
    assert int(header.sender.bin[11]) == _bin_check(header.sender.bin[:11])
    assert isinstance(generate_act(pallets=1, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)[1], Iterator)


def _bin_check(body: str) -> int:
    total = sum((i + 1) * int(d) for i, d in enumerate(body)) % 11
    return (
        total
        if total != 10
        else sum(w * int(d) for w, d in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), body, strict=True)) % 11
    )


@pytest.mark.parametrize(
    ("depth", "levels"),
    [
        (Level.PALLET, [Level.PALLET]),
        (Level.BOX, [Level.PALLET, Level.BOX]),
        (Level.BLOCK, [Level.PALLET, Level.BOX, Level.BLOCK]),
    ],
)
def test_generator_depth(depth: Level, levels: list[Level]) -> None:
    _, lines = small_act(depth=depth)
    assert sorted({g.level for g in lines}, key=lambda lv: -lv.rank) == levels
    assert all(g.declared_children == (g.level.rank > depth.rank) for g in lines)


def test_generator_without_pallets() -> None:
    _, lines = small_act(pallets=0, boxes_per_pallet=3, depth=Level.BOX)
    assert [(g.level, g.parent_code) for g in lines] == [(Level.BOX, None)] * 3


def test_write_json_needs_preorder_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    header, lines = small_act()
    path = tmp_path / "act.json"
    with pytest.raises(ValueError, match="preorder"):
        write_json(path, header, [lines[0], lines[3], lines[1]])  # a pack before its block
    assert list(tmp_path.iterdir()) == []
    undeclared = replace(lines[1], declared_children=False)
    with pytest.raises(ValueError, match="declares children"):
        write_json(path, header, [lines[0], undeclared, lines[2]])
    assert list(tmp_path.iterdir()) == []


def test_csv_accepts_lines_in_any_order(tmp_path: Path) -> None:
    header, lines = small_act()
    path = tmp_path / "act.csv"
    write_csv(path, header, list(reversed(lines)))
    _, got, problems = read(path)
    assert problems == [] and got == list(reversed(lines))
    assert check_tree((g.identity, g.parent_code, g.level) for g in got) == []


def test_examples_read_back_without_problems() -> None:
    results = []
    for fmt in ("json", "csv", "xlsx"):
        header, lines = transfer_act.load_act(EXAMPLES / f"act-small.{fmt}")
        results.append((header, lines))
        assert {g.level for g in lines} == set(Level)
    assert results[0] == results[1] == results[2]


def test_example_sheets_match_the_generator() -> None:
    """docs/examples are generated by the writers (see docs/exchange-format.md); regenerate if this fails."""
    header, lines = generate_act(pallets=1, boxes_per_pallet=2, blocks_per_box=2, packs_per_block=2, seed=2026)
    assert transfer_act.load_act(EXAMPLES / "act-small.json") == (header, list(lines))


def test_gs1_check_digit_helper_agrees_with_factories() -> None:
    assert all(
        str(identifiers.gs1_check_digit(str(n).zfill(13))) == check_digit(str(n).zfill(13))
        for n in range(0, 10**6, 7919)
    )
