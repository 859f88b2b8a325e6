"""Hand scans from the reader threads to one consumer thread.

A reader must never wait on the database: while it waits, the kernel's per-client event buffer fills and,
once full, the kernel drops events (SYN_DROPPED) — lost keystrokes, mangled codes. So readers only decode
and enqueue; one dispatcher thread calls the real sink, one scan at a time, in arrival order. That also
gives the receiving service a single writer for all scanners of the station.
"""

from __future__ import annotations

import logging
import queue
import threading

from hardware.scan import Scan, ScanSink

log = logging.getLogger("hardware")

_STOP = object()


class ScanDispatcher:
    """A `ScanSink` that queues scans and calls `sink` from its own thread.

    >>> seen = []
    >>> d = ScanDispatcher(seen.append); d.start()
    >>> d.close()   # waits until every queued scan was delivered
    """

    def __init__(self, sink: ScanSink, *, name: str = "scan dispatcher") -> None:
        self._sink = sink
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._closed = False

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def __call__(self, scan: Scan, /) -> None:
        if self._closed:  # after close nothing would deliver it: say so instead of losing it quietly
            log.error("scan dispatcher closed: scan from %s not delivered: %r", scan.device, scan.text)
            return
        self._queue.put(scan)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def backlog(self) -> int:
        """Scans waiting for the sink (approximate)."""
        return self._queue.qsize()

    def _main(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, Scan)
            try:
                self._sink(item)
            except Exception:
                log.exception("scan sink failed on a scan from %s: %r", item.device, item.text)
