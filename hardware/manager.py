"""Run a reader for every scanner present, and follow hot-plug without a restart.

The manager polls discovery (every 0.5 s by default; sysfs reads only, so it is cheap) and reconciles:
a device that appeared gets a reader, a device that disappeared has its reader stopped, a reader that
ended (evdev device unplugged) or a device that could not be opened is retried after `retry_interval`.
A scanner plugged in is therefore read within poll_interval + open time (well under the 2 s target).
Discovery and the reader factory are injectable: tests add and remove pipe-backed devices.

Each reader calls the sink from its own thread, so the sink must return at once: a reader that waits
loses keystrokes once the kernel's event buffer fills. The application's sink only queues the scan and
writes it from its own thread (`warehouse.station.sink`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hardware.base import StateCallback
from hardware.config import ScannerConfig, SerialPortConfig
from hardware.discovery import DeviceInfo
from hardware.evdev_reader import open_evdev_reader
from hardware.scan import Reader, ReaderState, ScanSink
from hardware.serial_reader import SerialReader

log = logging.getLogger("hardware")

ReaderFactory = Callable[[DeviceInfo, ScanSink, StateCallback], Reader]
"""Opens a reader (not started) for a device; raises OSError when the device cannot be opened."""


@dataclass(frozen=True)
class ReaderStatus:
    device: str
    state: ReaderState
    error: str | None
    info: DeviceInfo | None


def default_reader_factory(config: ScannerConfig) -> ReaderFactory:
    """Readers as the configuration says: evdev devices through `InputDevice`, serial ports by path."""
    ports = {p.key: p for p in config.serial_ports}

    def make(info: DeviceInfo, sink: ScanSink, on_state: StateCallback) -> Reader:
        if info.kind == "serial":
            port = ports.get(info.key) or SerialPortConfig(path=info.path)
            return SerialReader(
                port.path,
                sink,
                baudrate=port.baudrate,
                terminators=port.terminators,
                timeout_ms=port.timeout_ms,
                device_key=info.key,
                on_state=on_state,
            )
        return open_evdev_reader(
            info.path, sink, device_key=info.key, config=config.decoder, grab=config.grab, on_state=on_state
        )

    return make


class ReaderManager:
    """Owns the readers of one station. Every reader hands its scans to `sink`, which must not block."""

    def __init__(
        self,
        sink: ScanSink,
        *,
        discover: Callable[[], Iterable[DeviceInfo]],
        reader_factory: ReaderFactory,
        poll_interval: float = 0.5,
        retry_interval: float = 1.0,
        on_state: StateCallback | None = None,
    ) -> None:
        self._sink = sink
        self._discover = discover
        self._factory = reader_factory
        self._poll_interval = poll_interval
        self._retry = retry_interval
        self._on_state = on_state
        self._lock = threading.RLock()
        self._readers: dict[str, Reader] = {}
        self._infos: dict[str, DeviceInfo] = {}
        self._ended: dict[str, float] = {}  # key -> when its reader was first seen ended
        self._failed: dict[str, tuple[float, str]] = {}  # key -> (when, why) opening failed
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open what is there now, then follow hot-plug in a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self.poll()
        self._thread = threading.Thread(target=self._main, name="scanner hot-plug", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every reader; a scan in progress is handed to the sink, incomplete, before this returns."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            for key in list(self._readers):
                self._remove(key)

    def poll(self) -> None:
        """One reconciliation of readers with the devices present (the background thread's step)."""
        try:
            available = {info.key: info for info in self._discover()}
        except Exception:  # a discovery hiccup must not end hot-plug for good
            log.exception("scanner discovery failed")
            return
        now = time.monotonic()
        with self._lock:
            for key in list(self._readers):
                if key not in available:
                    log.info("scanner %s: removed", key)
                    self._remove(key)
                elif not self._readers[key].alive:
                    ended = self._ended.setdefault(key, now)
                    if now - ended >= self._retry:
                        self._remove(key)  # it comes back below, on a fresh open
            for key in list(self._failed):
                if key not in available:
                    del self._failed[key]
            for key, info in available.items():
                if key in self._readers:
                    continue
                failed = self._failed.get(key)
                if failed is not None and now - failed[0] < self._retry:
                    continue
                self._open(info, now)

    def statuses(self) -> list[ReaderStatus]:
        """Every device the manager knows, with its reader's state (for the scanners screen and list)."""
        with self._lock:
            out = [ReaderStatus(key, r.state, r.error, self._infos.get(key)) for key, r in self._readers.items()]
            out += [
                ReaderStatus(key, ReaderState.FAILED, why, self._infos.get(key))
                for key, (_, why) in self._failed.items()
                if key not in self._readers
            ]
        return sorted(out, key=lambda s: s.device)

    def readers(self) -> dict[str, Reader]:
        with self._lock:
            return dict(self._readers)

    # -- internals --------------------------------------------------------------------------------

    def _main(self) -> None:
        while not self._stopping.wait(self._poll_interval):
            self.poll()

    def _open(self, info: DeviceInfo, now: float) -> None:
        try:
            reader = self._factory(info, self._sink, self._state_changed)
        except OSError as exc:
            why = f"cannot open {info.path}: {exc.strerror or exc}"
            if self._failed.get(info.key, (0.0, ""))[1] != why:
                log.warning("scanner %s: %s", info.key, why)
                self._notify(info.key, ReaderState.FAILED, why)
            self._failed[info.key] = (now, why)
            self._infos[info.key] = info
            return
        self._failed.pop(info.key, None)
        self._ended.pop(info.key, None)
        self._readers[info.key] = reader
        self._infos[info.key] = info
        log.info("scanner %s: reading %s", info.key, info.path)
        reader.start()

    def _remove(self, key: str) -> None:
        reader = self._readers.pop(key)
        self._ended.pop(key, None)
        self._infos.pop(key, None)
        reader.stop()
        self._notify(key, ReaderState.STOPPED, None)

    def _state_changed(self, key: str, state: ReaderState, error: str | None) -> None:
        self._notify(key, state, error)

    def _notify(self, key: str, state: ReaderState, error: str | None) -> None:
        if self._on_state is not None:
            try:
                self._on_state(key, state, error)
            except Exception:
                log.exception("scanner %s: state callback failed", key)
