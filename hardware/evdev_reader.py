"""Read one USB HID (keyboard-mode) scanner through evdev.

The device is grabbed (EVIOCGRAB) so its keystrokes reach only us: a scan never types into whatever
window has the focus. Events come from evdev's own reader (`InputDevice.read()`), go through the shared
`KeyDecoder`, and each finished scan goes to the sink. When the device disappears — `read()` fails with
ENODEV/EIO, or returns nothing on a readable descriptor (end of file) — a scan in progress is emitted
with `complete=False`, the state becomes UNPLUGGED and the thread ends; the `ReaderManager` opens a new
reader when the device comes back.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import time

from evdev import InputDevice

from hardware.base import StateCallback, ThreadedReader
from hardware.decoder import DecoderConfig, KeyDecoder
from hardware.scan import ReaderState, ScanSink

# Errors that mean the device is gone rather than a bug: unplugged (ENODEV), I/O error on the way out
# (EIO), descriptor invalidated (EBADF, ENXIO).
_GONE = frozenset({errno.ENODEV, errno.EIO, errno.ENXIO, errno.EBADF})


class EvdevReader(ThreadedReader):
    """Reads an opened `InputDevice` in a thread. `device_key` defaults to the device's path.

    The device is closed when the reader ends; open a new one (and a new reader) to read it again.
    """

    source = "evdev"

    def __init__(
        self,
        device: InputDevice[str],
        sink: ScanSink,
        *,
        device_key: str | None = None,
        config: DecoderConfig | None = None,
        grab: bool = True,
        on_state: StateCallback | None = None,
    ) -> None:
        super().__init__(device_key or str(device.path), sink, on_state=on_state)
        self._dev = device
        self._config = config or DecoderConfig()
        self._grab = grab
        self._wake_r, self._wake_w = os.pipe()  # stop() writes here to end a select() at once
        os.set_blocking(self._wake_w, False)
        self._wake_lock = threading.Lock()  # never write to a closed (maybe reused) descriptor number
        self._wake_open = True

    def _interrupt(self) -> None:
        with self._wake_lock:
            if self._wake_open:
                with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending already
                    os.write(self._wake_w, b"x")

    def _close_wake(self) -> None:
        with self._wake_lock:
            if self._wake_open:
                self._wake_open = False
                os.close(self._wake_r)
                os.close(self._wake_w)

    def stop(self, timeout: float = 2.0) -> None:
        never_started = self._thread is None
        super().stop(timeout)
        if never_started:
            self._release(self._dev)
        if not self.alive:
            self._close_wake()

    def _run(self) -> None:
        dev = self._dev
        try:
            if self._grab:
                try:
                    dev.grab()
                except OSError as exc:
                    reason = (
                        "another program holds the device (EBUSY)"
                        if exc.errno == errno.EBUSY
                        else f"cannot grab the device: {exc.strerror or exc}"
                    )
                    self._set_state(ReaderState.FAILED, reason)
                    return
            self._set_state(ReaderState.RUNNING)
            gone = self._loop(dev)
            if gone is not None:
                self._set_state(ReaderState.UNPLUGGED, gone)
        finally:
            self._release(dev)
            self._close_wake()

    def _loop(self, dev: InputDevice[str]) -> str | None:
        """Read and decode until stopped (returns None) or the device is gone (returns why)."""
        decoder = KeyDecoder(self._config)
        timeout_s = None if self._config.timeout_ms is None else self._config.timeout_ms / 1000
        fd = dev.fd
        idle_deadline: float | None = None  # when the pending scan times out if no key follows
        try:
            while not self._stopping.is_set():
                wait = None if idle_deadline is None else max(0.0, idle_deadline - time.monotonic())
                ready, _, _ = select.select([fd, self._wake_r], [], [], wait)
                if self._wake_r in ready:
                    continue  # stop() was called: the loop condition ends it
                if not ready:  # idle for the timeout: a scanner without a suffix has finished
                    self._emit(decoder.expire())
                    idle_deadline = None
                    continue
                try:
                    events = list(dev.read())
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if exc.errno in _GONE:
                        return f"device gone: {exc.strerror or exc}"
                    raise
                if not events:  # readable, yet nothing: end of file (a pipe's writer closed)
                    return "device gone: end of file"
                for ev in events:
                    decoded = decoder.feed(ev.sec, ev.usec, ev.type, ev.code, ev.value)
                    if decoded is not None:
                        self._emit(decoded)
                idle_deadline = time.monotonic() + timeout_s if timeout_s and decoder.pending else None
            return None
        finally:
            # Unplugged or stopped mid-scan: what was typed so far is journaled, as incomplete.
            self._emit(decoder.finish())

    def _release(self, dev: InputDevice[str]) -> None:
        if self._grab and self._state is not ReaderState.FAILED:
            with contextlib.suppress(OSError):  # an unplugged device cannot be ungrabbed, nor needs it
                dev.ungrab()
        with contextlib.suppress(OSError):
            dev.close()


def open_evdev_reader(
    path: str,
    sink: ScanSink,
    *,
    device_key: str | None = None,
    config: DecoderConfig | None = None,
    grab: bool = True,
    on_state: StateCallback | None = None,
) -> EvdevReader:
    """Open `/dev/input/...` and wrap it in a reader (not started). Raises OSError when it cannot be opened
    (missing, or no permission: see deploy/99-warehouse-scanners.rules)."""
    device: InputDevice[str] = InputDevice(path)
    return EvdevReader(device, sink, device_key=device_key or path, config=config, grab=grab, on_state=on_state)
