"""Receiving against an imported act, on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, literal_column, select

from tests.factories import GS, ActFactory, gtin, pack, sscc_code
from warehouse.db import Database
from warehouse.matching import Reason
from warehouse.models import ActCode, ActCounter, Scan
from warehouse.services import importing, receiving
from warehouse.services.receiving import ScanInput
from warehouse.timeutil import utcnow
from warehouse.vocab import Mode, ScanClass


def _import(db: Database, tmp_path: Path, factory: ActFactory, mode: Mode = Mode.TRUSTED) -> int:
    path = factory.write(tmp_path / f"act-{factory.number}.json")
    return importing.import_act(db, path, mode=mode).act_id


def _scan(db: Database, act_id: int, raw: str, **kw: str) -> receiving.ScanResult:
    return receiving.record_scan(db, act_id, ScanInput(raw=raw, source="cli", station="dock-1", **kw))


def _assert_counters_match_rows(db: Database, act_id: int) -> None:
    with db.read() as s:
        counted = {
            (c.level, c.gtin): (c.expected, c.credited)
            for c in s.execute(select(ActCounter).where(ActCounter.act_id == act_id)).scalars()
        }
        gtin_or_blank = func.coalesce(ActCode.gtin, literal_column("''"))  # one expression for SELECT and GROUP BY
        rows = s.execute(
            select(ActCode.level, gtin_or_blank, func.count(), func.count(ActCode.credited_scan_id))
            .where(ActCode.act_id == act_id)
            .group_by(ActCode.level, gtin_or_blank)
        ).all()
        credited_by_scans = s.execute(
            select(func.coalesce(func.sum(Scan.credited), 0)).where(Scan.act_id == act_id)
        ).scalar_one()
        credited_rows = s.execute(select(func.count(ActCode.credited_scan_id)).where(ActCode.act_id == act_id)).scalar()
    assert counted == {(lvl, g): (n, c) for lvl, g, n, c in rows}
    assert credited_by_scans == credited_rows, "every credit is owned by exactly one scan"


def test_import_counts_every_level(db: Database, tmp_path: Path) -> None:
    act_id = _import(db, tmp_path, ActFactory(pallets=2, boxes=3, blocks=2, packs=5))
    summary = receiving.act_summary(db, act_id).to_json()
    assert summary["expected"] == {"pallet": 2, "box": 6, "block": 12, "pack": 60}
    assert summary["credited"] == {"pallet": 0, "box": 0, "block": 0, "pack": 0}
    assert summary["status"] == "new" and summary["mode"] == "trusted"


def test_pallet_label_credits_its_declared_contents(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=2)
    act_id = _import(db, tmp_path, f)
    result = _scan(db, act_id, f.codes["pallet"][0])
    assert result.scan_class == ScanClass.MATCHED and result.credited == 1 + 2 + 4 + 12
    assert result.message("en").endswith("(inside: boxes: 2, blocks: 4, packs: 12)")  # what it held, by level
    summary = receiving.act_summary(db, act_id).to_json()
    assert summary["credited"] == {"pallet": 1, "box": 2, "block": 4, "pack": 12}
    inner = _scan(db, act_id, f.codes["pack"][0])
    assert inner.scan_class == ScanClass.DUPLICATE and inner.outcome.reason == Reason.INSIDE_CREDITED
    assert f.codes["pallet"][0] in inner.message("ru") and "паллета" in inner.message("ru")
    again = _scan(db, act_id, f.codes["pallet"][0])
    assert again.scan_class == ScanClass.DUPLICATE and again.outcome.reason == Reason.ALREADY_SCANNED
    _assert_counters_match_rows(db, act_id)


def test_scanning_children_then_the_parent_credits_only_the_rest(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=3)
    act_id = _import(db, tmp_path, f)
    assert _scan(db, act_id, f.codes["pack"][0]).credited == 1
    assert _scan(db, act_id, f.codes["pack"][1]).credited == 1
    box = _scan(db, act_id, f.codes["box"][0])
    # the box, 2 blocks and the 4 packs not yet counted; the pallet rolls up since its only box is complete
    assert box.credited == 1 + 2 + 4 + 1
    assert receiving.act_summary(db, act_id).complete
    _assert_counters_match_rows(db, act_id)


def test_all_packs_of_a_block_complete_the_block(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=3)
    act_id = _import(db, tmp_path, f)
    for code in f.codes["pack"][:3]:
        _scan(db, act_id, code)
    credited = receiving.act_summary(db, act_id).to_json()["credited"]
    assert credited == {"pallet": 0, "box": 0, "block": 1, "pack": 3}
    block_again = _scan(db, act_id, f.codes["block"][0])
    assert block_again.outcome.reason == Reason.CONTENTS_SCANNED


def test_full_check_opens_aggregates_instead_of_trusting_them(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=1, packs=2)
    act_id = _import(db, tmp_path, f, mode=Mode.FULL_CHECK)
    opened = _scan(db, act_id, f.codes["box"][0])
    assert opened.scan_class == ScanClass.MATCHED and opened.outcome.reason == Reason.OPENED and opened.credited == 0
    assert "scan its contents" in opened.message("en")
    for code in f.codes["pack"]:
        assert _scan(db, act_id, code).credited >= 1
    assert receiving.act_summary(db, act_id).complete  # packs complete the block, the box, the pallet


def test_each_kind_of_discrepancy(db: Database, tmp_path: Path) -> None:
    f = ActFactory()
    act_id = _import(db, tmp_path, f)
    other = ActFactory(number="ТА-999", products=(1001,), start=10_000)
    other_id = _import(db, tmp_path, other)
    g = gtin(1001)
    surplus = pack(g, 555_555)
    assert _scan(db, act_id, surplus).scan_class == ScanClass.SURPLUS
    assert _scan(db, act_id, surplus).outcome.reason == Reason.SURPLUS_AGAIN
    foreign = _scan(db, act_id, other.codes["pack"][0])
    assert foreign.scan_class == ScanClass.FOREIGN and "ТА-999" in foreign.message("ru")
    assert foreign.outcome.args["act_id"] == str(other_id)
    wrong = _scan(db, act_id, pack(gtin(7777), 1))
    assert wrong.scan_class == ScanClass.WRONG_PRODUCT and gtin(7777) in wrong.message("en")
    product = _scan(db, act_id, g[1:])  # the EAN-13 on the pack
    assert product.scan_class == ScanClass.PRODUCT and "Data Matrix" in product.message("en")
    invalid = _scan(db, act_id, "<img src=x onerror=alert(1)>")  # <script>…</script> alone is a legal aggregate
    assert invalid.scan_class == ScanClass.INVALID
    unknown_box = _scan(db, act_id, sscc_code(424_242))
    assert unknown_box.scan_class == ScanClass.SURPLUS
    summary = receiving.act_summary(db, act_id).to_json()
    assert summary["surplus"] == 4 and summary["duplicate"] == 1 and summary["invalid"] == 2
    assert summary["credited"]["pack"] == 0


def test_mangled_forms_of_a_code_still_match(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=1)
    act_id = _import(db, tmp_path, f)
    blk = f.codes["block"][0]
    assert _scan(db, act_id, "]d2" + blk.replace(GS, "<GS>") + "\r\n").scan_class == ScanClass.MATCHED
    blk2 = f.codes["block"][1]
    assert _scan(db, act_id, blk2.replace(GS, "")).scan_class == ScanClass.MATCHED


def test_a_retried_scan_counts_once(db: Database, tmp_path: Path) -> None:
    f = ActFactory()
    act_id = _import(db, tmp_path, f)
    first = _scan(db, act_id, f.codes["box"][0], client_scan_id="tsd-7:42")
    retry = _scan(db, act_id, f.codes["box"][0], client_scan_id="tsd-7:42")
    assert retry.replayed and retry.scan_id == first.scan_id and retry.scan_class == ScanClass.MATCHED
    with db.read() as s:
        assert receiving.count_scans(s, act_id) == 1


def test_the_journal_keeps_when_the_scanner_sent_the_scan(db: Database, tmp_path: Path) -> None:
    """A scan that waited in a reader's queue is journaled with the moment its terminator arrived."""
    f = ActFactory()
    act_id = _import(db, tmp_path, f)
    sent = utcnow() - timedelta(seconds=2)
    waited = receiving.record_scan(db, act_id, ScanInput(raw=f.codes["pack"][0], received_at=sent))
    now = receiving.record_scan(db, act_id, ScanInput(raw=f.codes["pack"][1]))
    with db.read() as s:
        waited_row, now_row = (s.get(Scan, r.scan_id) for r in (waited, now))
        assert waited_row is not None and now_row is not None
        assert waited_row.received_at == sent and waited_row.created_at - sent >= timedelta(seconds=2)
        assert now_row.received_at == now_row.created_at  # no time given: the moment it was journaled


