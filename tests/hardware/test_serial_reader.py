"""The serial reader on real pyserial over a pty: the test holds the master, pyserial opens the slave by
a stable symlink (like /dev/serial/by-id/…), which the test re-points to a new pty to re-plug."""

from __future__ import annotations

import os
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.scan import ReaderState
from hardware.serial_reader import SerialReader
from tests.hardware.conftest import Collector, wait_until

BLOCK = b"010460043993125621JgXJ5.T\x1d8005112000\x1d930001"


class Cable:
    """A pty pair behind a stable symlink: `plug` a new one in, `unplug` it."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.slave = -1

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.link)  # atomically, as udev re-creates the by-id link

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        for fd in (self.master, self.slave):
            if fd > -1:
                os.close(fd)
        self.master = self.slave = -1
        self.link.unlink(missing_ok=True)


@pytest.fixture
def cable(tmp_path: Path) -> Iterator[Cable]:
    c = Cable(tmp_path / "usb-Honeywell_Imaging_1950g-if00")
    c.plug()
    yield c
    c.unplug()


def start(reader: SerialReader) -> SerialReader:
    reader.start()
    assert wait_until(lambda: reader.state is ReaderState.RUNNING), reader.error
    return reader


def test_gs_survives_and_each_terminator_ends_a_scan(cable: Cable, collector: Collector) -> None:
    reader = start(SerialReader(str(cable.link), collector))
    try:
        cable.send(BLOCK + b"\r")
        cable.send(b"04600439931256JgXJ5.T1120AbC9\r\n00487012345678901235\n")
        scans = collector.wait_for(3)
    finally:
        reader.stop()
    assert [(s.text.encode(), s.terminator) for s in scans] == [
        (BLOCK, "cr"),
        (b"04600439931256JgXJ5.T1120AbC9", "crlf"),
        (b"00487012345678901235", "lf"),
    ]
    first = scans[0]
    assert first.text.count("\x1d") == 2
    assert (first.device, first.source, first.raw, first.events) == (
        f"serial:{cable.link}",
        "serial",
        BLOCK + b"\r",
        len(BLOCK) + 1,
    )


def test_crlf_split_across_reads_makes_one_scan(cable: Cable, collector: Collector) -> None:
    reader = start(SerialReader(str(cable.link), collector))
    try:
        cable.send(b"0001\r")
        collector.wait_for(1)
        time.sleep(0.05)
        cable.send(b"\n0002\r\n")
        scans = collector.wait_for(2)
        time.sleep(0.15)
    finally:
        reader.stop()
    assert [(s.text, s.terminator) for s in collector.scans] == [("0001", "cr"), ("0002", "crlf")]
    assert len(scans) == 2


def test_scanner_without_terminator_ends_on_inter_byte_timeout(cable: Cable, collector: Collector) -> None:
    reader = start(SerialReader(str(cable.link), collector, terminators=(), timeout_ms=50))
    try:
        cable.send(BLOCK)
        [scan] = collector.wait_for(1)
    finally:
        reader.stop()
    assert (scan.text.encode(), scan.terminator, scan.complete) == (BLOCK, "timeout", True)


def test_baud_rate_is_applied_to_the_port(cable: Cable, collector: Collector) -> None:
    reader = start(SerialReader(str(cable.link), collector, baudrate=115200))
    try:
        speed = termios.tcgetattr(cable.slave)[4]
    finally:
        reader.stop()
    assert speed == termios.B115200


def test_unplug_emits_incomplete_then_reconnects_to_the_new_port(cable: Cable, collector: Collector) -> None:
    states: list[ReaderState] = []
    reader = start(
        SerialReader(str(cable.link), collector, retry_interval=0.2, on_state=lambda _k, s, _e: states.append(s))
    )
    try:
        cable.send(b"0104600439")  # ... and the cable comes out mid-code
        time.sleep(0.03)
        cable.unplug()
        [cut] = collector.wait_for(1)
        assert (cut.text, cut.complete, cut.terminator) == ("0104600439", False, None)
        assert wait_until(lambda: reader.state is ReaderState.UNPLUGGED)
        time.sleep(0.3)  # it retries while the port is missing, without failing for good
        assert reader.alive and reader.state is ReaderState.UNPLUGGED
        cable.plug()  # plugged back in: the by-id link points to a new tty
        assert wait_until(lambda: reader.state is ReaderState.RUNNING, timeout=2.0)
        cable.send(BLOCK + b"\r\n")
        scans = collector.wait_for(2)
    finally:
        reader.stop()
    assert scans[-1].text.encode() == BLOCK and scans[-1].complete
    assert reader.reconnects == 1
    assert states[0] is ReaderState.RUNNING and ReaderState.UNPLUGGED in states and states[-1] is ReaderState.STOPPED


def test_a_port_missing_at_start_is_waited_for(tmp_path: Path, collector: Collector) -> None:
    cable = Cable(tmp_path / "usb-Zebra-if00")
    reader = SerialReader(str(cable.link), collector, retry_interval=0.1)
    reader.start()
    try:
        assert wait_until(lambda: reader.state is ReaderState.UNPLUGGED)
        assert "waiting for" in (reader.error or "")
        cable.plug()
        assert wait_until(lambda: reader.state is ReaderState.RUNNING)
        cable.send(b"1234\r")
        [scan] = collector.wait_for(1)
        assert scan.text == "1234"
    finally:
        reader.stop()
        cable.unplug()


def test_a_bad_configuration_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="terminator or an inter-byte timeout"):
        SerialReader("/dev/null", print, terminators=(), timeout_ms=None)
