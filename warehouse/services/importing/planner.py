"""The planner: the file's lines into act_codes rows, with every check that needs no database.

Pure (no SQLAlchemy): for a big file it runs in the reader process, beside the writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from warehouse import transfer_act
from warehouse.transfer_act import Problem
from warehouse.vocab import Level

CHUNK = 20_000

# One row of act_codes as the driver gets it: a list, so pos/last can still be set until it is written.
_COLUMNS = (
    "id",
    "act_id",
    "parent_id",
    "identity",
    "code",
    "level",
    "gtin",
    "name",
    "price",
    "vat",
    "declared_children",
    "credited_scan_id",
    "pos",
    "last",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_ID, _PARENT, _LEVEL, _POS, _LAST = 0, 2, 5, 12, 13
# Which children are a skipped packaging level under which parent (see _check_tree).
_SKIPS = {(Level.PALLET, Level.BLOCK), (Level.PALLET, Level.PACK), (Level.BOX, Level.PACK)}
# (parent, child level) where the child does not rank below its parent.
_WRONG_ORDER = {(p, c) for p in Level for c in Level if p.rank <= c.rank}
_MAX_SKIPPED = 100
_CODE_KEPT = frozenset({Level.PALLET, Level.BOX})  # only these can be the parent named by level_skipped


@dataclass
class _Chunk:
    """Rows ready for the driver, with what writing them needs besides."""

    rows: list[list[Any]]  # in _COLUMNS order; a row's id is the planner's base + the line's index
    locations: str  # the rows' locations, "\n"-joined: read only to name a duplicate
    late: list[tuple[int, int]]  # (last, id) of aggregates that were in an earlier chunk
    pending: list[tuple[int, str, str]]  # (child id, parent identity, location): parent not seen yet


@dataclass
class _Plan:
    """What the planner learnt from the whole file."""

    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    preorder: bool = True  # the file was in depth-first preorder: pos and last are set in the rows
    skipped: dict[tuple[str, str], list[tuple[int, Problem]]] = field(  # (parent, child level): first rows, by id
        default_factory=lambda: {pair: [] for pair in _SKIPS}
    )
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)  # codes per (level, gtin or "")


class _Planner:
    """Turns the file's lines into act_codes rows, deriving on the way all that needs no database.

    Parent links to parents already seen, levels in the wrong order, skipped packaging levels, counters,
    and, for a file in depth-first preorder (every JSON file; CSV and XLSX as our writers make them),
    the nested intervals [pos, last]: pos is the line's index, and `last` is known when the next line
    is not inside the aggregate. Pure: for a big file it runs in the reader process, beside the writer.
    """

    def __init__(self, act_id: int, base: int) -> None:
        self.act_id = act_id
        self.base = base
        self.plan = _Plan()

    def chunks(self, lines: Iterable[transfer_act.ActLine]) -> Iterator[_Chunk]:
        act_id, plan = self.act_id, self.plan
        level_text = {level: level.value for level in transfer_act.Level}  # Enum.value is a slow property
        problems, skipped, counters = plan.problems, plan.skipped, plan.counters
        new_id = self.base
        # Aggregates only (packs are never parents): identity -> (id, level, code of a pallet or box).
        parents: dict[str, tuple[int, str, str | None]] = {}
        # The open aggregates, outermost first, as (identity, row).
        open_rows: list[tuple[str, list[Any]]] = []
        preorder = True
        count = written = 0
        rows: list[list[Any]] = []
        locations: list[str] = []
        late: list[tuple[int, int]] = []
        pending: list[tuple[int, str, str]] = []

        def close(row: list[Any], last: int) -> None:
            if row[_POS] >= written:
                row[_LAST] = last
            else:
                late.append((last, row[_ID]))

        for line in lines:
            identity, level, parent_code = line.identity, level_text[line.level], line.parent_code
            if level != Level.PACK:
                parents.setdefault(identity, (new_id, level, line.code if level in _CODE_KEPT else None))
            parent_id = None
            if parent_code is not None:
                parent = parents.get(parent_code)
                if parent is None:
                    pending.append((new_id, parent_code, line.location))
                else:
                    parent_id = parent[0]
                    pair = (parent[1], level)
                    if pair in _WRONG_ORDER:
                        problems.append(Problem(line.location, "level_order", f"{level} in {parent[1]}"))
                    elif pair in _SKIPS and len(skipped[pair]) < _MAX_SKIPPED:
                        detail = f"{level} in {parent[1]} {parent[2]}"
                        skipped[pair].append((new_id, Problem(line.code, "level_skipped", detail)))
            gtin = line.gtin
            row = [
                new_id,
                act_id,
                parent_id,
                identity,
                line.code,
                level,
                gtin,
                line.name,
                line.price,
                line.vat,
                line.declared_children,
                None,
                count,
                count,
            ]
            if preorder:
                while open_rows and open_rows[-1][0] != parent_code:
                    close(open_rows.pop()[1], count - 1)
                if parent_code is not None and not open_rows:
                    preorder = False  # a parent that is not an open ancestor: number_tree will do it
                elif level != Level.PACK:
                    open_rows.append((identity, row))
            rows.append(row)
            locations.append(line.location)
            counters[(level, gtin or "")] += 1
            count += 1
            new_id += 1
            if len(rows) >= CHUNK:
                written = count
                yield _Chunk(rows, "\n".join(locations), late, pending)
                rows, locations, late, pending = [], [], [], []
        written = count
        while open_rows:
            close(open_rows.pop()[1], count - 1)
        if rows or late or pending:
            yield _Chunk(rows, "\n".join(locations), late, pending)
        plan.count, plan.preorder = count, preorder
