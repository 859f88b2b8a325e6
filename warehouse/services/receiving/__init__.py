"""Receiving: the scan journal, the act's counters, the end of receiving and the lead's decision.

Every source (scanner readers, the browser field, the handheld API, the CLI) enters at `record_scans`
(`record_scan` for one scan): journal row, match against the act (warehouse/matching.py names the
rules; `crediting` and `commands` hold the SQL that applies them), credit, counters, in one
transaction. Crediting is exact under concurrency: on SQLite the write transaction holds the database's
write lock (BEGIN IMMEDIATE); on PostgreSQL a row lock on the act (FOR NO KEY UPDATE) serialises the
scans of one act (scans of different acts run in parallel), and the UPDATE only takes rows still
uncredited, so a code is credited at most once whatever the interleaving. A retried scan with the same
client scan id returns the first result instead of counting again (unique constraint on `client_scan_id`);
the same id with another code, or on another act, is refused ("scan_id_reused"). The handheld API's batches
go through `record_batch`, which answers each item on its own.
"""

from __future__ import annotations

from warehouse.services.receiving.closing import DECISIONS, REASON_CODES, close_act, decide
from warehouse.services.receiving.errors import ReceivingError
from warehouse.services.receiving.journal import (
    Refused,
    ScanInput,
    ScanResult,
    record_batch,
    record_scan,
    record_scans,
    result_of,
    stopped_by,
)
from warehouse.services.receiving.summary import (
    OPEN_STATUSES,
    LevelCount,
    MissingGroup,
    Summary,
    act_summary,
    count_scans,
    find_act,
    missing,
    summary,
)
from warehouse.vocab import LEVELS

__all__ = [
    "DECISIONS",
    "LEVELS",
    "OPEN_STATUSES",
    "REASON_CODES",
    "LevelCount",
    "MissingGroup",
    "ReceivingError",
    "Refused",
    "ScanInput",
    "ScanResult",
    "Summary",
    "act_summary",
    "close_act",
    "count_scans",
    "decide",
    "find_act",
    "missing",
    "record_batch",
    "record_scan",
    "record_scans",
    "result_of",
    "stopped_by",
    "summary",
]
