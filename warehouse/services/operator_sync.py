"""One sync round with the operator, and the worker that runs rounds on a schedule inside `warehouse run`.

A round: fetch the shipments waiting for our acceptance (and import the new ones), look up what was sent
without an answer, send what is queued, poll the status of what the operator has. Each round is recorded
(`operator_syncs`): the last one is what `warehouse operator status` and the act pages tell. Offline, the
queue simply waits: a round that cannot reach the operator ends with its reason and nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from warehouse.db import Database
from warehouse.models import OperatorSync, User
from warehouse.operator import outbox as rules
from warehouse.operator.types import OperatorError
from warehouse.services import operator_incoming, operator_outbox, operator_session
from warehouse.services.operator_errors import OperatorServiceError, from_operator
from warehouse.services.operator_outbox import Touched
from warehouse.services.operator_session import OperatorSettings
from warehouse.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass
class Round:
    touched: list[Touched] = field(default_factory=list)
    imported: int = 0
    sent: int = 0
    polled: int = 0


def sync_round(
    db: Database, instance: Path, settings: OperatorSettings, *, force: bool = True, user: User | None = None
) -> Round:
    """One round (see the module). `force` sends what is queued at once, whatever its pause (a person asked);
    the worker waits each document's pause. Raises OperatorServiceError (recorded as the round's end)."""
    started = utcnow()
    with db.write() as s:
        row = OperatorSync(started_at=started, ok=False)
        s.add(row)
        s.flush()
        sync_id = row.id
    done = Round()
    try:
        adapter = operator_session.session_adapter(instance, settings, started)
        for fetched in operator_incoming.fetch_incoming(
            db, adapter, instance, window_days=settings.window_days, now=started, user=user
        ):
            done.imported += int(fetched.imported)
            state = "refused" if fetched.problem else ("imported" if fetched.imported else "linked")
            done.touched.append(
                Touched(
                    fetched.number,
                    "incoming",
                    state,
                    "shipment",
                    fetched.act_id,
                    (fetched.problem,) if fetched.problem else (),
                )
            )
        done.touched += operator_outbox.reconcile(db, adapter, force=force)
        sent = operator_outbox.send_due(db, adapter, force=force)
        done.sent = sum(1 for t in sent if t.state != "queued")
        done.touched += sent
        polled = operator_outbox.poll(db, adapter)
        done.polled = len(polled)
        done.touched += polled
    except OperatorError as e:
        error = from_operator(e)
        if error.reason == "session_expired":  # the operator no longer takes the token: the pages ask to log in
            operator_session.forget(instance)
        _finish(db, sync_id, done, error.reason, e.message or error.message("en"))
        raise error from e
    except OperatorServiceError as e:
        _finish(db, sync_id, done, e.reason, e.message("en"))
        raise
    _finish(db, sync_id, done, None, None)
    return done


def _finish(db: Database, sync_id: int, done: Round, error: str | None, message: str | None) -> None:
    with db.write() as s:
        row = s.get_one(OperatorSync, sync_id)
        row.finished_at = utcnow()
        row.ok = error is None
        row.imported, row.sent, row.polled = done.imported, done.sent, done.polled
        row.error, row.message = error, message


def last_sync(db: Database) -> OperatorSync | None:
    with db.read() as s:
        return s.execute(select(OperatorSync).order_by(OperatorSync.id.desc()).limit(1)).scalar()


class OperatorWorker:
    """Runs a round every `settings.sync_seconds`; after a round the operator failed it waits longer (the
    outbox's backoff); while no one has logged in to the operator it says so once and looks again each period."""

    def __init__(self, db: Database, instance: Path, settings: OperatorSettings) -> None:
        self.db = db
        self.instance = instance
        self.settings = settings
        self.failures = 0
        self.rounds = 0
        self.waiting_for_login = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Round | None:
        try:
            done = sync_round(self.db, self.instance, self.settings, force=False)
        except OperatorServiceError as e:
            if e.reason in ("login_needed", "session_expired"):  # nobody asked the operator: look again soon
                if not self.waiting_for_login:
                    log.info("operator sync: %s", e.message("en"))
                self.waiting_for_login = True
                return None
            self.failures += 1
            log.warning("operator sync: %s", e.message("en"))
            return None
        self.failures = 0
        self.waiting_for_login = False
        self.rounds += 1
        return done

    def pause(self) -> float:
        if self.failures == 0:
            return self.settings.sync_seconds
        return max(self.settings.sync_seconds, rules.backoff(self.failures).total_seconds())

    def start(self) -> OperatorWorker:
        self._thread = threading.Thread(target=self._loop, name="operator-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the schedule must outlive a bad moment (a locked table, a bad answer)
                self.failures += 1
                log.exception("operator sync")
            self._stop.wait(self.pause())


def start_worker(db: Database, config: dict[str, Any], instance: Path) -> OperatorWorker | None:
    """Start the schedule; None (and not a word) when no operator URL is configured."""
    settings = OperatorSettings.from_config(config)
    if not settings.url or settings.sync_seconds <= 0:
        return None
    return OperatorWorker(db, instance, settings).start()


@dataclass(frozen=True)
class Overview:
    """What the operator page and an act's page show of the exchange."""

    configured: bool
    session: str  # "none" | "expired" | "active"
    session_bin: str | None
    session_until: Any
    last: OperatorSync | None
    documents: list[Any]


def overview(db: Database, instance: Path, settings: OperatorSettings, act_id: int | None = None) -> Overview:
    kept = operator_session.stored(instance, settings.url) if settings.url else None
    state = "none"
    if kept is not None:
        state = "expired" if kept.expires_at - operator_session.EXPIRY_MARGIN <= utcnow() else "active"
    return Overview(
        configured=bool(settings.url),
        session=state,
        session_bin=kept.participant_bin if kept else None,
        session_until=kept.expires_at if kept else None,
        last=last_sync(db),
        documents=operator_outbox.documents(db, act_id),
    )
