"""The pure rules of matching: commands, which rule applies, and outcomes told in each language."""

from __future__ import annotations

from warehouse.matching import Command, Outcome, Reason, command_of, duplicate_reason, opens
from warehouse.vocab import Mode, ScanClass


def test_a_sentence_that_names_a_level_agrees_with_it() -> None:
    def opened(level: str) -> Outcome:
        return Outcome(ScanClass.MATCHED, Reason.OPENED, {"level": level, "code": "X1"})

    assert opened("box").message("ru") == "Короб X1 вскрыт: сканируйте его содержимое"
    assert opened("pallet").message("ru") == "Паллета X1 вскрыта: сканируйте её содержимое"
    assert opened("pallet").message("kk") == "Паллета X1 ашылды: ішіндегісін сканерлеңіз"
    assert opened("box").message("en") == "Box X1 opened: scan its contents"


def test_a_credited_aggregate_tells_what_it_holds() -> None:
    whole = Outcome(ScanClass.MATCHED, Reason.CREDITED, {"level": "box", "code": "B1", "inside": "8"})
    alone = Outcome(ScanClass.MATCHED, Reason.CREDITED, {"level": "pack", "code": "P1", "inside": "0"})
    assert whole.message("ru") == "Засчитано: короб B1 (с содержимым: 8)"
    assert whole.message("en") == "Counted: box B1 (with 8 inside)"
    assert alone.message("kk") == "Есепке алынды: қорап P1"
    # journaled with what it held level by level: "5 blocks and 50 packs", not "55 inside"
    held = Outcome(
        ScanClass.MATCHED,
        Reason.CREDITED,
        {"level": "box", "code": "B1", "inside": "55", "inside_block": "5", "inside_pack": "50"},
    )
    assert held.message("ru") == "Засчитано: короб B1 (внутри: блоков: 5, пачек: 50)"
    assert held.message("en") == "Counted: box B1 (inside: blocks: 5, packs: 50)"
    assert held.message("kk") == "Есепке алынды: жәшік B1 (ішінде: блоктар: 5, қораптар: 50)"


def test_an_unknown_language_reads_russian_and_a_missing_detail_reads_empty() -> None:
    undone = Outcome(ScanClass.REVERSED, Reason.UNDONE, {"code": "B1"})
    assert undone.message("de") == undone.message("ru") == "Отменено сканирование B1: снято со счёта "


def test_commands_are_read_under_any_keyboard_layout() -> None:
    assert command_of("#WH:CLOSE") is Command.CLOSE
    assert command_of("№ЦРЖГТВЩ") is Command.UNDO  # "#WH:UNDO" typed under the Russian layout
    assert command_of("#WH:NOPE") is None and command_of("0104870000010011") is None


def test_which_rule_applies() -> None:
    asked: list[bool] = []

    def requested() -> bool:
        asked.append(True)
        return True

    assert opens(Mode.FULL_CHECK, True, requested) and not asked  # full check needs no request
    assert opens(Mode.TRUSTED, True, requested) and asked == [True]
    assert not opens(Mode.FULL_CHECK, False, requested)  # a pack holds nothing to open
    assert duplicate_reason(same_code=True, inside=False) == Reason.ALREADY_SCANNED
    assert duplicate_reason(same_code=False, inside=True) == Reason.CONTENTS_SCANNED
    assert duplicate_reason(same_code=False, inside=False) == Reason.INSIDE_CREDITED
