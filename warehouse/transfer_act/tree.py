"""Whole-tree checks of an act in memory: the reference for the import service's SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from warehouse.transfer_act.data import RANK
from warehouse.transfer_act.problems import Problem, ProblemList, Reason, show
from warehouse.vocab import Level

TreeRow = tuple[str, str | None, Level] | tuple[str, str | None, Level, str]


def check_tree(lines: Iterable[TreeRow]) -> list[Problem]:
    """Whole-file checks over (identity, parent identity or None, level[, location]) rows, in memory.

    Reports: a code given twice (duplicate_code, at the later one); a parent that is not in the file
    (unknown_parent); a child whose level is not below its parent's (level_order); codes that contain
    each other in a loop (cycle, once per loop); and a child more than one level below its parent when
    the file has the level in between (level_skipped: a pack straight on a pallet when the file has
    boxes or blocks, a pack in a box when it has blocks, a block on a pallet when it has boxes).
    The location is the row's fourth element, or the identity when there is none.
    """
    problems = ProblemList()
    nodes: dict[str, tuple[str | None, Level, str]] = {}
    rows: list[tuple[str, str | None, Level, str]] = []
    levels: set[Level] = set()
    for row in lines:
        identity, parent, level = row[0], row[1], row[2]
        location = row[3] if len(row) == 4 else identity
        rows.append((identity, parent, level, location))
        levels.add(level)
        if identity in nodes:
            problems.add(Problem(location, Reason.DUPLICATE_CODE, identity))
        else:
            nodes[identity] = (parent, level, location)
    ranks = {RANK[level] for level in levels}
    for identity, parent, level, location in rows:
        if parent is None:
            continue
        found = nodes.get(parent)
        if found is None:
            problems.add(Problem(location, Reason.UNKNOWN_PARENT, parent))
            continue
        parent_level = found[1]
        if RANK[parent_level] <= RANK[level]:
            if parent != identity:  # a code inside itself is a loop, reported below
                problems.add(Problem(location, Reason.LEVEL_ORDER, f"{level.value} in {parent_level.value}"))
        elif any(r in ranks for r in range(RANK[level] + 1, RANK[parent_level])):
            problems.add(Problem(location, Reason.LEVEL_SKIPPED, f"{level.value} in {parent_level.value} {parent}"))
    problems.extend(_cycles(nodes))
    return problems.as_list()


def _cycles(nodes: Mapping[str, tuple[str | None, Level, str]]) -> Iterator[Problem]:
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    for start in nodes:
        if start in state:
            continue
        walk: list[str] = []
        node: str | None = start
        while node is not None and node in nodes and node not in state:
            state[node] = 1
            walk.append(node)
            node = nodes[node][0]
        if node is not None and state.get(node) == 1:  # came back onto this walk: a loop
            loop = walk[walk.index(node) :]
            shown = " → ".join(show(code, 40) for code in loop[:5]) + (" → …" if len(loop) > 5 else "")
            yield Problem(nodes[node][2], Reason.CYCLE, f"{shown} → {show(node, 40)}")
        for visited in walk:
            state[visited] = 2
