"""What the receiving screens show of the aggregate last opened (issue 16, item 7): its contents by level,
the aggregates holding it with what is directly inside each, and nothing once receiving ended."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import ActFactory
from warehouse.db import Database
from warehouse.models import ActCode
from warehouse.services import importing, receiving, screens, tree


def test_the_last_opened_aggregate_with_its_holders(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = ActFactory(number="ТА-OPEN", pallets=1, boxes=2, blocks=2, packs=3)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id

    def scan(code: str) -> None:
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, station="station-1"))

    assert screens.last_opened(db, act_id) is None
    assert screens.receiving_state(db, act_id, None).opened is None  # type: ignore[union-attr]
    scan("#WH:FULL_CHECK")
    scan(f.codes["pallet"][0])
    scan(f.codes["box"][1])
    scan(f.codes["block"][2])  # the first block of the second box
    scan(f.codes["pack"][6])
    scan(f.codes["pack"][6])  # a duplicate, a command: the opened block stays what is shown
    scan("#WH:UNDO")
    scan(f.codes["pack"][6])
    opened_id = screens.last_opened(db, act_id)
    state = screens.receiving_state(db, act_id, opened_id)
    assert state is not None and state.opened is not None
    shown = state.opened
    assert (shown.code, shown.level, shown.levels, shown.complete) == (
        f.codes["block"][2],
        "block",
        [("pack", 1, 3)],
        False,
    )
    assert [(h.level, h.levels) for h in shown.around] == [("pallet", [("box", 0, 2)]), ("box", [("block", 0, 2)])]

    for code in f.codes["pack"][7:9]:
        scan(code)
    done = screens.receiving_state(db, act_id, opened_id)
    assert done is not None and done.opened is not None and done.opened.complete  # said complete, still shown
    assert [(h.level, h.levels) for h in done.opened.around][1] == ("box", [("block", 1, 2)])

    monkeypatch.setattr(tree, "DEEP_COUNT_MAX", 2)  # a big aggregate: only its own level is counted
    state = screens.receiving_state(db, act_id, screens.last_opened(db, act_id))
    assert state is not None and state.opened is not None and state.opened.levels == [("pack", 3, 3)]
    box = screens.receiving_state(db, act_id, _act_code(db, act_id, f.codes["box"][1]))
    assert box is not None and box.opened is not None and box.opened.levels == [("block", 1, 2)]

    receiving.close_act(db, act_id)
    closed = screens.receiving_state(db, act_id, opened_id)
    assert closed is not None and closed.opened is None and not closed.complete


def _act_code(db: Database, act_id: int, code: str) -> int:
    with db.read() as s:
        return int(s.execute(select(ActCode.id).where(ActCode.act_id == act_id, ActCode.code == code)).scalar_one())
