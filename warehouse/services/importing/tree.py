"""The checks that need the whole file (unknown parents, level order, skipped levels) and `number_tree`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from warehouse.services.importing.planner import _MAX_SKIPPED
from warehouse.services.importing.writer import _Loaded
from warehouse.transfer_act import Problem
from warehouse.vocab import Level


def _level_rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{level.value}' THEN {level.rank}" for level in Level)
    return f"CASE {column} {whens} ELSE {Level.PALLET.rank} END"  # anything else ranks as a pallet


def _check_tree(conn: Connection, act_id: int, loaded: _Loaded) -> list[Problem]:
    """What needs the whole file: unknown parents, levels in the wrong order, a packaging level skipped.

    Without parents named before they were declared, the load already saw every parent link and this is
    done in memory; otherwise the links are resolved and checked in SQL.
    """
    problems: list[Problem] = []
    if loaded.pending:
        conn.execute(
            text(
                "UPDATE act_codes SET parent_id = (SELECT p.id FROM import_pending ip JOIN act_codes p "
                "ON p.act_id = :a AND p.identity = ip.parent_identity WHERE ip.child_id = act_codes.id) "
                "WHERE id IN (SELECT child_id FROM import_pending)"
            ),
            {"a": act_id},
        )
        for location, parent in conn.execute(
            text(
                "SELECT ip.location, ip.parent_identity FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "
                "WHERE c.parent_id IS NULL ORDER BY ip.child_id LIMIT 1000"
            )
        ):
            problems.append(Problem(location, "unknown_parent", parent))
        # Ranks must fall from parent to child; this also rules out cycles (a cycle would need a rise).
        rank_p, rank_c = _level_rank_sql("p.level"), _level_rank_sql("c.level")  # constant SQL, no user input
        for location, child_level, parent_level in conn.execute(
            text(
                "SELECT ip.location, c.level, p.level FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "  # noqa: S608
                f"JOIN act_codes p ON p.id = c.parent_id WHERE {rank_p} <= {rank_c} ORDER BY ip.child_id LIMIT 1000"
            )
        ):
            problems.append(Problem(location, "level_order", f"{child_level} in {parent_level}"))
        conn.execute(text("DROP TABLE import_pending"))
    # A pack or block straight under a pallet, when the file has boxes, is a box that went missing from it.
    skips: list[tuple[str, tuple[str, ...]]] = []
    if Level.BOX in loaded.levels:
        skips.append((Level.PALLET, (Level.BLOCK, Level.PACK)))
    if Level.BLOCK in loaded.levels:
        skips.append((Level.BOX, (Level.PACK,)))
    for parent_level, child_levels in skips:
        if not loaded.pending:
            found = sorted(
                (item for child in child_levels for item in loaded.skipped[(parent_level, child)]),
                key=lambda item: item[0],
            )
            problems += [problem for _, problem in found[:_MAX_SKIPPED]]
            continue
        rows = conn.execute(
            text(
                "SELECT c.code, c.level, p.code FROM act_codes c JOIN act_codes p ON p.id = c.parent_id "
                "WHERE c.act_id = :a AND p.level = :pl AND c.level IN :cl ORDER BY c.id LIMIT 100"
            ).bindparams(_expanding("cl")),
            {"a": act_id, "pl": parent_level, "cl": list(child_levels)},
        )
        for code, level, parent_code in rows:
            problems.append(Problem(code, "level_skipped", f"{level} in {parent_level} {parent_code}"))
    return problems


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def number_tree(conn: Connection, act_id: int) -> None:
    """Give every code its preorder interval [pos, last] so a subtree is one index range.

    Works for files in any order: sizes bottom-up by level, then positions top-down, with window sums
    over siblings. `last` first holds the subtree size, then becomes pos + size.
    """
    p = {"a": act_id}
    conn.execute(text("UPDATE act_codes SET last = 0 WHERE act_id = :a"), p)
    for level in (Level.BLOCK, Level.BOX, Level.PALLET):  # bottom-up
        conn.execute(
            text(
                "UPDATE act_codes SET last = coalesce((SELECT sum(c.last + 1) FROM act_codes c "
                "WHERE c.parent_id = act_codes.id), 0) WHERE act_id = :a AND level = :l"
            ),
            {**p, "l": level},
        )
    conn.execute(
        text(
            "UPDATE act_codes SET pos = w.pos FROM (SELECT id, sum(last + 1) OVER (ORDER BY id) - (last + 1) AS pos "
            "FROM act_codes WHERE act_id = :a AND parent_id IS NULL) w WHERE act_codes.id = w.id"
        ),
        p,
    )
    for level in (Level.PALLET, Level.BOX, Level.BLOCK):  # top-down
        conn.execute(
            text(
                "UPDATE act_codes SET pos = w.pos FROM (SELECT c.id, p.pos + 1 + sum(c.last + 1) OVER "
                "(PARTITION BY c.parent_id ORDER BY c.id) - (c.last + 1) AS pos FROM act_codes c "
                "JOIN act_codes p ON p.id = c.parent_id WHERE c.act_id = :a AND p.level = :l) w "
                "WHERE act_codes.id = w.id"
            ),
            {**p, "l": level},
        )
    conn.execute(text("UPDATE act_codes SET last = pos + last WHERE act_id = :a"), p)
