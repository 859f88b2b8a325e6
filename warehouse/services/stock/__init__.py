"""The stock ledger: what the company owns, code by code, with the aggregation tree.

Codes enter from accepted incoming acts (`enter_accepted`, only what the decision accepted), leave with
signed outgoing acts (`services/shipping`) and come back when the receiver refuses them. Opening a
box or a pallet (`open_aggregate`) is an explicit step: afterwards the ledger holds its contents one by
one. Every movement is a row of the journal (`stock_moves`), written in the same transaction as the change,
and every operation leaves an audit entry.

Why a code can never be shipped twice, with any number of stations:
- one row per code identity (unique constraint), and one column saying which outgoing act holds it, so a
  code is on at most one act by construction;
- a row changes status only by compare-and-set (`UPDATE … WHERE status = 'in_stock'`) and the number of
  rows changed is checked against the number expected, all or nothing. On PostgreSQL the second of two
  concurrent transactions waits on the first one's row locks and then re-evaluates the WHERE clause on the
  committed row (READ COMMITTED), finds the row reserved and changes nothing, so it is refused. On SQLite
  write transactions are serialised (BEGIN IMMEDIATE), so the second one reads the first one's result.

The package: `ledger` (the tree, the journal of movements, opening an aggregate), `entry` (entering an
accepted incoming act), `reading` (totals, aggregates, one code's view), `errors` (StockError).
"""

from __future__ import annotations

from warehouse.services.stock.entry import EntryResult, accepted_code_ids, enter_accepted, enter_pending
from warehouse.services.stock.errors import StockError
from warehouse.services.stock.ledger import (
    AGGREGATE_LEVELS,
    HELD,
    OpenResult,
    act_number,
    count_subtree,
    identity_of,
    move,
    open_aggregate,
    subtree,
)
from warehouse.services.stock.reading import (
    AggregateRow,
    CodeView,
    GtinTotal,
    LevelCount,
    MoveRow,
    StockTotals,
    aggregates,
    find,
    held_identities_of,
    totals,
)

__all__ = [
    "AGGREGATE_LEVELS",
    "HELD",
    "AggregateRow",
    "CodeView",
    "EntryResult",
    "GtinTotal",
    "LevelCount",
    "MoveRow",
    "OpenResult",
    "StockError",
    "StockTotals",
    "accepted_code_ids",
    "act_number",
    "aggregates",
    "count_subtree",
    "enter_accepted",
    "enter_pending",
    "find",
    "held_identities_of",
    "identity_of",
    "move",
    "open_aggregate",
    "subtree",
    "totals",
]
