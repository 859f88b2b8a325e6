"""The acceptance document: canonical bytes, the collapsed tree of accepted flags, the split at 30,000."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from warehouse.signing import acceptance
from warehouse.signing.acceptance import CodeLine, DecisionInfo, SignerRef, SurplusLine

ACT = acceptance.ActRef(
    "ТА-000123",
    date(2026, 11, 20),
    acceptance.Party("ТОО «Табак-Трейд» <опт>", "123456789021"),
    acceptance.Party('ТОО "Склад & Ко"', "987654321098"),
    (acceptance.BasisDoc("ESF", "ESF-1", "2026-11-19"),),
    "sale",
    "ab" * 32,
)
DECIDED = DecisionInfo(
    "accepted_with_discrepancies", "shortage", "коробка 2 не пришла", datetime(2026, 11, 21, 9, 30, tzinfo=UTC), "lead"
)
SIGNER = SignerRef("lead", "Лид Лидов")
AT = datetime(2026, 11, 21, 9, 41, 7, tzinfo=UTC)
GS = "\x1d"


def _tree(flags: dict[str, bool], notes: dict[str, tuple[str, str]] | None = None) -> list[CodeLine]:
    """pallet P > boxes B1, B2 > blocks K11, K12, K21, K22; flags by name (default accepted)."""
    notes = notes or {}
    shape = [
        ("P", None, "pallet"),
        ("B1", "P", "box"),
        ("K11", "B1", "block"),
        ("K12", "B1", "block"),
        ("B2", "P", "box"),
        ("K21", "B2", "block"),
        ("K22", "B2", "block"),
    ]
    ids = {name: i for i, (name, _p, _l) in enumerate(shape, start=1)}
    return [
        CodeLine(
            ids[n],
            ids[p] if p else None,
            f"{n}{GS}x" if n.startswith("K") else n,
            level,
            flags.get(n, True),
            *notes.get(n, (None, None)),
        )
        for n, p, level in shape
    ]


def _build(lines: list[CodeLine], surplus: list[SurplusLine] | None = None, **kw: Any) -> list[dict[str, Any]]:
    docs = acceptance.build(ACT, DECIDED, lines, surplus or [], SIGNER, AT, **kw)
    return [json.loads(d.content) for d in docs]


def test_bytes_are_canonical_utf8_json() -> None:
    [doc] = acceptance.build(ACT, DECIDED, _tree({}), [], SIGNER, AT)
    text = doc.content.decode("utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "ТОО «Табак-Трейд» <опт>" in text and "\\u" not in text.replace("\\u001d", "")
    assert doc.part == doc.parts == 1 and len(doc.sha256) == 64
    data = json.loads(text)
    assert data["format"] == "transfer-act-acceptance/1" and data["decided_at"] == "2026-11-21T09:30:00Z"
    assert data["act"]["receiver"] == {"name": 'ТОО "Склад & Ко"', "bin": "987654321098"}
    assert data["signer"] == {"user": "lead", "user_name": "Лид Лидов", "certificate": None}
    # deterministic: the NCALayer path rebuilds the document and must get the same bytes
    assert acceptance.build(ACT, DECIDED, _tree({}), [], SIGNER, AT)[0].content == doc.content


def test_fully_accepted_pallet_is_one_line() -> None:
    [doc] = _build(_tree({}))
    assert doc["products"] == [{"code": "P", "level": "pallet", "accepted": True}] and doc["codes"] == 1


def test_mixed_contents_are_listed_down_to_the_difference() -> None:
    [doc] = _build(_tree({"P": False, "B2": False, "K21": False, "K22": False}, {"B2": ("shortage", "не пришла")}))
    pallet = doc["products"][0]
    assert pallet["accepted"] is False and [c["code"] for c in pallet["children"]] == ["B1", "B2"]
    b1, b2 = pallet["children"]
    assert b1 == {"code": "B1", "level": "box", "accepted": True}
    assert b2 == {"code": "B2", "level": "box", "accepted": False, "reason": "shortage", "comment": "не пришла"}
    # one block missing inside a box: the box is listed with its blocks
    [doc] = _build(_tree({"P": False, "B1": False, "K12": False}))
    b1 = doc["products"][0]["children"][0]
    assert b1["accepted"] is False and [(c["code"], c["accepted"]) for c in b1["children"]] == [
        (f"K11{GS}x", True),
        (f"K12{GS}x", False),
    ]


def test_a_note_inside_keeps_its_line() -> None:
    [doc] = _build(_tree({}, {"K22": ("damage", "мятая пачка")}))
    k22 = doc["products"][0]["children"][1]["children"][1]
    assert k22["reason"] == "damage" and k22["accepted"] is True


def test_surplus_codes_are_listed() -> None:
    surplus = [
        SurplusLine("0104870000010017218f%&'()*", "block", "surplus", False),
        SurplusLine("00148700000000000019", "sscc", "foreign", True, "surplus", "взяли"),
    ]
    [doc] = _build(_tree({}), surplus)
    assert doc["surplus"][1] == {
        "code": "00148700000000000019",
        "kind": "sscc",
        "class": "foreign",
        "accepted": True,
        "reason": "surplus",
        "comment": "взяли",
    }
    assert doc["codes"] == 3


def test_rules_for_a_code() -> None:
    assert not acceptance.code_accepted("rejected", True, "accept")
    assert acceptance.code_accepted("accepted", False, None)
    assert acceptance.code_accepted("accepted_with_discrepancies", True, None)
    assert not acceptance.code_accepted("accepted_with_discrepancies", False, None)
    assert not acceptance.code_accepted("accepted_with_discrepancies", False, "reject")
    assert acceptance.code_accepted("accepted_with_discrepancies", False, "found_later")
    assert not acceptance.surplus_accepted("rejected", "accept") and acceptance.surplus_accepted("accepted", "accept")


def test_codes_out_of_preorder_are_refused() -> None:
    lines = _tree({})
    with pytest.raises(ValueError, match="preorder"):
        acceptance.build(ACT, DECIDED, [lines[0], lines[2], lines[1]], [], SIGNER, AT)


def _walk(nodes: list[dict[str, Any]], out: Counter[str], aggregates: Counter[str]) -> None:
    for node in nodes:
        if "children" in node:
            assert node["children"], f"{node['code']} listed without the contents it is listed for"
            aggregates[node["code"]] += 1
            _walk(node["children"], out, aggregates)
        else:
            out[node["code"]] += 1


def _big_act(boxes: int, blocks: int) -> list[CodeLine]:
    """One pallet of `boxes` boxes of `blocks` blocks; every other block refused, so nothing collapses."""
    lines = [CodeLine(1, None, "P", "pallet", False)]
    n = 1
    for b in range(boxes):
        n += 1
        box_id = n
        lines.append(CodeLine(box_id, 1, f"B{b}", "box", False))
        for k in range(blocks):
            n += 1
            lines.append(CodeLine(n, box_id, f"K{b}-{k}", "block", k % 2 == 0))
    return lines


def test_split_above_30000_codes_each_code_once() -> None:
    lines = _big_act(boxes=1_200, blocks=50)  # 61,201 codes, all listed
    surplus = [SurplusLine(f"S{i}", "pack", "surplus", False) for i in range(10)]
    docs = acceptance.build(ACT, DECIDED, lines, surplus, SIGNER, AT)
    assert [d.part for d in docs] == [1, 2, 3] and all(d.parts == 3 for d in docs)
    assert all(d.codes <= acceptance.MAX_CODES for d in docs)
    leaves: Counter[str] = Counter()
    aggregates: Counter[str] = Counter()
    listed_surplus = []
    for d in docs:
        data = json.loads(d.content)
        assert data["part"] == d.part and data["codes"] == d.codes and data["act"]["number"] == "ТА-000123"
        _walk(data["products"], leaves, aggregates)
        listed_surplus += [s["code"] for s in data["surplus"]]
    assert set(leaves) == {line.code for line in lines if line.level == "block"}
    assert set(leaves.values()) == {1}
    assert aggregates["P"] == 3 and max(aggregates.values()) == 3  # the pallet heads every part
    assert listed_surplus == [f"S{i}" for i in range(10)]


@pytest.mark.parametrize("limit", [8, 9, 13, 50])
def test_split_keeps_every_part_within_the_limit(limit: int) -> None:
    lines = _big_act(boxes=7, blocks=9)
    docs = acceptance.build(
        ACT, DECIDED, lines, [SurplusLine("S", "pack", "surplus", False)], SIGNER, AT, max_codes=limit
    )
    leaves: Counter[str] = Counter()
    aggregates: Counter[str] = Counter()
    for d in docs:
        assert d.codes <= limit
        data = json.loads(d.content)
        _walk(data["products"], leaves, aggregates)
    assert set(leaves.values()) == {1} and len(leaves) == 7 * 9


def test_codes_come_from_code_text_only_for_the_listed_lines() -> None:
    """A truck's document lists few of its million codes: lines may come without their text, which is
    then asked for once, for the listed codes only, and the bytes are the same as with the text given."""
    lines = _tree({"K12": False})  # box B1 and its blocks are listed; B2 stays one accepted line
    text = {line.id: line.code for line in lines}
    asked: list[list[int]] = []

    def code_text(ids: list[int]) -> dict[int, str]:
        asked.append(ids)
        return {i: str(text[i]) for i in ids}

    bare = [line._replace(code=None) for line in lines]
    [doc] = acceptance.build(ACT, DECIDED, bare, [], SIGNER, AT, code_text=code_text)
    [expected] = acceptance.build(ACT, DECIDED, lines, [], SIGNER, AT)
    assert doc.content == expected.content
    ids = {(line.code or "").split(GS)[0]: line.id for line in lines}
    assert asked == [[ids["P"], ids["B1"], ids["K11"], ids["K12"], ids["B2"]]]
    with pytest.raises(ValueError, match="code_text"):
        acceptance.build(ACT, DECIDED, bare, [], SIGNER, AT)
