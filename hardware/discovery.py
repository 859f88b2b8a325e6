"""Find scanners: input devices from sysfs and /dev/input/by-id, serial ports from the configuration.

Nothing here opens a device: names and USB ids come from sysfs, so polling every half second for hot-plug
costs a few directory reads and never disturbs a device (opening an input device read-write can make
some re-assert their LEDs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evdev import ecodes as e

from hardware.config import ScannerConfig

Kind = Literal["evdev", "serial"]


@dataclass(frozen=True)
class DeviceInfo:
    """A device a reader can be opened on (`path`), named by its stable `key`.

    For evdev the key is the /dev/input/by-id link when there is one (stable across reboots and USB
    sockets), else the by-path link (stable per socket), else the event node; for serial it is
    `serial:<configured path>`. Scans are attributed to the key; bindings to stations use it.
    """

    key: str
    kind: Kind
    path: str
    name: str = ""
    vendor: int | None = None
    product: int | None = None
    allowed: bool = True
    rule: str | None = None  # the allow-list entry (or "configured port") that admitted it
    present: bool = True  # serial ports are listed from the configuration even while unplugged

    @property
    def usb_id(self) -> str:
        """ "0c2e:0b61", or "" when unknown."""
        if self.vendor is None or self.product is None:
            return ""
        return f"{self.vendor:04x}:{self.product:04x}"


def list_devices(config: ScannerConfig | None = None) -> list[DeviceInfo]:
    """Every keyboard-like input device and every serial port, each marked allowed or not — for
    `warehouse scanners list`. Ordered: allowed first, then by key."""
    config = config or ScannerConfig()
    found = input_devices(config) + serial_ports(config)
    return sorted(found, key=lambda d: (not d.allowed, d.kind, d.key))


def discover(config: ScannerConfig | None = None) -> list[DeviceInfo]:
    """The devices to read: allowed input devices present now, and every configured serial port
    (present or not: the serial reader waits for its port). The `ReaderManager`'s default discovery."""
    config = config or ScannerConfig()
    evdev = [d for d in input_devices(config) if d.allowed]
    configured = [d for d in serial_ports(config) if d.allowed]
    return evdev + configured


def input_devices(config: ScannerConfig) -> list[DeviceInfo]:
    """Input event devices with a keyboard's keys (all of them when `require_keyboard` is off)."""
    sys_input = Path(config.sys_root, "class", "input")
    dev_input = Path(config.dev_root, "input")
    by_id = _links(dev_input / "by-id")
    by_path = _links(dev_input / "by-path")
    out = []
    try:
        nodes = sorted(p.name for p in sys_input.iterdir() if p.name.startswith("event"))
    except OSError:  # no sysfs (a container): nothing to find
        return []
    for node in nodes:
        dev = sys_input / node / "device"
        name = _read(dev / "name") or ""
        vendor = _hex(_read(dev / "id" / "vendor"))
        product = _hex(_read(dev / "id" / "product"))
        keyboard = _is_keyboard(_read(dev / "capabilities" / "key"))
        if config.require_keyboard and keyboard is False:
            continue
        stable_id = by_id.get(node)
        key = stable_id or by_path.get(node) or str(dev_input / node)
        rule = next(
            (
                m.describe()
                for m in config.allow
                if m.matches(by_id=stable_id, vendor=vendor, product=product, name=name)
            ),
            None,
        )
        out.append(
            DeviceInfo(
                key=key,
                kind="evdev",
                path=str(dev_input / node),
                name=name,
                vendor=vendor,
                product=product,
                allowed=rule is not None,
                rule=rule,
            )
        )
    return out


def serial_ports(config: ScannerConfig) -> list[DeviceInfo]:
    """Configured serial ports (allowed, present or not) and other ports under /dev/serial/by-id."""
    out = []
    configured = set()
    for port in config.serial_ports:
        configured.add(os.path.abspath(port.path))
        vendor, product = _tty_usb_id(port.path, config.sys_root)
        out.append(
            DeviceInfo(
                key=port.key,
                kind="serial",
                path=port.path,
                name=os.path.basename(port.path),
                vendor=vendor,
                product=product,
                allowed=True,
                rule="configured port",
                present=os.path.exists(port.path),
            )
        )
    by_id = Path(config.dev_root, "serial", "by-id")
    try:
        others = sorted(by_id.iterdir())
    except OSError:
        others = []
    for link in others:
        if os.path.abspath(link) in configured:
            continue
        vendor, product = _tty_usb_id(str(link), config.sys_root)
        out.append(
            DeviceInfo(
                key=f"serial:{link}",
                kind="serial",
                path=str(link),
                name=link.name,
                vendor=vendor,
                product=product,
                allowed=False,
            )
        )
    return out


def _links(directory: Path) -> dict[str, str]:
    """event node name -> the link in `directory` pointing at it (the shortest name when several do)."""
    out: dict[str, str] = {}
    try:
        entries = sorted(directory.iterdir(), key=lambda p: (len(p.name), p.name))
    except OSError:
        return out
    for link in entries:
        target = os.path.basename(os.path.realpath(link))
        if target.startswith("event"):
            out.setdefault(target, str(link))
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


def _hex(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


_DIGIT_KEYS = [e.KEY_1, e.KEY_2, e.KEY_3, e.KEY_4, e.KEY_5, e.KEY_6, e.KEY_7, e.KEY_8, e.KEY_9, e.KEY_0]


def _is_keyboard(bitmap: str | None) -> bool | None:
    """From sysfs `capabilities/key` (unpadded hex longs, most significant first, as the kernel prints
    them with "%lx"): can it type digits and Enter? None when unknown. A scanner's extra interfaces
    (mouse, consumer control) cannot. Assumes 64-bit longs, like the 24-byte input_event."""
    if bitmap is None:
        return None
    try:
        bits = int("".join(w.zfill(16) for w in bitmap.split()) or "0", 16)
    except ValueError:
        return None
    return all(bits >> k & 1 for k in [*_DIGIT_KEYS, e.KEY_ENTER])


def _tty_usb_id(path: str, sys_root: str) -> tuple[int | None, int | None]:
    """USB vendor and product of a tty, from sysfs: walk up from the tty's device to the USB device."""
    tty = os.path.basename(os.path.realpath(path))
    current = Path(sys_root, "class", "tty", tty, "device")
    try:
        current = current.resolve(strict=True)
    except OSError:
        return None, None
    for _ in range(4):
        vendor = _hex(_read(current / "idVendor"))
        if vendor is not None:
            return vendor, _hex(_read(current / "idProduct"))
        current = current.parent
    return None, None
