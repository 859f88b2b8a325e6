"""Read one serial or USB-COM (CDC ACM) scanner with pyserial.

Open the port by its stable path (`/dev/serial/by-id/usb-…`, which survives re-plugging into another USB
socket, unlike /dev/ttyACM0). When the port vanishes the scan in progress is emitted incomplete and the
reader retries every `retry_interval` seconds until the port is back: serial hot-plug needs no manager.
"""

from __future__ import annotations

import contextlib
import errno
import time
from collections.abc import Iterable

import serial

from hardware.base import StateCallback, ThreadedReader
from hardware.scan import ReaderState, ScanSink
from hardware.serial_decoder import DEFAULT_TERMINATORS, SerialDecoder

_POLL_S = 0.05  # read timeout: how often the thread looks at the stop flag and the inter-byte timeout


class SerialReader(ThreadedReader):
    """Reads `port` in a thread; scans are attributed to `serial:<port>` unless `device_key` is given."""

    source = "serial"

    def __init__(
        self,
        port: str,
        sink: ScanSink,
        *,
        baudrate: int = 9600,
        terminators: Iterable[bytes] = DEFAULT_TERMINATORS,
        timeout_ms: float | None = 100.0,
        retry_interval: float = 1.0,
        device_key: str | None = None,
        exclusive: bool = True,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(device_key or f"serial:{port}", sink, on_state=on_state)
        self.port = port
        self.baudrate = baudrate
        self._terminators = tuple(terminators)
        self._timeout_ms = timeout_ms
        SerialDecoder(self._terminators, timeout_ms)  # refuse a bad configuration now, not in the thread
        self._retry = retry_interval
        self._exclusive = exclusive  # flock: a second program (ModemManager, a second station) is refused
        self._serial: serial.Serial | None = None
        self.reconnects = 0

    def _interrupt(self) -> None:
        port = self._serial
        if port is not None:
            with contextlib.suppress(OSError, AttributeError, TypeError):  # closing at the same moment
                port.cancel_read()

    def _run(self) -> None:
        decoder = SerialDecoder(self._terminators, self._timeout_ms)
        connected_before = False
        while not self._stopping.is_set():
            try:
                port = serial.Serial(port=self.port, baudrate=self.baudrate, timeout=_POLL_S, exclusive=self._exclusive)
            except (serial.SerialException, OSError) as exc:
                denied = getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM)
                if denied:
                    self._set_state(
                        ReaderState.FAILED,
                        f"no permission to open {self.port} (see deploy/99-warehouse-scanners.rules)",
                    )
                else:
                    self._set_state(ReaderState.UNPLUGGED, f"waiting for {self.port}: {exc}")
                self._stopping.wait(self._retry)
                continue
            if connected_before:
                self.reconnects += 1
            connected_before = True
            self._serial = port
            self._set_state(ReaderState.RUNNING)
            try:
                self._read(port, decoder)
            except (serial.SerialException, OSError) as exc:
                self._emit(decoder.finish())
                self._set_state(ReaderState.UNPLUGGED, f"port gone: {exc}")
            finally:
                self._serial = None
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
            if not self._stopping.is_set():
                self._stopping.wait(self._retry)
        self._emit(decoder.finish())  # stopped mid-scan: journaled as incomplete

    def _read(self, port: serial.Serial, decoder: SerialDecoder) -> None:
        timeout_s = None if self._timeout_ms is None else self._timeout_ms / 1000
        last = time.monotonic()
        while not self._stopping.is_set():
            data = port.read(port.in_waiting or 1)
            now = time.monotonic()
            if data:
                last = now
                for decoded in decoder.feed(data, time.time_ns() // 1000):
                    self._emit(decoded)
            elif timeout_s is not None and decoder.pending and now - last >= timeout_s:
                self._emit(decoder.expire())