def test_close_freezes_and_lists_missing_by_aggregate(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=2, blocks=2, packs=2)
    act_id = _import(db, tmp_path, f)
    _scan(db, act_id, f.codes["box"][0])
    _scan(db, act_id, f.codes["pack"][4])  # one pack of the first block of the second box
    summary = receiving.close_act(db, act_id, actor="test")
    assert summary.status == "closed"
    with pytest.raises(receiving.ReceivingError) as refused:
        _scan(db, act_id, f.codes["pack"][5])
    assert refused.value.reason == "act_not_open"
    with db.read() as s:
        groups = receiving.missing(s, act_id)
    listed = {(g.parent_code, code) for g in groups for _lvl, code in g.codes}
    # The second block of box 2 is wholly missing: listed as the block, not as its packs.
    assert (f.codes["box"][1], f.codes["block"][3]) in listed
    assert (f.codes["block"][2], f.codes["pack"][5]) in listed
    assert not any(code == f.codes["pack"][6] for _p, code in listed)
    with pytest.raises(receiving.ReceivingError):
        receiving.decide(db, act_id, "accepted", actor="test")
    receiving.decide(db, act_id, "accepted_with_discrepancies", reason="shortage", comment="box torn", actor="test")
    assert receiving.act_summary(db, act_id).status == "decided"


