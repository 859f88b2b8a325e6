"""`warehouse scanners …`: decode recordings, list and bind scanner devices.

`scanners_cli` is a plain click group: `decode` and `list` work without the app. Mounted in the `warehouse`
command (a Flask CLI group), `list` adds bindings and reader states from the station and `bind` writes
bindings. Failures exit non-zero with a one-line reason on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from hardware.config import ScannerConfig, ScannerConfigError
from hardware.decoder import DecoderConfig
from hardware.discovery import DeviceInfo, list_devices
from hardware.image import ImageDecodeError, read_symbols
from hardware.replay import RECORD_SIZE, ReplayError, replay_file
from hardware.scan import Scan
from hardware.serial_decoder import DEFAULT_TERMINATORS, SerialDecoder, parse_terminator
from warehouse import codes
from warehouse.cli.common import CliError, cli_lang
from warehouse.station.routing import Binding

scanners_cli = click.Group("scanners", help="Barcode scanners: recordings and devices.")


def scan_json(scan: Scan) -> dict[str, Any]:
    """The JSON object of one decoded scan (design.md: `text`, `terminator`, `events`, and more)."""
    return {
        "text": scan.text,
        "terminator": scan.terminator,
        "events": scan.events,
        "complete": scan.complete,
        "unknown_keys": scan.unknown_keys,
        "time": scan.received_at.isoformat(),
    }


@scanners_cli.command("decode")
@click.option(
    "--evdev",
    "evdev_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="raw Linux input_event records (24-byte structs, as read from /dev/input/event*)",
)
@click.option(
    "--serial",
    "serial_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="raw bytes received from a serial scanner",
)
@click.option(
    "--timeout-ms",
    type=float,
    default=50.0,
    show_default=True,
    help="inter-key gap that ends a scan (evdev); 0 disables",
)
@click.option("--gs-key", default=None, help="key the scanner types for GS, e.g. KEY_F8")
@click.option(
    "--terminator",
    "terminators",
    multiple=True,
    help="terminator key (evdev, e.g. KEY_ENTER) or bytes (serial: CR, LF, CRLF, 0x..); repeatable",
)
@click.option("--strict", is_flag=True, help="fail on a truncated trailing record instead of ignoring it")
@click.option(
    "--image", "image", is_flag=True, help="FILE... are photos: every Data Matrix in each, one JSON object a symbol"
)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def decode_cmd(
    evdev_file: Path | None,
    serial_file: Path | None,
    timeout_ms: float,
    gs_key: str | None,
    terminators: tuple[str, ...],
    strict: bool,
    image: bool,
    files: tuple[Path, ...],
) -> None:
    """Decode a recording through the live readers' decoder (one JSON object per scan), or photos with
    --image FILE... (one JSON object per symbol: file, text, symbology and the code's parse)."""
    if image:
        if evdev_file is not None or serial_file is not None or not files:
            raise CliError("give photos: --image FILE [FILE ...]")
        _decode_images(files)
        return
    if files:
        raise CliError(f"unexpected argument {files[0]}: photos need --image")
    if (evdev_file is None) == (serial_file is None):
        raise CliError("give one recording: --evdev FILE or --serial FILE, or photos: --image FILE ...")
    try:
        if evdev_file is not None:
            scans = _decode_evdev(evdev_file, timeout_ms, gs_key, terminators, strict)
        else:
            assert serial_file is not None
            scans = _decode_serial(serial_file, terminators)
    except OSError as exc:
        raise CliError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    except (ReplayError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    for scan in scans:
        click.echo(json.dumps(scan_json(scan)))


def _decode_images(files: tuple[Path, ...]) -> None:
    """Every symbol of every photo, in order; a photo that cannot be read, or shows none, is said on stderr
    and makes the exit code 1 once all are done (the others are still printed)."""
    language = cli_lang()
    failed = 0
    for path in files:
        try:
            symbols = read_symbols(path.read_bytes())
        except OSError as exc:
            click.echo(f"{path}: cannot read: {exc.strerror}", err=True)
            failed += 1
            continue
        except ImageDecodeError as exc:
            click.echo(f"{path}: {exc}", err=True)
            failed += 1
            continue
        if not symbols:
            click.echo(f"{path}: no Data Matrix found", err=True)
            failed += 1
        for symbol in symbols:
            parsed = codes.parse(symbol.text)
            record = {
                "file": str(path),
                "text": symbol.text,
                "symbology": symbol.symbology,
                "reader": symbol.reader,
                "kind": parsed.kind.value,
                "identity": parsed.identity,
                "error": parsed.error.message(language) if parsed.error else None,
            }
            click.echo(json.dumps(record, ensure_ascii=False))
    if failed:
        raise SystemExit(1)


def _decode_evdev(
    path: Path, timeout_ms: float, gs_key: str | None, terminators: tuple[str, ...], strict: bool
) -> list[Scan]:
    config = DecoderConfig.from_names(terminators=terminators or None, timeout_ms=timeout_ms or None, gs_key=gs_key)
    replay = replay_file(path, config)
    if replay.trailing_bytes:
        message = (
            f"{path} ends with a truncated record: its last {replay.trailing_bytes} bytes are not a whole "
            f"{RECORD_SIZE}-byte input_event"
        )
        if strict:
            raise ValueError(message)
        click.echo(f"warning: {message}; ignored", err=True)
    return replay.scans


def _decode_serial(path: Path, terminators: tuple[str, ...]) -> list[Scan]:
    terms = tuple(parse_terminator(t) for t in terminators) or DEFAULT_TERMINATORS
    decoder = SerialDecoder(terms, timeout_ms=None)
    data = path.read_bytes()
    mtime_us = int(path.stat().st_mtime * 1_000_000)
    decoded = decoder.feed(data, mtime_us)
    tail = decoder.finish()
    if tail is not None:
        decoded.append(tail)
    return [d.to_scan(f"file:{path}", "serial") for d in decoded]


@scanners_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="also keyboards and ports that are not scanners")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="scanner configuration (JSON, as docs/scanners.md shows); default: the station's",
)
def list_cmd(show_all: bool, as_json: bool, config_file: Path | None) -> None:
    """Scanner devices present and configured, the rule that admits each, its binding and reader state.

    Bindings and states need the station (run as `warehouse scanners list`); states come from the running
    `warehouse run`, and are blank when it does not run.
    """
    app = _station_app()
    try:
        config = ScannerConfig.from_file(config_file) if config_file else _app_config(app)
    except ScannerConfigError as exc:
        raise CliError(str(exc)) from exc
    bindings: dict[str, Binding] = {}
    states: dict[str, dict[str, Any]] = {}
    if app is not None:
        from warehouse.station.bindings import load_bindings
        from warehouse.station.scanners import read_status

        bindings = load_bindings(app.extensions["warehouse.db"])
        states = read_status(app.instance_path)
    devices = [d for d in list_devices(config) if show_all or d.allowed]
    known = {d.key for d in devices}
    # A bound scanner that is unplugged is still the station's scanner: list it.
    devices += [
        DeviceInfo(key=key, kind="serial" if key.startswith("serial:") else "evdev", path="", present=False)
        for key in sorted(bindings)
        if key not in known
    ]
    rows = [device_json(d, bindings.get(d.key), states.get(d.key)) for d in devices]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    if not rows:
        click.echo("no scanners found" + ("" if show_all else " (--all lists every keyboard and serial port)"))
        return
    for row in rows:
        status = "scanner" if row["allowed"] else "ignored"
        extra = "" if row["present"] else " (not connected)"
        bound = row["station"] or "unbound"
        if row["user"] is not None:
            bound += f" ({row['user']})"
        state = row["state"] or "-"
        if row["error"]:
            state += f" ({row['error']})"
        click.echo(
            f"{row['key']}\t{row['kind']}\t{row['usb_id'] or '-'}\t{row['name'] or '-'}\t{status}{extra}"
            f"\t{bound}\t{state}"
        )


