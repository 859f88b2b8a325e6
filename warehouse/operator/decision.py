"""The station's decision on an act as the operator's `AcceptanceDecision`, pure and streaming.

The station decides per code (warehouse.signing.acceptance.code_accepted, the rule the signed acceptance
document follows): a code without contents by its own flag, an aggregate exactly when everything inside it
is accepted. The operator wants the codes its shipment listed (the tops of the act's trees), each accepted
or rejected as a whole; a listed aggregate whose contents are split is given by its contents, down to where
they are whole again. Surplus codes are not the shipment's: they stay local (the discrepancy notice).

    >>> nodes = [Node("P", None, False), Node("B1", "P", True), Node("B2", "P", False), Node("X", None, True)]
    >>> d = decide(nodes)
    >>> d.mode.value, sorted(d.accepted), sorted(d.rejected)
    ('partial', ['B1', 'X'], ['B2'])
    >>> decide([Node("A", None, True), Node("a", "A", True)]).mode.value
    'accept_all'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from warehouse.operator.types import AcceptanceDecision, AcceptanceMode

__all__ = ["Node", "decide"]


class Node(NamedTuple):
    """One code of the act in preorder (a parent before its contents); `accepted` counts only for a code
    with nothing inside it in the act."""

    code: str
    parent: str | None
    accepted: bool


class _Open:
    __slots__ = ("all_ok", "code", "has_inside", "none_ok", "parts")

    def __init__(self, code: str, accepted: bool) -> None:
        self.code = code
        self.all_ok = accepted  # a code without contents: its own flag; an aggregate: of everything inside
        self.none_ok = not accepted
        self.has_inside = False
        self.parts: list[tuple[str, bool]] = []  # the closed contents, as they would be listed


def decide(nodes: Iterable[Node]) -> AcceptanceDecision:
    """The operator's decision for the act whose codes `nodes` gives in preorder."""
    stack: list[_Open] = []
    tops: list[tuple[str, bool]] = []

    def close() -> None:
        node = stack.pop()
        listed = [(node.code, node.all_ok)] if node.all_ok or node.none_ok else node.parts
        if not stack:
            tops.extend(listed)
            return
        parent = stack[-1]
        if not parent.has_inside:  # its own flag counts no more: its contents decide
            parent.has_inside, parent.all_ok, parent.none_ok = True, True, True
        parent.all_ok = parent.all_ok and node.all_ok
        parent.none_ok = parent.none_ok and node.none_ok
        parent.parts.extend(listed)

    for code, parent, accepted in nodes:
        while stack and stack[-1].code != parent:
            close()
        if parent is not None and not stack:
            raise ValueError(f"{code}: its parent {parent} is not open (the codes must come in preorder)")
        stack.append(_Open(code, accepted))
    while stack:
        close()
    accepted_codes = frozenset(c for c, ok in tops if ok)
    rejected_codes = frozenset(c for c, ok in tops if not ok)
    if not rejected_codes:
        return AcceptanceDecision(AcceptanceMode.ACCEPT_ALL)
    if not accepted_codes:
        return AcceptanceDecision(AcceptanceMode.REJECT_ALL)
    return AcceptanceDecision(AcceptanceMode.PARTIAL, accepted_codes, rejected_codes)