def test_concurrent_stations_never_double_credit(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=2, boxes=3, blocks=3, packs=4)
    act_id = _import(db, tmp_path, f)
    # Four stations scan overlapping codes at every level at once.
    streams = [
        f.codes["pack"] + f.codes["box"],
        list(reversed(f.codes["block"])) + f.codes["pallet"],
        f.codes["box"][::-1] + f.codes["pack"][::2],
        f.codes["pallet"] + f.codes["pack"][::-1],
    ]
    errors: list[BaseException] = []

    def station(i: int, codes: list[str]) -> None:
        try:
            for n, code in enumerate(codes):
                _scan(db, act_id, code, client_scan_id=f"s{i}-{n}")
        except BaseException as e:  # surfaced below; a thread must not swallow it
            errors.append(e)

    threads = [threading.Thread(target=station, args=(i, c)) for i, c in enumerate(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as s:
        assert receiving.count_scans(s, act_id) == sum(len(c) for c in streams), "no scan lost"
    summary = receiving.act_summary(db, act_id)
    assert summary.complete
    _assert_counters_match_rows(db, act_id)


def test_undo_is_a_reversal_per_station(db: Database, tmp_path: Path) -> None:
    f = ActFactory(boxes=2)
    act_id = _import(db, tmp_path, f)
    first = _scan(db, act_id, f.codes["box"][0])
    assert first.credited == 1 + 2 + 6
    other_station = receiving.record_scan(db, act_id, ScanInput(raw=f.codes["box"][1], station="dock-2"))
    assert other_station.credited == 10  # its box, and the pallet now whole
    undo = _scan(db, act_id, "#WH:UNDO")
    assert undo.scan_class == ScanClass.REVERSED and undo.credited == -10  # the box's 9 and the pallet
    assert "10" in undo.message("en") and f.codes["box"][0] in undo.message("en")
    with db.read() as s:
        row = s.get(Scan, undo.scan_id)
        assert row is not None and row.reverses_scan_id == first.scan_id
        assert s.get(Scan, first.scan_id) is not None  # nothing is deleted
        summary = receiving.summary(s, receiving.find_act(s, act_id))
    assert summary.levels["box"].credited == 1  # dock-2's box stays counted
    assert summary.levels["pallet"].credited == 0
    _assert_counters_match_rows(db, act_id)
    assert _scan(db, act_id, "#WH:UNDO").outcome.reason == Reason.NOTHING_TO_UNDO
    assert _scan(db, act_id, f.codes["box"][0]).credited == 10  # counted again, the pallet whole again
    _assert_counters_match_rows(db, act_id)


def test_undo_uncounts_every_aggregate_above_the_undone_scan(db: Database, tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=2, blocks=1, packs=1)
    act_id = _import(db, tmp_path, f)
    assert _scan(db, act_id, f.codes["block"][0]).credited == 3  # the block, its pack, and box 1 now whole
    other = receiving.record_scan(db, act_id, ScanInput(raw=f.codes["box"][1], station="dock-2"))
    assert other.credited == 4  # box 2, its block and pack, and the pallet now whole
    undo = _scan(db, act_id, "#WH:UNDO")
    # Box 1 is no longer whole, so neither is the pallet, though dock-2's scan completed it.
    assert undo.credited == -4
    credited = receiving.act_summary(db, act_id).to_json()["credited"]
    assert credited == {"pallet": 0, "box": 1, "block": 1, "pack": 1}
    _assert_counters_match_rows(db, act_id)
    assert _scan(db, act_id, f.codes["block"][0]).credited == 4  # box 1 and the pallet whole again


def test_command_codes_switch_mode_open_a_box_and_close(db: Database, tmp_path: Path) -> None:
    f = ActFactory(boxes=3)
    act_id = _import(db, tmp_path, f)
    opened = _scan(db, act_id, "#WH:OPEN")
    assert opened.scan_class == ScanClass.COMMAND and opened.outcome.reason == Reason.OPEN_NEXT
    box = _scan(db, act_id, f.codes["box"][0])
    assert box.outcome.reason == Reason.OPENED and box.credited == 0  # opened, not counted whole
    assert _scan(db, act_id, f.codes["box"][1]).credited == 9  # only the next one
    # typed under a Russian layout (# is № on Shift+3): still the command
    switched = _scan(db, act_id, "№ЦРЖАГДД_СРУСЛ")
    assert switched.outcome.reason == Reason.MODE_FULL_CHECK
    with db.read() as s:
        assert receiving.find_act(s, act_id).mode == Mode.FULL_CHECK
    assert _scan(db, act_id, f.codes["box"][2]).outcome.reason == Reason.OPENED
    assert _scan(db, act_id, "#WH:TRUSTED").outcome.reason == Reason.MODE_TRUSTED
    closing = _scan(db, act_id, "#WH:CLOSE")
    assert closing.outcome.reason == Reason.CLOSING
    with db.read() as s:
        assert receiving.find_act(s, act_id).status == "closed"
    with pytest.raises(receiving.ReceivingError):
        _scan(db, act_id, f.codes["box"][2])


def test_an_unreadable_code_is_explained_in_the_readers_language(db: Database, tmp_path: Path) -> None:
    act_id = _import(db, tmp_path, ActFactory())
    result = _scan(db, act_id, "04870000010011Ab")  # a pack read cut short
    assert result.scan_class == ScanClass.INVALID
    texts = {lang: result.message(lang) for lang in ("ru", "kk", "en")}
    assert len(set(texts.values())) == 3, texts
    assert "Scan it again" not in texts["ru"] and "Scan it again" not in texts["kk"], texts
    with db.read() as s:  # the journal re-tells it in the reader's language too, not in the writer's
        row = s.execute(select(Scan).where(Scan.id == result.scan_id)).scalar_one()
    assert receiving.result_of(row).message("kk") == texts["kk"]


def test_a_custom_aggregate_code_nobody_declared_is_unknown_not_surplus(db: Database, tmp_path: Path) -> None:
    """Issue 17, item 1: the parser's catch-all is a code only if the act, another open act or the stock
    knows it; otherwise it is a read to scan again (invalid, the error buzz), never a surplus to resolve."""
    custom = "KZ-PAL-2026-000123-XYZ"
    declared = ActFactory(number="ТА-2")
    act_id = _import(db, tmp_path, ActFactory(number="ТА-1"))
    result = _scan(db, act_id, custom)
    assert (result.scan_class, result.outcome.reason, result.credited) == (ScanClass.INVALID, Reason.UNKNOWN_CODE, 0)
    assert "Scan it again" in result.message("en")
    sscc = sscc_code(999)  # an SSCC the act does not list stays surplus: its check digit says it was read right
    assert _scan(db, act_id, sscc).scan_class == ScanClass.SURPLUS

    # Declared by another open act: foreign, as any code of it.
    doc = declared.build()
    doc["products"][0]["code"] = custom
    (tmp_path / "other.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    importing.import_act(db, tmp_path / "other.json")
    assert _scan(db, act_id, custom).scan_class == ScanClass.FOREIGN
    _assert_counters_match_rows(db, act_id)


def test_stop_mode_holds_the_station_until_the_error_is_confirmed(db: Database, tmp_path: Path) -> None:
    """Issue 16: in a station's stop mode a scan that needs attention holds that device's next scans —
    journaled as held, counting nothing, to be scanned again — until CONFIRM; UNDO still works, another
    station scans on."""
    f = ActFactory(pallets=1, boxes=1, blocks=1, packs=3)
    act_id = _import(db, tmp_path, f)

    def scan(raw: str, station: str = "dock-1") -> receiving.ScanResult:
        return receiving.record_scan(db, act_id, ScanInput(raw=raw, source="cli", station=station, stop_on_error=True))

    assert scan(f.codes["pack"][0]).scan_class == ScanClass.MATCHED  # nothing to confirm: no stop
    surplus = pack(gtin(1001), 424_242)
    assert scan(surplus).scan_class == ScanClass.SURPLUS
    held = scan(f.codes["pack"][1])
    assert (held.scan_class, held.outcome.reason, held.credited) == (ScanClass.HELD, Reason.HELD, 0)
    assert surplus in held.message("en") and "again" in held.message("en")
    assert scan(f.codes["pack"][2]).outcome.args == {"code": surplus}  # still held, for the same error
    assert scan(f.codes["pack"][1], station="dock-2").scan_class == ScanClass.MATCHED  # another station goes on
    confirmed = scan("#WH:CONFIRM")
    assert (confirmed.scan_class, confirmed.outcome.reason) == (ScanClass.COMMAND, Reason.CONFIRMED)
    assert scan(f.codes["pack"][2]).scan_class == ScanClass.MATCHED  # held before, counted now: not a duplicate
    # Without stop mode the same error stops nothing.
    assert _scan(db, act_id, surplus).scan_class == ScanClass.DUPLICATE
    assert _scan(db, act_id, f.codes["pack"][0]).scan_class == ScanClass.DUPLICATE
    _assert_counters_match_rows(db, act_id)
