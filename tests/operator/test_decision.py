"""The station's decision as the operator's AcceptanceDecision (warehouse/operator/decision.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse.operator.decision import Node, decide
from warehouse.operator.types import AcceptanceMode


def pallet(flags: dict[str, bool]) -> list[Node]:
    """P holds boxes B1, B2; each box two blocks; each block two packs. `flags` sets packs (default True)."""
    nodes = [Node("P", None, False)]
    for b in ("B1", "B2"):
        nodes.append(Node(b, "P", False))
        for k in ("k1", "k2"):
            block = f"{b}{k}"
            nodes.append(Node(block, b, False))
            for p in ("p1", "p2"):
                pack = f"{block}{p}"
                nodes.append(Node(pack, block, flags.get(pack, True)))
    return nodes


def test_everything_accepted_is_accept_all_and_lists_nothing() -> None:
    d = decide(pallet({}))
    assert (d.mode, d.accepted, d.rejected) == (AcceptanceMode.ACCEPT_ALL, frozenset(), frozenset())


def test_nothing_accepted_is_reject_all() -> None:
    packs = {n.code: False for n in pallet({}) if len(n.code) == 6}
    assert decide(pallet(packs)).mode is AcceptanceMode.REJECT_ALL


def test_a_split_aggregate_is_given_by_its_contents_down_to_where_they_are_whole() -> None:
    d = decide(pallet({"B1k1p2": False}))
    assert d.mode is AcceptanceMode.PARTIAL
    assert d.accepted == {"B2", "B1k2", "B1k1p1"}
    assert d.rejected == {"B1k1p2"}


def test_an_aggregate_with_no_contents_in_the_act_counts_by_its_own_flag() -> None:
    d = decide([Node("BOX", None, False), Node("OTHER", None, True)])
    assert (d.accepted, d.rejected) == ({"OTHER"}, {"BOX"})


def test_codes_out_of_preorder_are_refused() -> None:
    with pytest.raises(ValueError, match="preorder"):
        decide([Node("a", "A", True)])


@st.composite
def trees(draw: st.DrawFn) -> list[Node]:
    nodes: list[Node] = []
    counter = [0]

    def grow(parent: str | None, depth: int) -> None:
        counter[0] += 1
        code = f"c{counter[0]}"
        nodes.append(Node(code, parent, draw(st.booleans())))
        if depth < 3:
            for _ in range(draw(st.integers(0, 3))):
                grow(code, depth + 1)

    for _ in range(draw(st.integers(1, 3))):
        grow(None, 0)
    return nodes


@given(trees())
def test_every_code_without_contents_is_told_once_with_its_own_flag(nodes: list[Node]) -> None:
    d = decide(nodes)
    children: dict[str | None, list[str]] = {}
    flag = {}
    for n in nodes:
        children.setdefault(n.parent, []).append(n.code)
        flag[n.code] = n.accepted

    def leaves(code: str) -> list[str]:
        inside = children.get(code, [])
        return [code] if not inside else [leaf for c in inside for leaf in leaves(c)]

    if d.mode is AcceptanceMode.ACCEPT_ALL:
        assert all(flag[leaf] for top in children[None] for leaf in leaves(top))
        return
    if d.mode is AcceptanceMode.REJECT_ALL:
        assert not any(flag[leaf] for top in children[None] for leaf in leaves(top))
        return
    told: dict[str, bool] = {}
    for listed, ok in [*((c, True) for c in d.accepted), *((c, False) for c in d.rejected)]:
        for leaf in leaves(listed):
            assert leaf not in told
            told[leaf] = ok
    assert told == {leaf: flag[leaf] for top in children[None] for leaf in leaves(top)}
    assert not d.accepted & d.rejected
