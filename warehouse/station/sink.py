"""The scan sink: the one hand-off between the scanner readers and the receiving and shipping services.

A reader must never wait on the database: while it waits, the kernel's per-client event buffer fills and,
once full, the kernel drops events (SYN_DROPPED) — lost keystrokes, mangled codes. So a reader calls the
sink, which only queues the scan and returns; one writer thread drains the queue in arrival order (per
device and across devices), routes each scan (scanner -> station -> open act, `warehouse.station.routing`)
and records it with its raw events as the journal row's evidence, and the moment the scanner sent its
terminator. It is the one writer for every scanner of the station.

Group commit: the writer records whatever gathered since its last commit in one transaction per act
(`record_scans`): four scanners sending at once pay for one BEGIN IMMEDIATE, one act check and one commit
(one fsync) instead of four. Each scan still has its own journal row and classification, in arrival order.
A lone scan goes through `record_scan`. The writer runs while there is something to write (and `IDLE_S`
after); `close()` writes what is queued and takes no more.

A scan cut short (unplugged, reader stopped) or holding an input the decoder could not read is journaled
but can never credit: its text ends with, or holds, U+FFFD, which the code parser refuses (not GS1 set
82) — the journal shows "not a marking code", the raw events show why.

Registration codes (`warehouse.station.routing.registration_token`) never reach the journal: the writer
binds the scanner that scanned one (`warehouse.station.bindings.bind_scanner`) in arrival order, so the
scans after it route by the new binding.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError

from hardware.scan import UNKNOWN, Scan
from warehouse.db import Database
from warehouse.models import Act
from warehouse.services import shipping
from warehouse.services.receiving import ReceivingError, ScanInput, ScanResult, record_scan, record_scans
from warehouse.services.receiving.stations import receive_at
from warehouse.services.shipping import ShippingError
from warehouse.station.bindings import BindingError, bind_scanner
from warehouse.station.registration import RegistrationError, registration_token
from warehouse.station.routing import Route, StationRouter, routed_act
from warehouse.station.tray import TrayReason
from warehouse.vocab import Direction

log = logging.getLogger("hardware")  # the scanners' one logger: docs/scanners.md tells operators to follow it

RETRY_DELAYS = (0.05, 0.25, 1.0)
"""Seconds between attempts when the database fails (locked past its busy timeout, connection lost), the
last one repeated until it is back: the writer holds the scans that failed and the next ones queue behind
them, in order (a station whose PostgreSQL went away loses none). The scan carries a client scan id, so an
attempt whose commit went through is not counted twice. Only a sink being closed gives up after these,
to the tray."""
IDLE_S = 0.5
"""Seconds the writer thread waits for the next scan before it ends: waking a waiting thread costs less than
starting one, and a short wait keeps what it adds to the end of the process short (it is not a daemon)."""
MAX_BATCH = 64
"""Scans in one transaction at most: a backlog (the database was locked a while) is written in steps."""


class _SplitBatch(Exception):
    """A batch failed for a reason that is not the act's nor the database's: record its scans one by one,
    so one bad scan does not take the others with it."""


def scan_input(scan: Scan, route: Route, *, stop_on_error: bool = False) -> ScanInput:
    """The receiving service's input for a scanner scan, evidence included; `stop_on_error`: the station's
    stop mode (a scanner stopped after an error has its scans journaled as held until it is confirmed).

    >>> from datetime import UTC, datetime
    >>> cut = Scan("0104600", "serial:/dev/ttyACM0", "serial", None, b"0104600", 7, datetime.now(UTC), False)
    >>> scan_input(cut, Route(1, "dock-1", None, None)).raw
    '0104600\\ufffd'
    """
    # Marks the cut where it happened: a prefix of a block code can be a valid-looking shorter code, so a
    # cut scan must not reach the parser as it is.
    raw = scan.text if scan.complete else scan.text + UNKNOWN
    return ScanInput(
        raw=raw,
        source=scan.source,
        station=route.station,
        user_id=route.user_id,
        scanner_id=route.scanner_id,
        client_scan_id=f"{scan.source}:{uuid.uuid4().hex}",
        raw_events=scan.raw or None,
        received_at=scan.received_at,
        stop_on_error=stop_on_error,
    )


class ReceivingSink:
    """A `hardware.scan.ScanSink` that records each scan into the act open at its scanner's station.

    Calling it only queues the scan: the writer thread records it. `reload_bindings`, when given, is
    called before routing, at most every `reload_interval` seconds: a scanner bound or re-bound by another
    process (`warehouse scanners bind`) is honoured within that. `on_result` sees every recorded scan after
    its commit (screens, the benchmark). Never raises: what cannot be recorded goes to the router's tray
    and to the log. `group_commit=False` records each scan in a transaction of its own (the benchmark's
    baseline). `flush()` waits until what was handed over is written; `close()` too, and then takes no more.
    `stop_on_error`: the station's stop mode (`WAREHOUSE_STOP_MODE`), for every scanner it routes.
    """

    def __init__(
        self,
        db: Database,
        router: StationRouter,
        *,
        gs_substitutes: Sequence[str] | None = None,
        reload_bindings: Callable[[], None] | None = None,
        reload_interval: float = 2.0,
        on_result: Callable[[Scan, ScanResult], None] | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        group_commit: bool = True,
        max_batch: int = MAX_BATCH,
        stop_on_error: bool = False,
    ) -> None:
        self._db = db
        self._stop_on_error = stop_on_error
        self._router = router
        self._directions: dict[int, bool] = {}  # act id -> outgoing
        self._gs = tuple(gs_substitutes) if gs_substitutes else None
        self._reload = reload_bindings
        self._reload_interval = reload_interval
        self._reloaded = float("-inf")
        self._on_result = on_result
        self._delays = tuple(retry_delays)
        self._max_batch = max(1, max_batch) if group_commit else 1
        self._cond = threading.Condition()
        self._pending: list[Scan] = []
        self._writer: threading.Thread | None = None
        self._idle = False  # the writer waits for scans, with nothing in hand
        self._closed = False
        self._lost_since: float | None = None  # see database_lost_since
        self._in_hand = 0  # scans the writer took and has not written yet (see `held`)

    def __call__(self, scan: Scan, /) -> None:
        """Queue the scan for the writer thread; returns at once (a reader's thread calls this)."""
        with self._cond:
            if self._closed:  # nothing would write it: say so instead of losing it quietly
                log.error("scan sink closed: scan from %s not recorded: %r", scan.device, scan.text)
                return
            self._pending.append(scan)
            if self._writer is not None:
                self._cond.notify_all()
                return
            # Not a daemon: the interpreter waits for it at exit, and it ends once all is written (+ IDLE_S).
            self._writer = threading.Thread(target=self._drain, name="scan writer")
            try:
                self._writer.start()
                return
            except RuntimeError:  # no thread to be had (resources exhausted): write here rather than not at all
                log.exception("scan sink: no writer thread; writing in the caller's thread")
                self._writer = None
                batch, self._pending = self._pending, []
        self._write(batch)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every scan handed over is written (or in the tray); False when `timeout` ran out."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and (self._writer is None or self._idle), timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Write what was handed over, then take no more scans (the station stops); False when `timeout`
        ran out first."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()  # a waiting writer ends now rather than after IDLE_S
        return self.flush(timeout)

    @property
    def backlog(self) -> int:
        """Scans handed over and not taken by the writer yet."""
        with self._cond:
            return len(self._pending)

    @property
    def held(self) -> int:
        """Scans handed over and not written yet: the queue and the batch the writer holds (while the
        database is gone, the scans that wait for it; the station's screens say how many)."""
        with self._cond:
            return len(self._pending) + self._in_hand

    def _drain(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._idle = True
                    self._cond.notify_all()  # flush() waits for this
                    self._cond.wait_for(lambda: bool(self._pending) or self._closed, IDLE_S)
                    self._idle = False
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._in_hand = len(batch)
                if not batch:
                    self._writer = None
                    self._cond.notify_all()
                    return
            try:
                self._write(batch)
            except Exception:  # _write reports its own failures; this is a bug, and the writer must go on
                log.exception("scan sink: %d scans not written", len(batch))
            finally:
                with self._cond:
                    self._in_hand = 0

    def _receive_here(self, scan: Scan) -> None:
        """A route code also moves the act to its scanner's station for the handhelds (`receive_at`)."""
        act_id = routed_act(scan.text)
        binding = self._router.binding_for(scan.device)
        if act_id is None or binding is None:
            return
        try:
            receive_at(self._db, act_id, binding.station)
        except DBAPIError:  # the scanners follow the route all the same; only the handhelds' rule lags
            log.exception("route code: act %s not moved to station %s", act_id, binding.station)

    def _write(self, batch: list[Scan]) -> None:
        """Route the scans in arrival order and record them, one transaction per run of scans to one act."""
        self._maybe_reload()
        runs: list[list[tuple[Scan, Route]]] = []
        for scan in batch:
            if self._router.take_route_code(scan):  # "feed this act", in arrival order: later scans go there
                self._receive_here(scan)
                continue
            token = registration_token(scan.text) if scan.creditable else None
            if token is not None:
                self._register(scan, token)
                continue
            route = self._router.route(scan.device)
            if not isinstance(route, Route):
                binding = self._router.binding_for(scan.device)
                self._router.to_tray(scan, route, station=binding.station if binding else None)
                log.warning("scanner %s: scan not recorded (%s): %r", scan.device, route.value, scan.text)
                continue
            if runs and runs[-1][0][1].act_id == route.act_id:
                runs[-1].append((scan, route))
            else:
                runs.append([(scan, route)])
        for run in runs:
            self._record_run(run)

    def _record_run(self, run: list[tuple[Scan, Route]]) -> None:
        if self._until_back(lambda: self._is_outgoing(run[0][1].act_id)):
            self._ship(run)
            return
        entries = [scan_input(scan, route, stop_on_error=self._stop_on_error) for scan, route in run]
        try:
            results = self._record(run, entries)
        except _SplitBatch:
            recorded: list[tuple[Scan, ScanResult]] = []
            for item, entry in zip(run, entries, strict=True):
                one = self._record([item], [entry])
                if one is not None:
                    recorded.append((item[0], one[0]))
            self._report(recorded)
            return
        if results is None:
            return
        done = len(results)
        self._report(list(zip((scan for scan, _ in run[:done]), results, strict=True)))
        if done < len(run):  # receiving ended (a CLOSE command) mid-batch: the rest meets a closed act
            self._record_run(run[done:])

    def _is_outgoing(self, act_id: int) -> bool:
        """An act's direction never changes: asked once per act, then remembered."""
        known = self._directions.get(act_id)
        if known is None:
            with self._db.read() as s:
                act = s.get(Act, act_id)
            known = act is not None and act.direction == Direction.OUTGOING
            self._directions[act_id] = known
        return known

    def _ship(self, run: list[tuple[Scan, Route]]) -> None:
        """A station building an outgoing act: each scan puts its code on the draft (a command code works it,
        e.g. takes the last code off), or is refused there."""
        for scan, route in run:
            try:
                added = shipping.scan(
                    self._db,
                    route.act_id,
                    scan.text,
                    station=route.station,
                    actor=f"scanner:{scan.device}",
                    gs_substitutes=self._gs,
                )
            except ShippingError as exc:
                self._router.close_act(route.station, route.act_id)
                self._router.to_tray(scan, TrayReason.REFUSED, station=route.station, detail=exc.message("en"))
                continue
            if not added.added:
                log.info("scanner %s: not put on act %s (%s): %r", scan.device, route.act_id, added.reason, scan.text)

    def _report(self, results: list[tuple[Scan, ScanResult]]) -> None:
        if self._on_result is None:
            return
        for scan, result in results:
            try:
                self._on_result(scan, result)
            except Exception:
                log.exception("scanner %s: on_result failed", scan.device)

    def _record(self, run: list[tuple[Scan, Route]], entries: list[ScanInput]) -> list[ScanResult] | None:
        """Record one act's scans in one transaction, with retries; None when they went to the tray.
        Raises _SplitBatch when several scans failed together for a reason worth trying one by one."""
        act_id, station = run[0][1].act_id, run[0][1].station
        attempt = 0
        while True:
            try:
                if len(entries) == 1:
                    done = [record_scan(self._db, act_id, entries[0], gs_substitutes=self._gs)]
                else:
                    done = record_scans(self._db, act_id, entries, gs_substitutes=self._gs)
                self._back()
                return done
            except ReceivingError as exc:
                if exc.reason in ("no_act", "act_not_open"):
                    self._router.close_act(station, act_id)  # stop sending its scans there
                for scan, route in run:
                    self._router.to_tray(scan, TrayReason.REFUSED, station=route.station, detail=exc.message("en"))
                    log.warning(
                        "scanner %s: act %s refused the scan (%s): %r", scan.device, act_id, exc.reason, scan.text
                    )
                return None
            except OperationalError as exc:  # locked past the busy timeout, connection lost: worth a retry
                if attempt >= len(self._delays) and self._closed:  # stopping: what cannot wait goes to the tray
                    for scan, route in run:
                        self._router.to_tray(scan, TrayReason.ERROR, station=route.station, detail=str(exc.orig))
                        log.error(
                            "scanner %s: database failed %d times, scan kept in the tray: %r",
                            scan.device,
                            attempt + 1,
                            scan.text,
                        )
                    return None
                self._lost(exc)
                time.sleep(self._delays[min(attempt, len(self._delays) - 1)] if self._delays else 0.0)
                attempt += 1
                continue
            except Exception as exc:  # a bug: the reader and the next scans must go on, this scan must show
                if len(run) > 1:
                    log.exception("act %s: recording %d scans together failed; one by one now", act_id, len(run))
                    raise _SplitBatch from exc
                scan, route = run[0]
                log.exception("scanner %s: recording the scan failed: %r", scan.device, scan.text)
                self._router.to_tray(scan, TrayReason.ERROR, station=route.station, detail=repr(exc))
                return None

    def _until_back(self, ask: Callable[[], bool]) -> bool:
        """`ask()`, asked again while the database is gone (the scans in hand wait; a closing sink stops)."""
        attempt = 0
        while True:
            try:
                answer = ask()
                self._back()
                return answer
            except OperationalError as exc:
                if attempt >= len(self._delays) and self._closed:
                    raise
                self._lost(exc)
                time.sleep(self._delays[min(attempt, len(self._delays) - 1)] if self._delays else 0.0)
                attempt += 1

    @property
    def database_lost_since(self) -> float | None:
        """When (time.time()) the writer last found the database gone, while it still is; None when it is up.
        The station's screens say so; the scanners' scans wait in order meanwhile."""
        return self._lost_since

    def _lost(self, exc: OperationalError) -> None:
        if self._lost_since is None:
            self._lost_since = time.time()
            log.error("database connection lost (%s): scans wait in order until it is back", exc.orig)
        else:
            log.warning("database still unreachable (%s); %d scans waiting", exc.orig, self.backlog)

    def _back(self) -> None:
        if self._lost_since is not None:
            log.warning("database back after %.1f s; the waiting scans are written", time.time() - self._lost_since)
            self._lost_since = None

    def _register(self, scan: Scan, token: str) -> None:
        """Bind the scanner that scanned a registration code; what binds nothing goes to the tray."""
        try:
            registration = self._router.redeem_registration(token, scan.device)
        except RegistrationError as exc:
            binding = self._router.binding_for(scan.device)
            self._router.to_tray(
                scan, TrayReason.REGISTRATION, station=binding.station if binding else None, detail=str(exc)
            )
            log.warning("scanner %s: registration code refused (%s)", scan.device, exc)
            return
        try:
            binding = bind_scanner(
                self._db,
                scan.device,
                registration.station,
                username=registration.username,
                name=registration.name,
                actor=registration.issued_by,
            )
        except Exception as exc:  # the scans after this one must still be written
            if isinstance(exc, BindingError):
                why = str(exc)
            elif isinstance(exc, DBAPIError):
                why = f"database: {exc.orig}"
            else:
                log.exception("scanner %s: binding failed", scan.device)
                why = repr(exc)
            self._router.complete_registration(registration.id, None, error=why)
            self._router.to_tray(scan, TrayReason.REGISTRATION, station=registration.station, detail=why)
            log.error("scanner %s: registration for %s failed: %s", scan.device, registration.station, why)
            return
        self._router.complete_registration(registration.id, binding)
        log.info(
            "scanner %s: registered at station %s%s by %s",
            scan.device,
            binding.station,
            f" for {registration.username}" if registration.username else "",
            registration.issued_by,
        )

    def _maybe_reload(self) -> None:
        if self._reload is None:
            return
        now = time.monotonic()
        if now - self._reloaded < self._reload_interval:
            return
        self._reloaded = now
        try:
            self._reload()
        except DBAPIError:  # the bindings in memory still route; the next scan tries again
            self._reloaded = float("-inf")
            log.exception("scanner bindings could not be reloaded")
