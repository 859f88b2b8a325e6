"""Serving the emulator: werkzeug's threaded server (it comes with Flask; a test double needs no more)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from warehouse.operator.emulator.app import create_app
from warehouse.operator.profile import Profile

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build(
    profile: Profile,
    host: str,
    port: int,
    *,
    db: Path | None = None,
    seeds: Sequence[Path] = (),
    delay: float = 0.2,
    controls: bool | None = None,
) -> BaseWSGIServer:
    """A server bound to (host, port) (0: a free port), its acts seeded. Controls default to on for loopback."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request drowns a bench; /_emu/log has them
    app = create_app(profile, db, controls=host in LOOPBACK if controls is None else controls, delay=delay)
    for seed in seeds:
        app.extensions["emulator"]["store"].seed_act(seed)
    return make_server(host, port, app, threaded=True)


def start_thread(server: BaseWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="operator-emulator", daemon=True)
    thread.start()
    return thread