@scanners_cli.command("bind")
@click.argument("device_key")
@click.option("--station", required=True, help="the station whose open act receives this scanner's scans")
@click.option("--user", "username", default=None, help="the person a personal scanner's scans are attributed to")
@click.option("--name", default="", help="a name people recognise, e.g. the label on the scanner")
def bind_cmd(device_key: str, station: str, username: str | None, name: str) -> None:
    """Bind the scanner DEVICE_KEY (as `scanners list` shows it) to a station, and maybe a person."""
    app = _station_app()
    if app is None:
        raise CliError("binding needs the station's database: run it as `warehouse scanners bind`")
    from warehouse.station.bindings import BindingError, bind_scanner

    try:
        binding = bind_scanner(app.extensions["warehouse.db"], device_key, station, username=username, name=name)
    except BindingError as exc:
        raise CliError(str(exc)) from exc
    click.echo(f"{device_key} -> station {binding.station}" + (f", user {username}" if username else ""))


def device_json(
    device: DeviceInfo, binding: Binding | None = None, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "key": device.key,
        "kind": device.kind,
        "path": device.path,
        "name": device.name,
        "usb_id": device.usb_id or None,
        "allowed": device.allowed,
        "rule": device.rule,
        "present": device.present,
        "station": binding.station if binding else None,
        "user": binding.username if binding else None,
        "state": (state or {}).get("state"),
        "error": (state or {}).get("error"),
    }


def _station_app() -> Flask | None:
    """The app when run under `warehouse` (a Flask CLI group), else None: `scanners_cli` works alone too."""
    info = click.get_current_context().find_object(ScriptInfo)
    if info is None:
        return None
    try:
        return info.load_app()
    except Exception as exc:  # no database yet, a bad URL: devices can still be listed
        click.echo(f"warning: station not available, bindings and states not shown: {exc}", err=True)
        return None


def _app_config(app: Flask | None) -> ScannerConfig:
    if app is None:
        return ScannerConfig()
    from warehouse.station.scanners import scanner_config

    return scanner_config(app)
