"""The scan sink that hands scanner scans to the receiving service: the one entry, `record_scan`.

Each scan is routed (scanner -> station -> open act, `hardware.routing`) and recorded with its raw events
as the journal row's evidence. A scan cut short (unplugged, reader stopped) or holding an input the decoder
could not read is journaled but can never credit: its text ends with, or holds, U+FFFD, which the code
parser refuses (not GS1 set 82) — the journal shows "not a marking code", the raw events show why.
Called from the dispatcher's single thread (`ScanDispatcher`): one writer for every scanner of the station.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError

from hardware.routing import Route, StationRouter, TrayReason
from hardware.scan import UNKNOWN, Scan
from warehouse.db import Database
from warehouse.services.receiving import ReceivingError, ScanInput, ScanResult, record_scan

log = logging.getLogger("hardware")

RETRY_DELAYS = (0.05, 0.25, 1.0)
"""Seconds between attempts when the database fails (locked past its busy timeout, connection lost). The
scan carries a client scan id, so an attempt whose commit went through is not counted twice."""


def scan_input(scan: Scan, route: Route) -> ScanInput:
    """The receiving service's input for a scanner scan, evidence included.

    >>> from datetime import UTC, datetime
    >>> cut = Scan("0104600", "serial:/dev/ttyACM0", "serial", None, b"0104600", 7, datetime.now(UTC), False)
    >>> scan_input(cut, Route(1, "dock-1", None, None)).raw
    '0104600\\ufffd'
    """
    # Marks the cut where it happened: a prefix of a block code can be a valid-looking shorter code, so a
    # cut scan must not reach the parser as it is.
    raw = scan.text if scan.complete else scan.text + UNKNOWN
    return ScanInput(raw=raw, source=scan.source, station=route.station, user_id=route.user_id,
                     scanner_id=route.scanner_id, client_scan_id=f"{scan.source}:{uuid.uuid4().hex}",
                     raw_events=scan.raw or None)


class ReceivingSink:
    """A `ScanSink` that records each scan into the act open at its scanner's station.

    `reload_bindings`, when given, is called before routing a scan, at most every `reload_interval` seconds:
    a scanner bound or re-bound by another process (`warehouse scanners bind`) is honoured within that.
    `on_result` sees every recorded scan (screens, the benchmark). Never raises: what cannot be recorded
    goes to the router's tray and to the log.
    """

    def __init__(self, db: Database, router: StationRouter, *, gs_substitutes: Sequence[str] | None = None,
                 reload_bindings: Callable[[], None] | None = None, reload_interval: float = 2.0,
                 on_result: Callable[[Scan, ScanResult], None] | None = None,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self._db = db
        self._router = router
        self._gs = tuple(gs_substitutes) if gs_substitutes else None
        self._reload = reload_bindings
        self._reload_interval = reload_interval
        self._reloaded = float("-inf")
        self._on_result = on_result
        self._delays = tuple(retry_delays)

    def __call__(self, scan: Scan, /) -> None:
        self._maybe_reload()
        route = self._router.route(scan.device)
        if not isinstance(route, Route):
            binding = self._router.binding_for(scan.device)
            self._router.to_tray(scan, route, station=binding.station if binding else None)
            log.warning("scanner %s: scan not recorded (%s): %r", scan.device, route.value, scan.text)
            return
        result = self._record(scan, route)
        if result is not None and self._on_result is not None:
            self._on_result(scan, result)

    def _record(self, scan: Scan, route: Route) -> ScanResult | None:
        entry = scan_input(scan, route)
        for attempt in range(len(self._delays) + 1):
            try:
                return record_scan(self._db, route.act_id, entry, gs_substitutes=self._gs)
            except ReceivingError as exc:
                if exc.reason in ("no_act", "act_not_open"):
                    self._router.close_act(route.station, route.act_id)  # stop sending its scans there
                self._router.to_tray(scan, TrayReason.REFUSED, station=route.station, detail=exc.message("en"))
                log.warning("scanner %s: act %s refused the scan (%s): %r", scan.device, route.act_id, exc.reason,
                            scan.text)
                return None
            except OperationalError as exc:  # locked past the busy timeout, connection lost: worth a retry
                if attempt == len(self._delays):
                    self._router.to_tray(scan, TrayReason.ERROR, station=route.station, detail=str(exc.orig))
                    log.error("scanner %s: database failed %d times, scan kept in the tray: %r", scan.device,
                              attempt + 1, scan.text)
                    return None
                log.warning("scanner %s: database failed (%s), retrying", scan.device, exc.orig)
                time.sleep(self._delays[attempt])
            except Exception as exc:  # a bug: the reader and the next scans must go on, this scan must show
                log.exception("scanner %s: recording the scan failed: %r", scan.device, scan.text)
                self._router.to_tray(scan, TrayReason.ERROR, station=route.station, detail=repr(exc))
                return None
        return None

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
