"""The import's fast paths give the same act as the plain ones: reader process or not, file order or not."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from warehouse import transfer_act
from warehouse.db import Database
from warehouse.services import importing


def _act(number: str) -> tuple[transfer_act.ActHeader, list[transfer_act.ActLine]]:
    header, lines = transfer_act.generate_act(
        pallets=2, boxes_per_pallet=2, blocks_per_box=3, packs_per_block=4, seed=9
    )
    return dataclasses.replace(header, number=number), list(lines)


def _tree(db: Database, act_id: int) -> list[tuple[object, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT c.identity, p.identity, c.pos, c.last, c.level, c.gtin, c.code, c.price, "
                    "c.declared_children "
                    "FROM act_codes c LEFT JOIN act_codes p ON p.id = c.parent_id WHERE c.act_id = :a ORDER BY c.pos"
                ),
                {"a": act_id},
            )
        ]


def _counters(db: Database, act_id: int) -> list[tuple[object, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                text("SELECT level, gtin, expected, credited FROM act_counters WHERE act_id = :a ORDER BY level, gtin"),
                {"a": act_id},
            )
        ]


def test_reader_process_and_any_line_order_give_the_same_act(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, lines = _act("A")
    transfer_act.write_json(tmp_path / "a.json", header, lines)
    inline = importing.import_act(db, tmp_path / "a.json")
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)  # every file through the reader process
    b, _ = _act("B")
    transfer_act.write_csv(tmp_path / "b.csv", b, lines)
    in_process = importing.import_act(db, tmp_path / "b.csv")
    c, _ = _act("C")
    transfer_act.write_csv(tmp_path / "c.csv", c, lines[::-1])  # children before parents: numbered in SQL
    reversed_order = importing.import_act(db, tmp_path / "c.csv")
    tree = _tree(db, inline.act_id)
    assert len(tree) == 2 + 4 + 12 + 48 and tree[0][2:4] == (0, 32)
    assert _tree(db, in_process.act_id) == tree
    # Siblings are numbered in file order, so reversed they come the other way round: same tree, same sizes.
    shape = sorted((r[0], r[1], r[3] - r[2], *r[4:]) for r in tree)
    flipped = _tree(db, reversed_order.act_id)
    assert sorted((r[0], r[1], r[3] - r[2], *r[4:]) for r in flipped) == shape
    where = {r[0]: (r[2], r[3]) for r in flipped}
    assert all(
        where[parent][0] < where[child][0] <= where[child][1] <= where[parent][1]
        for child, parent, *_ in flipped
        if parent is not None
    )
    assert _counters(db, in_process.act_id) == _counters(db, reversed_order.act_id) == _counters(db, inline.act_id)


def test_the_reader_process_reports_every_problem(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    header, lines = _act("D")
    pack = next(line for line in lines if line.level is transfer_act.Level.PACK)
    pallet = lines[0]
    other = pack.code[:14] + "QQQQQQQ" + pack.code[21:]  # another serial: another pack
    bad = [
        *lines,
        dataclasses.replace(pack, location=""),  # the same pack twice
        dataclasses.replace(pack, code=other, identity=other[:21], parent_code=pallet.identity),
    ]  # under a pallet
    transfer_act.write_csv(tmp_path / "d.csv", header, bad)
    with pytest.raises(importing.ActImportError) as e:
        importing.import_act(db, tmp_path / "d.csv")
    assert sorted(p.reason for p in e.value.problems) == ["duplicate_code", "level_skipped"]
    with db.read() as s:
        assert s.execute(text("SELECT count(*) FROM act_codes")).scalar_one() == 0


def test_a_reader_process_that_cannot_start_falls_back_to_reading_here(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, says nothing, exits 1
    header, lines = _act("E")
    transfer_act.write_json(tmp_path / "e.json", header, lines)
    result = importing.import_act(db, tmp_path / "e.json")
    assert result.codes == len(lines) and len(_tree(db, result.act_id)) == len(lines)


def test_an_import_error_is_a_worded_act_format_error_that_survives_pickling() -> None:
    import pickle

    from warehouse.messages import WarehouseError

    error = importing.ActImportError(
        [transfer_act.Problem("file", "duplicate_act", "A-1 2026-01-05 #7")], existing_act_id=7
    )
    assert isinstance(error, transfer_act.ActFormatError) and isinstance(error, WarehouseError)
    assert error.reason == "refused" and error.message("ru") != error.message("en")
    back = pickle.loads(pickle.dumps(error))
    assert (back.problems, back.existing_act_id, back.message("kk")) == (error.problems, 7, error.message("kk"))
