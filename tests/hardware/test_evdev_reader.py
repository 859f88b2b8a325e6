"""The live evdev reader on evdev's real reader: raw input_event records through a pipe (or a pty)."""

from __future__ import annotations

import os
import time
import tty

from evdev import ecodes as e

from hardware.decoder import DecoderConfig
from hardware.evdev_reader import EvdevReader
from hardware.record import EventWriter, events_for_text
from hardware.replay import replay_events
from hardware.scan import ReaderState, Scan
from tests.hardware.conftest import Collector, FakeScanner, PipeDevice, wait_until

BLOCK = "010460043993125621JgXJ5.T\x1d8005112000\x1d930001"
PACK = "04600439931256JgXJ5.T1120AbC9"


def now_writer() -> EventWriter:
    return EventWriter(start=time.time())


def test_scans_are_read_decoded_and_attributed(scanner: FakeScanner, collector: Collector) -> None:
    device = scanner.device()
    reader = EvdevReader(device, collector, device_key="/dev/input/by-id/usb-Honeywell-event-kbd")
    reader.start()
    try:
        assert wait_until(lambda: reader.state is ReaderState.RUNNING)
        assert device.grabs == 1  # exclusive: scans never type into another window
        w = now_writer()
        w.scan(BLOCK)
        w.scan(PACK, terminator="tab")
        scanner.send(w.data())
        first, second = collector.wait_for(2)
    finally:
        reader.stop()
    assert (first.text, first.terminator, first.source) == (BLOCK, "enter", "evdev")
    assert first.device == "/dev/input/by-id/usb-Honeywell-event-kbd"
    assert (second.text, second.terminator) == (PACK, "tab")
    assert first.complete and second.complete
    assert first.received_at.tzinfo is not None
    # the raw evidence replays through the same decoder to the same scan
    assert [s.text for s in replay_events(first.raw).scans] == [BLOCK]
    assert reader.state is ReaderState.STOPPED and not reader.alive
    assert device.ungrabs == 1 and device.fd == -1  # released and closed on stop


def test_scanner_without_suffix_is_ended_by_the_idle_timeout(scanner: FakeScanner, collector: Collector) -> None:
    reader = EvdevReader(scanner.device(), collector, config=DecoderConfig(timeout_ms=50))
    reader.start()
    try:
        scanner.send(events_for_text(PACK, terminator=None, start_time=time.time()))
        sent = time.monotonic()
        [scan] = collector.wait_for(1)
        waited = collector.arrived[0] - sent
    finally:
        reader.stop()
    assert (scan.text, scan.terminator, scan.complete) == (PACK, "timeout", True)
    assert 0.04 <= waited < 0.5  # not before the timeout, and promptly after it


def test_unplug_mid_scan_emits_an_incomplete_scan(scanner: FakeScanner, collector: Collector) -> None:
    states: list[ReaderState] = []
    reader = EvdevReader(
        scanner.device(),
        collector,
        config=DecoderConfig(timeout_ms=None),
        on_state=lambda _key, state, _error: states.append(state),
    )
    reader.start()
    w = now_writer()
    w.scan("0001")
    w.type(PACK[:12])  # the cable is pulled here
    scanner.send(w.data())
    collector.wait_for(1)
    scanner.unplug()  # end of file on the descriptor
    complete, cut = collector.wait_for(2)
    assert wait_until(lambda: not reader.alive)
    assert (complete.text, complete.complete) == ("0001", True)
    assert (cut.text, cut.complete, cut.terminator) == (PACK[:12], False, None)
    assert not cut.creditable
    assert reader.state is ReaderState.UNPLUGGED and "gone" in (reader.error or "")
    assert states == [ReaderState.RUNNING, ReaderState.UNPLUGGED]
    reader.stop()  # harmless after the end


def test_device_error_eio_is_an_unplug(collector: Collector) -> None:
    # A pty master reads EIO once its slave is closed: evdev's C reader raises OSError(EIO), as a real
    # device that vanished raises ENODEV.
    master, slave = os.openpty()
    tty.setraw(slave)
    w = now_writer()
    w.scan("42")
    w.type("7")
    os.write(slave, w.data())
    os.close(slave)
    os.set_blocking(master, False)
    reader = EvdevReader(PipeDevice(master), collector, config=DecoderConfig(timeout_ms=None))
    reader.start()
    done, cut = collector.wait_for(2)
    assert wait_until(lambda: not reader.alive)
    assert (done.text, done.complete) == ("42", True)
    assert (cut.text, cut.complete) == ("7", False)
    assert reader.state is ReaderState.UNPLUGGED and "Input/output error" in (reader.error or "")


def test_stop_mid_scan_emits_what_was_typed_as_incomplete(scanner: FakeScanner, collector: Collector) -> None:
    reader = EvdevReader(scanner.device(), collector, config=DecoderConfig(timeout_ms=None))
    reader.start()
    scanner.send(events_for_text("0104600", terminator=None, start_time=time.time()))
    time.sleep(0.1)
    reader.stop()
    [scan] = collector.wait_for(1)
    assert (scan.text, scan.complete) == ("0104600", False)


def test_a_failing_sink_does_not_stop_the_reader(scanner: FakeScanner) -> None:
    seen: list[Scan] = []

    def sink(scan: Scan) -> None:
        seen.append(scan)
        if len(seen) == 1:
            raise RuntimeError("database is locked")

    reader = EvdevReader(scanner.device(), sink)
    reader.start()
    try:
        w = now_writer()
        w.scan("1")
        w.scan("2")
        scanner.send(w.data())
        assert wait_until(lambda: len(seen) == 2)
        assert reader.state is ReaderState.RUNNING
    finally:
        reader.stop()
    assert [s.text for s in seen] == ["1", "2"]


def test_a_device_grabbed_elsewhere_fails_clearly(scanner: FakeScanner, collector: Collector) -> None:
    class Busy(PipeDevice):
        def grab(self) -> None:
            raise OSError(16, "Device or resource busy")

    reader = EvdevReader(Busy(os.dup(scanner.read_fd)), collector)
    reader.start()
    assert wait_until(lambda: not reader.alive)
    assert reader.state is ReaderState.FAILED and "another program" in (reader.error or "")


def test_layout_is_irrelevant_key_codes_decide(scanner: FakeScanner, collector: Collector) -> None:
    # With a Russian layout active the OS would type "й" for KEY_Q; the reader never asks the OS.
    reader = EvdevReader(scanner.device(), collector)
    reader.start()
    try:
        w = now_writer()
        for code in (e.KEY_Q, e.KEY_W, e.KEY_1, e.KEY_ENTER):
            w.tap(code)
        scanner.send(w.data())
        [scan] = collector.wait_for(1)
    finally:
        reader.stop()
    assert scan.text == "qw1"
