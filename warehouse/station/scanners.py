"""The station's scanners inside the web process: readers for every scanner, scans into receiving.

`warehouse run` calls `start_scanners(app)` before serving and `ScannerStation.stop()` after; the receiving
screen tells the router which act is open (`scanners_of(app).router.open_act(station, act_id, user_id=…)`).
Reader states go to `<instance>/scanners-status.json` so `warehouse scanners list`, another process, can
show them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from hardware.config import ScannerConfig
from hardware.discovery import DeviceInfo, discover
from hardware.manager import ReaderFactory, ReaderManager, ReaderStatus, default_reader_factory
from hardware.scan import ReaderState
from warehouse.db import Database
from warehouse.station.bindings import load_bindings
from warehouse.station.routing import StationRouter
from warehouse.station.sink import ReceivingSink

log = logging.getLogger("hardware")  # the scanners' one logger: docs/scanners.md tells operators to follow it

EXTENSION = "warehouse.station"
STATUS_FILE = "scanners-status.json"
CONFIG_FILE = "scanners.json"


def scanner_config(app: Flask) -> ScannerConfig:
    """`SCANNERS` from the Flask config (a mapping, or a ScannerConfig), else `<instance>/scanners.json`,
    else the defaults. Raises ScannerConfigError."""
    data = app.config.get("SCANNERS")
    if isinstance(data, ScannerConfig):
        return data
    if data is not None:
        return ScannerConfig.from_mapping(data)
    path = Path(app.instance_path, CONFIG_FILE)
    return ScannerConfig.from_file(path) if path.exists() else ScannerConfig()


class ScannerStation:
    """Readers, router and receiving sink of one station, started and stopped together."""

    def __init__(
        self,
        db: Database,
        config: ScannerConfig,
        *,
        station: str,
        gs_substitutes: Iterable[str] | None = None,
        discover_devices: Callable[[], Iterable[DeviceInfo]] | None = None,
        reader_factory: ReaderFactory | None = None,
        status_path: Path | None = None,
        retry_interval: float = 1.0,
        reload_interval: float = 2.0,
        stop_on_error: bool = False,
    ) -> None:
        self.config = config
        self.station = station
        self._db = db
        self.router = StationRouter(default_station=station if config.unbound == "station" else None)
        self.sink = ReceivingSink(
            db,
            self.router,
            gs_substitutes=tuple(gs_substitutes or ()),
            reload_bindings=self.reload_bindings,
            reload_interval=reload_interval,
            stop_on_error=stop_on_error,
        )
        self.manager = ReaderManager(
            self.sink,
            discover=discover_devices or (lambda: discover(config)),
            reader_factory=reader_factory or default_reader_factory(config),
            poll_interval=config.poll_interval,
            retry_interval=retry_interval,
            on_state=self._state_changed,
        )
        self._status_path = status_path
        self._status: dict[str, dict[str, Any]] = {}
        self._status_lock = threading.Lock()

    def reload_bindings(self) -> None:
        """Take the scanner bindings from the database again (after a scanner was bound)."""
        self.router.set_bindings(load_bindings(self._db))

    def start(self) -> None:
        self.reload_bindings()
        self._write_status()
        self.manager.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading (scans in progress are journaled incomplete) and record what was queued, before
        returning; for good (the process is ending): the sink takes no more scans."""
        self.manager.stop(timeout)
        self.sink.close(timeout)  # the writer has written everything handed to it
        self._write_status(running=False)

    def statuses(self) -> list[ReaderStatus]:
        return self.manager.statuses()

    def _state_changed(self, device: str, state: ReaderState, error: str | None) -> None:
        with self._status_lock:
            self._status[device] = {"state": state.value, "error": error, "since": datetime.now(UTC).isoformat()}
        self._write_status()

    def _write_status(self, *, running: bool = True) -> None:
        if self._status_path is None:
            return
        with self._status_lock:
            data = {
                "pid": os.getpid() if running else None,
                "station": self.station,
                "updated": datetime.now(UTC).isoformat(),
                "devices": dict(self._status),
            }
            tmp = self._status_path.with_name(self._status_path.name + ".tmp")
            try:
                tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
                tmp.replace(self._status_path)  # readers of the file never see half of it
            except OSError:
                log.exception("cannot write %s", self._status_path)


def start_scanners(app: Flask, **kwargs: Any) -> ScannerStation:
    """Build the station's scanners from the app's configuration, start them, keep them in the app.

    Keyword arguments go to `ScannerStation` (tests inject discovery and the reader factory).
    Raises ScannerConfigError for a bad configuration.
    """
    db: Database = app.extensions["warehouse.db"]
    kwargs.setdefault("status_path", Path(app.instance_path, STATUS_FILE))
    station = ScannerStation(
        db,
        scanner_config(app),
        station=str(app.config["STATION"]),
        gs_substitutes=app.config.get("GS_SUBSTITUTES"),
        stop_on_error=bool(app.config.get("STOP_MODE")),
        **kwargs,
    )
    app.extensions[EXTENSION] = station
    station.start()
    return station


def scanners_of(app: Flask) -> ScannerStation | None:
    """The app's running scanners, or None when this process reads none (tests, `flask run`)."""
    station = app.extensions.get(EXTENSION)
    return station if isinstance(station, ScannerStation) else None


def read_status(instance_path: str | Path) -> dict[str, dict[str, Any]]:
    """Reader states a running station last wrote; {} when no station runs (or never ran) here."""
    path = Path(instance_path, STATUS_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pid = data.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return {}
    devices = data.get("devices")
    return devices if isinstance(devices, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under the service's user
        return True
    return True
