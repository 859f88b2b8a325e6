"""Discovery from sysfs and /dev links, on a fake tree shaped like the kernel's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evdev import ecodes as e

from hardware.config import DeviceMatch, ScannerConfig, ScannerConfigError, SerialPortConfig
from hardware.discovery import discover, list_devices

KEYBOARD_KEYS = [*range(e.KEY_ESC, e.KEY_KPDOT + 1)]


def key_bitmap(codes: list[int]) -> str:
    """As the kernel prints capabilities/key: unpadded hex longs, most significant first."""
    bits = 0
    for code in codes:
        bits |= 1 << code
    words = []
    while bits:
        words.append(f"{bits & (2**64 - 1):x}")
        bits >>= 64
    return " ".join(reversed(words)) or "0"


def add_input(
    root: Path, node: str, name: str, vendor: str, product: str, keys: list[int], links: dict[str, str]
) -> None:
    dev = root / "sys/class/input" / node / "device"
    (dev / "id").mkdir(parents=True)
    (dev / "capabilities").mkdir()
    (dev / "name").write_text(name + "\n")
    (dev / "id/vendor").write_text(vendor + "\n")
    (dev / "id/product").write_text(product + "\n")
    (dev / "capabilities/key").write_text(key_bitmap(keys) + "\n")
    (root / "dev/input").mkdir(parents=True, exist_ok=True)
    (root / "dev/input" / node).touch()
    for kind, link in links.items():
        (root / "dev/input" / kind).mkdir(exist_ok=True)
        (root / "dev/input" / kind / link).symlink_to(f"../{node}")


def fake_system(tmp_path: Path) -> Path:
    """A station with a Honeywell scanner (keyboard + its mouse interface), a Logitech keyboard, a
    Newland scanner with no by-id link, and a USB-COM port; returns a config file pointing at it."""
    root = tmp_path / "root"
    add_input(
        root,
        "event3",
        "Honeywell Imaging & Mobility 1950",
        "0c2e",
        "0db1",
        KEYBOARD_KEYS,
        {
            "by-id": "usb-Honeywell_Imaging___Mobility_1950-event-kbd",
            "by-path": "pci-0000:00:14.0-usb-0:2:1.0-event-kbd",
        },
    )
    add_input(
        root,
        "event4",
        "Honeywell Imaging & Mobility 1950 Mouse",
        "0c2e",
        "0db1",
        [e.BTN_LEFT],
        {"by-id": "usb-Honeywell_Imaging___Mobility_1950-if01-event-mouse"},
    )
    add_input(
        root,
        "event5",
        "Logitech USB Keyboard",
        "046d",
        "c31c",
        KEYBOARD_KEYS,
        {"by-id": "usb-Logitech_USB_Keyboard-event-kbd"},
    )
    add_input(
        root,
        "event7",
        "Newland NLS-HR32",
        "1eab",
        "1d06",
        KEYBOARD_KEYS,
        {"by-path": "pci-0000:00:14.0-usb-0:3:1.0-event-kbd"},
    )
    # a CDC ACM port: /dev/serial/by-id link -> ttyACM0, sysfs: tty -> interface -> USB device
    (root / "dev/serial/by-id").mkdir(parents=True)
    (root / "dev/ttyACM0").touch()
    (root / "dev/serial/by-id/usb-Honeywell_1950g_COM-if00").symlink_to("../../ttyACM0")
    usb = root / "sys/devices/pci0000:00/usb1/1-4"
    (usb / "1-4:1.0").mkdir(parents=True)
    (usb / "idVendor").write_text("0c2e\n")
    (usb / "idProduct").write_text("0b6a\n")
    (root / "sys/class/tty/ttyACM0").mkdir(parents=True)
    (root / "sys/class/tty/ttyACM0/device").symlink_to(usb / "1-4:1.0")
    config = tmp_path / "scanners.json"
    config.write_text(
        json.dumps(
            {
                "dev_root": str(root / "dev"),
                "sys_root": str(root / "sys"),
                "serial": [
                    {
                        "path": str(root / "dev/serial/by-id/usb-Honeywell_1950g_COM-if00"),
                        "baudrate": 9600,
                        "terminators": ["CRLF", "CR"],
                    }
                ],
            }
        )
    )
    return config


def config_for(tmp_path: Path) -> ScannerConfig:
    return ScannerConfig.from_mapping(json.loads(fake_system(tmp_path).read_text()))


def test_scanners_are_found_by_vendor_keyed_by_their_stable_link(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    found = {d.key.rsplit("/", 1)[-1]: d for d in discover(config)}
    assert set(found) == {
        "usb-Honeywell_Imaging___Mobility_1950-event-kbd",
        "pci-0000:00:14.0-usb-0:3:1.0-event-kbd",  # no by-id link: by-path it is
        "usb-Honeywell_1950g_COM-if00",
    }
    honeywell = found["usb-Honeywell_Imaging___Mobility_1950-event-kbd"]
    assert honeywell.path.endswith("/dev/input/event3") and honeywell.usb_id == "0c2e:0db1"
    assert honeywell.key.endswith("/dev/input/by-id/usb-Honeywell_Imaging___Mobility_1950-event-kbd")
    port = found["usb-Honeywell_1950g_COM-if00"]
    assert (port.kind, port.usb_id, port.rule, port.key[:7]) == ("serial", "0c2e:0b6a", "configured port", "serial:")


def test_the_stations_keyboard_and_a_scanners_mouse_are_not_scanners(tmp_path: Path) -> None:
    every = list_devices(config_for(tmp_path))
    names = {d.name: d.allowed for d in every}
    assert names["Logitech USB Keyboard"] is False  # listed, never grabbed
    assert "Honeywell Imaging & Mobility 1950 Mouse" not in names  # cannot type: skipped


def test_allow_list_by_id_glob_name_and_product(tmp_path: Path) -> None:
    base = config_for(tmp_path)
    only_logitech = ScannerConfig(
        allow=(DeviceMatch(by_id="usb-logitech*"),), dev_root=base.dev_root, sys_root=base.sys_root
    )
    assert [d.name for d in discover(only_logitech)] == ["Logitech USB Keyboard"]
    by_name = ScannerConfig(allow=(DeviceMatch(name="*nls-*"),), dev_root=base.dev_root, sys_root=base.sys_root)
    assert [d.name for d in discover(by_name)] == ["Newland NLS-HR32"]
    wrong_product = ScannerConfig(
        allow=(DeviceMatch(vendor=0x0C2E, product=0x0001),), dev_root=base.dev_root, sys_root=base.sys_root
    )
    assert discover(wrong_product) == []


def test_a_configured_serial_port_is_listed_while_unplugged(tmp_path: Path) -> None:
    config = ScannerConfig(
        serial_ports=(SerialPortConfig("/dev/serial/by-id/usb-Gone-if00"),),
        dev_root=str(tmp_path),
        sys_root=str(tmp_path),
    )
    [port] = discover(config)
    assert (port.key, port.present, port.allowed) == ("serial:/dev/serial/by-id/usb-Gone-if00", False, True)


def test_no_sysfs_means_no_devices_not_a_crash(tmp_path: Path) -> None:
    assert list_devices(ScannerConfig(dev_root=str(tmp_path / "x"), sys_root=str(tmp_path / "y"))) == []


def test_configuration_from_plain_data() -> None:
    config = ScannerConfig.from_mapping(
        {
            "evdev": {
                "allow": [{"vendor": "0x1234"}, {"by_id": "usb-Mindeo*"}],
                "terminators": ["KEY_ENTER", "KEY_F12"],
                "timeout_ms": 80,
                "gs_key": "KEY_F8",
                "grab": False,
            },
            "serial": [
                "/dev/serial/by-id/usb-a",
                {"path": "/dev/serial/by-id/usb-b", "baudrate": 115200, "terminators": ["0x03"], "timeout_ms": None},
            ],
            "poll_interval": 0.25,
        }
    )
    assert config.allow == (DeviceMatch(vendor=0x1234), DeviceMatch(by_id="usb-Mindeo*"))
    assert dict(config.decoder.terminators) == {e.KEY_ENTER: "enter", e.KEY_F12: "f12"}
    assert (config.decoder.timeout_ms, config.decoder.gs_key, config.grab) == (80, e.KEY_F8, False)
    assert config.serial_ports[0] == SerialPortConfig("/dev/serial/by-id/usb-a")
    assert config.serial_ports[1].terminators == (b"\x03",) and config.serial_ports[1].timeout_ms is None
    assert config.poll_interval == 0.25


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"evdev": {"allow": [{}]}}, "at least one of"),
        ({"evdev": {"allow": [{"vendor": "zebra"}]}}, "not a hex USB id"),
        ({"evdev": {"gs_key": "KEY_NOPE"}}, "unknown key name"),
        ({"serial": [{"path": "/dev/x", "terminators": ["NUL?"]}]}, "unknown serial terminator"),
        ({"serial": [{"baudrate": 9600}]}, 'with "path"'),
        ({"scanner": {}}, "unknown setting 'scanner'"),
    ],
)
def test_bad_configuration_names_the_setting(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScannerConfigError, match=message):
        ScannerConfig.from_mapping(data)
