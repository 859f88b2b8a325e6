"""How screens hear of a scan or a status change: never before the commit, so what they show is stored.

PostgreSQL: the transaction announces itself, NOTIFY being delivered at commit to every station's process.
SQLite: this process publishes to its own broker once the transaction has committed.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from warehouse.events import CHANNEL, Event, payload

NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))


def announce(s: Session, event: Event) -> None:
    """On PostgreSQL, NOTIFY `event` in the caller's transaction; on SQLite nothing (the caller publishes)."""
    if s.get_bind().dialect.name == "postgresql":
        s.connection().execute(NOTIFY, {"channel": CHANNEL, "payload": payload(event)})
