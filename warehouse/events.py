"""Live screens hear of changes: `announce` in a service's transaction, a broker per process, SSE at the edge.

A stream is an act's screens (incoming or outgoing, by act id) or the stock page. Events carry ids only:
each SSE stream re-reads what changed and renders it in its own viewer's language, so an event is a hint
to re-read: a spurious one costs a render, a lost one a stale screen. Subscribers are the live screens' channels
(warehouse/web/live.py), each with its own bounded queue; a slow one loses events rather than slowing the
scan path.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

CHANNEL = "warehouse_events"
STOCK_STREAM = "-"  # the payload's stream field for the stock page


@dataclass(frozen=True)
class Event:
    act_id: int | None  # the act whose screens re-read; None: the stock page
    kind: str  # "scan" | "status" (incoming), "codes" (outgoing: codes, prices, documents), "stock"
    ref: int = 0  # scan id, or 0


STOCK_CHANGED = Event(None, "stock")


class Broker:
    def __init__(self, maxsize: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int | None, set[queue.Queue[Event]]] = {}
        self._maxsize = maxsize

    def subscribe(self, act_id: int | None, into: queue.Queue[Event] | None = None) -> queue.Queue[Event]:
        """A queue of the events of one act (None: of the stock page): `into`, or a new bounded one."""
        q: queue.Queue[Event] = into if into is not None else queue.Queue(self._maxsize)
        with self._lock:
            self._subscribers.setdefault(act_id, set()).add(q)
        return q

    def unsubscribe(self, act_id: int | None, q: queue.Queue[Event]) -> None:
        with self._lock:
            subs = self._subscribers.get(act_id)
            if subs is not None:
                subs.discard(q)
                if not subs:
                    del self._subscribers[act_id]

    def count(self, act_id: int | None) -> int:
        """How many queues hear the act's events (a live screen's channel is one, whatever its viewers)."""
        with self._lock:
            return len(self._subscribers.get(act_id, ()))

    def publish(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(event.act_id, ()))
        for q in targets:
            # a screen that is not keeping up drops events; it re-reads the journal from its last row on the next one
            with contextlib.suppress(queue.Full):
                q.put_nowait(event)


broker = Broker()

# pg_notify rather than NOTIFY: the channel and payload are bound parameters.
NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))
_PENDING = "warehouse.events"  # Session.info key: what SQLite sessions announce once they commit


def announce(s: Session, *events: Event) -> None:
    """Tell every open screen of these streams that what it shows changed, once `s` commits.

    On PostgreSQL the transaction itself sends a NOTIFY, which PostgreSQL delivers only on commit, to every
    listening process (this one included, through `PgRelay`). On SQLite only this process's screens can be
    told: the events wait in the session and reach the broker after the commit, and vanish on rollback.
    """
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        for e in events:
            conn.execute(NOTIFY, {"channel": CHANNEL, "payload": payload(e)})
    else:
        s.info.setdefault(_PENDING, []).extend(events)


@event.listens_for(Session, "after_commit")
def _publish_committed(s: Session) -> None:
    for e in s.info.pop(_PENDING, ()):
        broker.publish(e)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(s: Session) -> None:
    s.info.pop(_PENDING, None)


def payload(event: Event) -> str:
    stream = STOCK_STREAM if event.act_id is None else str(event.act_id)
    return f"{stream}:{event.kind}:{event.ref}"


def parse_payload(text: str) -> Event | None:
    """The event a NOTIFY payload carries (`payload`'s inverse); None for anything else.

    >>> parse_payload(payload(Event(7, "scan", 42))), parse_payload("-:stock:0"), parse_payload("x")
    (Event(act_id=7, kind='scan', ref=42), Event(act_id=None, kind='stock', ref=0), None)
    """
    try:
        stream, kind, ref = text.split(":")
        return Event(None if stream == STOCK_STREAM else int(stream), kind, int(ref))
    except ValueError:
        return None


class PgRelay:
    """With PostgreSQL, every station's process hears every commit through LISTEN/NOTIFY.

    A service's transaction itself sends the NOTIFY (`announce`), so PostgreSQL delivers it only if the
    change commits, to every listening process (this one included): one path for local and remote changes.
    """

    def __init__(self, conninfo: str, target: Broker) -> None:
        self.conninfo = conninfo
        self.target = target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            event = parse_payload(note.payload)
                            if event is not None:
                                self.target.publish(event)
            except Exception:  # the database restarted or the network dropped: listen again shortly
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()


_relays: dict[str, PgRelay] = {}
_relays_lock = threading.Lock()


def ensure_relay(sqlalchemy_url: str) -> None:
    """Start (once per database) the relay that feeds this process's broker from PostgreSQL."""
    url = make_url(sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        return
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _relays_lock:
        if conninfo not in _relays:
            _relays[conninfo] = PgRelay(conninfo, broker)
