"""The running station backs itself up: on a schedule, and soon after every signed decision, with rotation.

A signed confirmation or rejection is the one thing a dead disk must never take with it, so a decision
signed since the newest backup (any process: the web, `warehouse sign`) starts a backup at the next look
(every `poll` seconds, 30 by default). Between decisions a backup is made every `every` (an hour by
default). Each is `backup.backup` into the folder, checked, then the oldest beyond `keep` are removed.
Backups are named `warehouse-<UTC time>-<why>.sqlite3`, so their order is their names' order and nothing
but our own files is ever rotated away. PostgreSQL is backed up by the server's tools (docs/backup.md):
the schedule does not run there.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from warehouse.db import Database
from warehouse.models import SignedDocument
from warehouse.services.backup import PART_SUFFIX, BackupCheck, BackupError, backup
from warehouse.timeutil import utcnow

log = logging.getLogger(__name__)

STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^warehouse-(\d{8}T\d{6}Z)(?:-\d+)?-(scheduled|decision|start)\.sqlite3$")
RETRY_AFTER = timedelta(minutes=5)  # a failed backup (a full disk, a pulled USB drive) is tried again this soon


@dataclass(frozen=True)
class BackupPlan:
    folder: Path
    every: timedelta | None  # None: only after decisions
    keep: int
    after_decisions: bool = True

    @classmethod
    def from_config(cls, config: dict[str, Any], instance: Path) -> BackupPlan | None:
        """The plan `WAREHOUSE_BACKUP_*` asks for; None when backups are switched off (BACKUP_DIR=off)."""
        folder = str(config.get("BACKUP_DIR") or instance / "backups")
        if folder.lower() in ("off", "none", "0"):
            return None
        minutes = int(config.get("BACKUP_EVERY_MINUTES", 60))
        return cls(
            folder=Path(folder),
            every=timedelta(minutes=minutes) if minutes > 0 else None,
            keep=max(1, int(config.get("BACKUP_KEEP", 48))),
            after_decisions=bool(config.get("BACKUP_AFTER_DECISION", True)),
        )


@dataclass(frozen=True)
class Made:
    check: BackupCheck
    why: str
    removed: tuple[Path, ...]


def backups_in(folder: Path) -> list[tuple[datetime, Path]]:
    """The schedule's backups in `folder`, oldest first (other files are not ours and never touched)."""
    found = []
    for path in folder.glob("warehouse-*.sqlite3") if folder.is_dir() else ():
        m = _NAME.match(path.name)
        if m:
            found.append((datetime.strptime(m.group(1), STAMP).replace(tzinfo=UTC), path))
    return sorted(found)


def rotate(folder: Path, keep: int) -> tuple[Path, ...]:
    """Remove the oldest of the schedule's backups beyond the newest `keep`, and half-written leftovers."""
    removed = []
    for leftover in folder.glob(f"warehouse-*.sqlite3{PART_SUFFIX}") if folder.is_dir() else ():
        leftover.unlink(missing_ok=True)  # a backup killed half-way: never a backup
        removed.append(leftover)
    for _, path in backups_in(folder)[: -keep or None]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return tuple(removed)


def latest_decision(db: Database) -> tuple[int, datetime | None]:
    """The newest signed document (a signed decision, incoming or outgoing): its id (0: none) and time."""
    with db.read() as s:
        row = s.execute(
            select(SignedDocument.id, SignedDocument.created_at).order_by(SignedDocument.id.desc()).limit(1)
        ).first()
    return (int(row[0]), row[1]) if row else (0, None)


def back_up_now(db: Database, plan: BackupPlan, why: str, now: datetime | None = None) -> Made:
    """One backup into the plan's folder, then the rotation. Raises BackupError (nothing rotated then)."""
    now = now or utcnow()
    name = f"warehouse-{now.strftime(STAMP)}-{why}.sqlite3"
    out = plan.folder / name
    n = 1
    while out.exists():  # two in one second (a decision right after the hourly one): both kept
        out = plan.folder / f"warehouse-{now.strftime(STAMP)}-{n}-{why}.sqlite3"
        n += 1
    try:
        plan.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # a file in its place, a drive not mounted, no right to write
        raise BackupError("not_written", reason=exc.strerror or str(exc)) from exc
    made = backup(db, out)
    return Made(made, why, rotate(plan.folder, plan.keep))


class BackupScheduler:
    """Looks every `poll` seconds whether a backup is due (`due`), and makes it in its own thread."""

    def __init__(self, db: Database, plan: BackupPlan, *, poll: float = 30.0) -> None:
        self.db = db
        self.plan = plan
        self.poll = poll
        self.made: list[Made] = []  # what this process made, newest last (the station's log says the same)
        self.failures = 0
        self._decision_seen: int | None = None
        self._decision_now = 0
        self._last: datetime | None = None
        self._retry_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, now: datetime) -> str | None:
        """Why a backup is due now ("decision", "scheduled", "start"), None when none is."""
        if self._retry_at is not None and now < self._retry_at:
            return None
        decision, decided_at = latest_decision(self.db)
        self._decision_now = decision  # run_once records it as backed up: read before the copy is made
        if self._last is None:
            newest = backups_in(self.plan.folder)
            self._last = newest[-1][0] if newest else None
        if self._decision_seen is None:  # first look: is the newest decision in a backup already?
            if decided_at is not None and (self._last is None or decided_at > self._last):
                return "decision" if self.plan.after_decisions else "start"
            self._decision_seen = decision
        if self.plan.after_decisions and decision > (self._decision_seen or 0):
            return "decision"
        if self.plan.every is not None and (self._last is None or now - self._last >= self.plan.every):
            return "scheduled" if self._last is not None else "start"
        return None

    def run_once(self, now: datetime | None = None) -> Made | None:
        """Make the backup that is due, if any; a failure is logged and tried again after RETRY_AFTER."""
        now = now or utcnow()
        why = self.due(now)
        if why is None:
            return None
        decision = self._decision_now  # read before copying: a later one starts the next backup
        try:
            made = back_up_now(self.db, self.plan, why, now)
        except BackupError as e:
            self.failures += 1
            self._retry_at = now + RETRY_AFTER
            log.error("backup into %s failed: %s", self.plan.folder, e.message("en"))
            return None
        self._retry_at = None
        self._last = now
        self._decision_seen = decision
        self.made.append(made)
        log.info("backup %s (%s): %s scans, %s removed", made.check.path, why, made.check.scans, len(made.removed))
        return made

    def start(self) -> BackupScheduler:
        self._thread = threading.Thread(target=self._loop, name="backups", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the schedule must outlive a bad moment (a locked table, a vanished folder)
                log.exception("backup schedule")
            self._stop.wait(self.poll)


def start_backups(db: Database, config: dict[str, Any], instance: Path) -> BackupScheduler | None:
    """Start the station's backup schedule; None on PostgreSQL (its server's tools) or when switched off."""
    plan = BackupPlan.from_config(config, instance)
    if plan is None or not db.is_sqlite:
        if not db.is_sqlite:
            log.info("database on a server: back it up there (docs/backup.md); no station backups")
        return None
    return BackupScheduler(db, plan, poll=float(config.get("BACKUP_POLL_SECONDS", 30))).start()
