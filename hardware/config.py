"""Scanner configuration: which input devices are scanners, which serial ports to read, how they type.

An allow-list, never "every keyboard": the station's own keyboard must stay a keyboard, and grabbing it
would lock the operator out. By default a device is a scanner when its USB vendor is a scanner maker.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from hardware.decoder import DecoderConfig
from hardware.serial_decoder import DEFAULT_TERMINATORS, parse_terminator

SCANNER_VENDORS: Final[Mapping[int, str]] = {
    0x0C2E: "Honeywell (Metrologic)",
    0x0536: "Honeywell (Hand Held Products)",
    0x05E0: "Zebra (Symbol)",
    0x05F9: "Datalogic",
    0x1EAB: "Newland",
    0x065A: "Opticon",
}
"""USB vendor ids of scanner makers allowed by default. Others (Mindeo and the many white-label
scanners) are added in configuration after a look at `lsusb` or `warehouse scanners list --all`."""


class ScannerConfigError(ValueError):
    """The scanner configuration is wrong; the message names the setting."""


@dataclass(frozen=True)
class DeviceMatch:
    """One allow-list entry; every field given must match. Globs are case-insensitive.

    >>> DeviceMatch(vendor=0x0C2E).describe()
    'vendor 0c2e'
    """

    by_id: str | None = None  # glob on the /dev/input/by-id name or full path: "usb-Honeywell*-event-kbd"
    vendor: int | None = None
    product: int | None = None
    name: str | None = None  # glob on the device name the kernel reports: "*Barcode*"

    def __post_init__(self) -> None:
        if self.by_id is None and self.vendor is None and self.product is None and self.name is None:
            raise ScannerConfigError("a device match needs at least one of by_id, vendor, product, name")

    def matches(self, *, by_id: str | None, vendor: int | None, product: int | None, name: str) -> bool:
        if self.vendor is not None and vendor != self.vendor:
            return False
        if self.product is not None and product != self.product:
            return False
        if self.name is not None and not fnmatch.fnmatch(name.lower(), self.name.lower()):
            return False
        if self.by_id is not None:
            if by_id is None:
                return False
            pattern = self.by_id.lower()
            candidate = by_id.lower()
            if not (fnmatch.fnmatch(candidate, pattern) or fnmatch.fnmatch(candidate.rsplit("/", 1)[-1], pattern)):
                return False
        return True

    def describe(self) -> str:
        parts = []
        if self.by_id is not None:
            parts.append(f"by-id {self.by_id}")
        if self.vendor is not None:
            parts.append(f"vendor {self.vendor:04x}")
        if self.product is not None:
            parts.append(f"product {self.product:04x}")
        if self.name is not None:
            parts.append(f"name {self.name}")
        return ", ".join(parts)


DEFAULT_ALLOW: Final = tuple(DeviceMatch(vendor=v) for v in SCANNER_VENDORS)


@dataclass(frozen=True)
class SerialPortConfig:
    """A serial/USB-COM scanner: read only when configured (a serial port may be a modem, a scale or a
    fiscal printer; opening it uninvited could disturb them)."""

    path: str  # /dev/serial/by-id/usb-…: stable across re-plugging
    baudrate: int = 9600  # USB CDC ignores it; real RS-232 scanners are usually 9600 or 115200
    terminators: tuple[bytes, ...] = DEFAULT_TERMINATORS
    timeout_ms: float | None = 100.0

    @property
    def key(self) -> str:
        return f"serial:{self.path}"


@dataclass(frozen=True)
class ScannerConfig:
    allow: tuple[DeviceMatch, ...] = DEFAULT_ALLOW
    serial_ports: tuple[SerialPortConfig, ...] = ()
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    grab: bool = True  # exclusive access, so scans never type into another window
    require_keyboard: bool = True  # skip a scanner's non-keyboard event nodes (mouse, consumer keys)
    poll_interval: float = 0.5  # hot-plug: how often /dev/input is looked at (seconds)
    # Scans of a scanner bound to no station: "tray" keeps them out of any act until someone binds it;
    # "station" credits them at this PC's own station (a one-station PC where the allow-list is the binding).
    unbound: Literal["tray", "station"] = "tray"
    dev_root: str = "/dev"
    sys_root: str = "/sys"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScannerConfig:
        """Build from plain data (JSON, TOML, Flask config). Raises ScannerConfigError naming the setting.

        {"evdev": {"allow": [{"vendor": "0c2e"}, {"by_id": "usb-Newland*"}], "terminators": ["KEY_ENTER"],
                   "timeout_ms": 50, "gs_key": "KEY_F8", "grab": true},
         "serial": [{"path": "/dev/serial/by-id/usb-…", "baudrate": 9600, "terminators": ["CRLF", "CR"]}],
         "poll_interval": 0.5, "unbound": "tray"}
        """
        known = {"evdev", "serial", "poll_interval", "unbound", "dev_root", "sys_root"}
        _no_unknown(data, known, "scanners")
        evdev = data.get("evdev", {})
        if not isinstance(evdev, Mapping):
            raise ScannerConfigError("scanners.evdev must be an object")
        _no_unknown(
            evdev, {"allow", "terminators", "timeout_ms", "gs_key", "grab", "require_keyboard"}, "scanners.evdev"
        )
        try:
            decoder = DecoderConfig.from_names(
                terminators=evdev.get("terminators"),
                timeout_ms=evdev.get("timeout_ms", 50.0),
                gs_key=evdev.get("gs_key"),
            )
        except ValueError as exc:
            raise ScannerConfigError(f"scanners.evdev: {exc}") from exc
        allow = DEFAULT_ALLOW
        if "allow" in evdev:
            allow = tuple(_match(m, f"scanners.evdev.allow[{i}]") for i, m in enumerate(_list(evdev["allow"])))
        ports = tuple(_port(p, f"scanners.serial[{i}]") for i, p in enumerate(_list(data.get("serial", []))))
        unbound = data.get("unbound", "tray")
        if unbound not in ("tray", "station"):
            raise ScannerConfigError(f'scanners.unbound: {unbound!r} is neither "tray" nor "station"')
        return cls(
            allow=allow,
            serial_ports=ports,
            decoder=decoder,
            grab=bool(evdev.get("grab", True)),
            require_keyboard=bool(evdev.get("require_keyboard", True)),
            poll_interval=float(data.get("poll_interval", 0.5)),
            unbound=unbound,
            dev_root=str(data.get("dev_root", "/dev")),
            sys_root=str(data.get("sys_root", "/sys")),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> ScannerConfig:
        """The configuration in a JSON file (see `from_mapping`). Raises ScannerConfigError."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScannerConfigError(f"cannot read scanner configuration {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ScannerConfigError(f"{path}: the configuration must be a JSON object")
        return cls.from_mapping(data)


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScannerConfigError(f"{where}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _list(value: Any) -> Sequence[Any]:
    if not isinstance(value, list | tuple):
        raise ScannerConfigError(f"expected a list, got {value!r}")
    return value


def _hex_id(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).removeprefix("0x"), 16)
    except ValueError:
        raise ScannerConfigError(f'{where}: {value!r} is not a hex USB id like "0c2e"') from None


def _match(data: Any, where: str) -> DeviceMatch:
    if not isinstance(data, Mapping):
        raise ScannerConfigError(f"{where} must be an object")
    _no_unknown(data, {"by_id", "vendor", "product", "name"}, where)
    return DeviceMatch(
        by_id=data.get("by_id"),
        vendor=_hex_id(data.get("vendor"), where + ".vendor"),
        product=_hex_id(data.get("product"), where + ".product"),
        name=data.get("name"),
    )


def _port(data: Any, where: str) -> SerialPortConfig:
    if isinstance(data, str):
        return SerialPortConfig(path=data)
    if not isinstance(data, Mapping) or not isinstance(data.get("path"), str):
        raise ScannerConfigError(f'{where} must be a port path or an object with "path"')
    _no_unknown(data, {"path", "baudrate", "terminators", "timeout_ms"}, where)
    try:
        terminators = (
            tuple(parse_terminator(str(t)) for t in _list(data["terminators"]))
            if "terminators" in data
            else DEFAULT_TERMINATORS
        )
    except ValueError as exc:
        raise ScannerConfigError(f"{where}.terminators: {exc}") from exc
    timeout = data.get("timeout_ms", 100.0)
    return SerialPortConfig(
        path=data["path"],
        baudrate=int(data.get("baudrate", 9600)),
        terminators=terminators,
        timeout_ms=None if timeout is None else float(timeout),
    )
