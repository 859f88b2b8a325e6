"""What the evdev and serial readers share: a thread, a state, a sink that must never kill the reader."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from hardware.decoder import Decoded
from hardware.scan import ReaderState, Scan, ScanSink, Source

log = logging.getLogger("hardware")

StateCallback = Callable[[str, ReaderState, str | None], None]
"""Called with (device key, new state, error) whenever a reader's state changes, from the reader's thread."""


class ThreadedReader(ABC):
    """A reader whose device is read in one daemon thread; subclasses implement `_run` and `_interrupt`.

    Threads rather than asyncio: the station's web server runs Flask in threads, the sink ends in a
    blocking database transaction, and evdev's and pyserial's blocking reads are simplest in a thread.
    """

    source: ClassVar[Source]

    def __init__(self, device: str, sink: ScanSink, *, on_state: StateCallback | None = None) -> None:
        self._device = device
        self._sink = sink
        self._on_state = on_state
        self._state = ReaderState.STOPPED
        self._error: str | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.scans = 0  # emitted so far, for the status screen

    @property
    def device(self) -> str:
        return self._device

    @property
    def state(self) -> ReaderState:
        return self._state

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def alive(self) -> bool:
        """Whether the reading thread still runs (an evdev reader ends when its device is unplugged)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start reading in a background thread; a second call while running does nothing."""
        if self.alive:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._main, name=f"scanner {self._device}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and release the device. A scan in progress is emitted incomplete."""
        self._stopping.set()
        self._interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("scanner %s: reader thread did not stop within %.1f s", self._device, timeout)

    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug must not pass silently, nor take the station down
            log.exception("scanner %s: reader crashed", self._device)
            self._set_state(ReaderState.FAILED, f"reader crashed: {exc}")
        finally:
            if self._stopping.is_set() and self._state is ReaderState.RUNNING:
                self._set_state(ReaderState.STOPPED)

    @abstractmethod
    def _run(self) -> None:
        """Read until `_stopping` is set or the device is gone; emit through `_emit`."""

    @abstractmethod
    def _interrupt(self) -> None:
        """Wake `_run` out of a blocking wait so it notices `_stopping`."""

    def _emit(self, decoded: Decoded | None) -> None:
        if decoded is None:
            return
        scan = decoded.to_scan(self._device, self.source, datetime.now(UTC))
        self.scans += 1
        self._deliver(scan)

    def _deliver(self, scan: Scan) -> None:
        try:
            self._sink(scan)
        except Exception:  # the sink's failure is the sink's to report; the reader keeps reading
            log.exception("scanner %s: the scan sink failed on %r", self._device, scan.text)

    def _set_state(self, state: ReaderState, error: str | None = None) -> None:
        if state is self._state and error == self._error:
            return
        self._state = state
        self._error = error
        if error:
            log.warning("scanner %s: %s (%s)", self._device, state.value, error)
        else:
            log.info("scanner %s: %s", self._device, state.value)
        if self._on_state is not None:
            try:
                self._on_state(self._device, state, error)
            except Exception:
                log.exception("scanner %s: state callback failed", self._device)
