"""Fakes that keep the real code paths: evdev's own reader over a pipe, pyserial over a pty.

No /dev/uinput here, so a scanner is a pipe carrying raw `struct input_event` records into a subclass
of `evdev.InputDevice` that skips only the ioctls of `__init__` (recipes §2); `read()` is evdev's C
reader. Closing the write end is an unplug: the descriptor reads end-of-file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import evdev
import pytest

from hardware.base import StateCallback
from hardware.decoder import DecoderConfig
from hardware.discovery import DeviceInfo
from hardware.evdev_reader import EvdevReader
from hardware.scan import Reader, Scan, ScanSink

CHUNK = 24 * 170  # whole records, at most PIPE_BUF: each write lands in the pipe atomically


class PipeDevice(evdev.InputDevice[str]):
    """An InputDevice around a pipe's read end. grab/ungrab are counted, not ioctl'd."""

    def __init__(self, fd: int, name: str = "fake scanner", path: str | None = None) -> None:
        self.fd = fd
        self.path = path or f"pipe:{fd}"
        self.name = name
        self.phys = ""
        self.uniq = ""
        self.info = evdev.device.DeviceInfo(0x03, 0x0C2E, 0x0B61, 0x0111)
        self.version = 0x10001
        self.grabs = 0
        self.ungrabs = 0

    def grab(self) -> None:
        self.grabs += 1

    def ungrab(self) -> None:
        self.ungrabs += 1

    def close(self) -> None:
        if self.fd > -1:
            os.close(self.fd)
            self.fd = -1


class FakeScanner:
    """The scanner's end of the pipe: `send` raw records, `unplug` to close it."""

    def __init__(self, name: str = "fake scanner") -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)  # as evdev opens devices: O_NONBLOCK
        self.name = name
        self.plugged = True

    def device(self, path: str | None = None) -> PipeDevice:
        """A new InputDevice on its own descriptor (a re-open after an unplug gets a fresh one)."""
        return PipeDevice(os.dup(self.read_fd), self.name, path)

    def send(self, data: bytes) -> None:
        assert len(data) % 24 == 0
        for i in range(0, len(data), CHUNK):
            os.write(self.write_fd, data[i : i + CHUNK])

    def unplug(self) -> None:
        if self.plugged:
            self.plugged = False
            os.close(self.write_fd)

    def close(self) -> None:
        self.unplug()
        os.close(self.read_fd)


class Collector:
    """A ScanSink that lets a test wait for scans."""

    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.arrived: list[float] = []
        self._cond = threading.Condition()

    def __call__(self, scan: Scan) -> None:
        with self._cond:
            self.scans.append(scan)
            self.arrived.append(time.monotonic())
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 2.0) -> list[Scan]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.scans) >= count, timeout)
            return list(self.scans)

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.scans]


def wait_until(predicate: Callable[[], Any], timeout: float = 2.0, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


class Bench:
    """What the manager sees of the USB bus: tests plug and unplug fake scanners."""

    def __init__(self) -> None:
        self.scanners: dict[str, FakeScanner] = {}
        self.present: set[str] = set()
        self.opened: list[str] = []
        self.refuse: set[str] = set()
        self.retired: list[FakeScanner] = []
        self._lock = threading.Lock()

    def plug(self, key: str) -> FakeScanner:
        with self._lock:
            fake = self.scanners.get(key)
            if fake is None or not fake.plugged:
                if fake is not None:
                    self.retired.append(fake)
                fake = self.scanners[key] = FakeScanner(key)
            self.present.add(key)
            return fake

    def unplug(self, key: str, *, cut: bool = True) -> None:
        """Pull the cable: the descriptor ends (cut) and the device leaves discovery."""
        with self._lock:
            self.present.discard(key)
        if cut:
            self.scanners[key].unplug()

    def discover(self) -> list[DeviceInfo]:
        with self._lock:
            return [DeviceInfo(key=k, kind="evdev", path=f"pipe:{k}", name=k) for k in sorted(self.present)]

    def factory(self, info: DeviceInfo, sink: ScanSink, on_state: StateCallback) -> Reader:
        if info.key in self.refuse:
            raise PermissionError(13, "Permission denied")
        self.opened.append(info.key)
        device = self.scanners[info.key].device(info.path)
        return EvdevReader(device, sink, device_key=info.key, config=DecoderConfig(), on_state=on_state)

    def close(self) -> None:
        for fake in [*self.scanners.values(), *self.retired]:
            fake.close()


@pytest.fixture
def scanner() -> Iterator[FakeScanner]:
    fake = FakeScanner()
    yield fake
    fake.close()


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    yield b
    b.close()
