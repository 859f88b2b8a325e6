"""Hot-plug: the ReaderManager with an injected discovery of pipe-backed devices."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from hardware.manager import ReaderManager
from hardware.record import EventWriter, events_for_text
from hardware.scan import ReaderState
from tests.hardware.conftest import Bench, Collector, FakeScanner, wait_until


@pytest.fixture
def manager(bench: Bench, collector: Collector) -> Iterator[ReaderManager]:
    m = ReaderManager(
        collector, discover=bench.discover, reader_factory=bench.factory, poll_interval=0.2, retry_interval=0.3
    )
    m.start()
    yield m
    m.stop()


def scan_now(text: str) -> bytes:
    return events_for_text(text, start_time=time.time())


def state_of(manager: ReaderManager, key: str) -> ReaderState | None:
    return next((s.state for s in manager.statuses() if s.device == key), None)


def test_a_scanner_plugged_in_is_read_within_two_seconds(
    bench: Bench, manager: ReaderManager, collector: Collector
) -> None:
    assert manager.readers() == {}
    plugged = time.monotonic()
    fake = bench.plug("by-id/usb-Newland-event-kbd")
    assert wait_until(lambda: state_of(manager, fake.name) is ReaderState.RUNNING, timeout=2.0)
    assert time.monotonic() - plugged < 2.0
    fake.send(scan_now("0001"))
    [scan] = collector.wait_for(1)
    assert (scan.text, scan.device) == ("0001", "by-id/usb-Newland-event-kbd")


def test_a_scanner_removed_has_its_reader_stopped(bench: Bench, manager: ReaderManager) -> None:
    bench.plug("a")
    assert wait_until(lambda: "a" in manager.readers())
    reader = manager.readers()["a"]
    bench.unplug("a", cut=False)  # gone from discovery while the descriptor stays open
    assert wait_until(lambda: "a" not in manager.readers(), timeout=2.0)
    assert not reader.alive and reader.state is ReaderState.STOPPED


def test_unplug_mid_scan_then_replug(bench: Bench, manager: ReaderManager, collector: Collector) -> None:
    fake = bench.plug("s1")
    assert wait_until(lambda: state_of(manager, "s1") is ReaderState.RUNNING)
    w = EventWriter(start=time.time())
    w.type("0104600439")  # ... and the cable comes out
    fake.send(w.data())
    time.sleep(0.01)
    bench.unplug("s1")
    [cut] = collector.wait_for(1)
    assert (cut.text, cut.complete, cut.device) == ("0104600439", False, "s1")
    fake = bench.plug("s1")  # plugged back in
    assert wait_until(lambda: bench.opened.count("s1") == 2 and state_of(manager, "s1") is ReaderState.RUNNING)
    fake.send(scan_now("0104600439931256"))
    scans = collector.wait_for(2)
    assert (scans[-1].text, scans[-1].complete) == ("0104600439931256", True)


def test_a_device_that_cannot_be_opened_is_reported_and_retried(bench: Bench, manager: ReaderManager) -> None:
    bench.refuse.add("locked")
    bench.plug("locked")
    assert wait_until(lambda: state_of(manager, "locked") is ReaderState.FAILED)
    [status] = [s for s in manager.statuses() if s.device == "locked"]
    assert "Permission denied" in (status.error or "")
    bench.refuse.clear()  # the udev rule was installed
    assert wait_until(lambda: state_of(manager, "locked") is ReaderState.RUNNING, timeout=2.0)


def test_four_scanners_at_once_each_scan_attributed(bench: Bench, manager: ReaderManager, collector: Collector) -> None:
    fakes = [bench.plug(f"dock-{i}") for i in range(4)]
    assert wait_until(lambda: all(state_of(manager, f.name) is ReaderState.RUNNING for f in fakes))
    per_device = 25

    def send(fake: FakeScanner, i: int) -> None:
        for n in range(per_device):
            fake.send(scan_now(f"{i}{n:04d}ABC"))

    threads = [threading.Thread(target=send, args=(f, i)) for i, f in enumerate(fakes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    scans = collector.wait_for(4 * per_device, timeout=5)
    assert len(scans) == 4 * per_device
    for i, fake in enumerate(fakes):
        mine = [s.text for s in scans if s.device == fake.name]
        assert mine == [f"{i}{n:04d}ABC" for n in range(per_device)]  # in order, none lost or mixed


def test_stop_hands_over_every_scan_read_and_releases_devices(bench: Bench, collector: Collector) -> None:
    manager = ReaderManager(collector, discover=bench.discover, reader_factory=bench.factory, poll_interval=0.2)
    fake = bench.plug("x")
    manager.start()
    assert wait_until(lambda: state_of(manager, "x") is ReaderState.RUNNING)
    w = EventWriter(start=time.time())
    for n in range(10):
        w.scan(f"{n}")
    w.type("11")  # ... and the station stops mid-scan
    fake.send(w.data())
    assert wait_until(lambda: len(collector.scans) == 10)
    manager.stop()
    assert [(s.text, s.complete) for s in collector.scans] == [(str(n), True) for n in range(10)] + [("11", False)]
    assert manager.readers() == {}
