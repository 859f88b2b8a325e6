"""The in-process event broker: a committed scan reaches every open screen of its act.

Subscribers are SSE streams, each with its own bounded queue; a slow screen loses old events (it then
reloads its counters) rather than slowing the scan path. Events carry ids only: each stream renders
them in its own viewer's language.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    act_id: int
    kind: str  # "scan" | "status"
    ref: int  # scan id, or 0


class Broker:
    def __init__(self, maxsize: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, set[queue.Queue[Event]]] = {}
        self._maxsize = maxsize

    def subscribe(self, act_id: int) -> queue.Queue[Event]:
        q: queue.Queue[Event] = queue.Queue(self._maxsize)
        with self._lock:
            self._subscribers.setdefault(act_id, set()).add(q)
        return q

    def unsubscribe(self, act_id: int, q: queue.Queue[Event]) -> None:
        with self._lock:
            subs = self._subscribers.get(act_id)
            if subs is not None:
                subs.discard(q)
                if not subs:
                    del self._subscribers[act_id]

    def publish(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(event.act_id, ()))
        for q in targets:
            # a screen that is not keeping up drops events; it re-reads the journal from its last row on the next one
            with contextlib.suppress(queue.Full):
                q.put_nowait(event)

    def subscribers(self, act_id: int) -> int:
        with self._lock:
            return len(self._subscribers.get(act_id, ()))


broker = Broker()


CHANNEL = "warehouse_events"


def payload(event: Event) -> str:
    return f"{event.act_id}:{event.kind}:{event.ref}"


def parse_payload(text: str) -> Event | None:
    try:
        act, kind, ref = text.split(":")
        return Event(int(act), kind, int(ref))
    except ValueError:
        return None


class PgRelay:
    """With PostgreSQL, every station's process hears every commit through LISTEN/NOTIFY.

    The scan's transaction itself sends the NOTIFY, so PostgreSQL delivers it only if the scan commits,
    to every listening process (this one included): one path for local and remote scans alike.
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
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    if not url.drivername.startswith("postgresql"):
        return
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _relays_lock:
        if conninfo not in _relays:
            _relays[conninfo] = PgRelay(conninfo, broker)
