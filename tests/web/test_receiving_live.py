"""The receiving screen's stream carries every change of the act's state, rendered from the page's own
partials in the viewer's language (issue 16, item 7): the header when the mode or the status changed (and
only then), the counters with the opened aggregate and "complete". On SQLite and PostgreSQL: scans of a
hardware scanner reach the stream through the service's announcement, as they do in production."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Auth, LiveServer, make_app
from tests.factories import ActFactory
from tests.web.test_live import listening
from warehouse.db import get_db
from warehouse.services import importing, receiving


class Stream:
    """An SSE stream of the receiving screen held over real HTTP; its events as (name, data) pairs."""

    def __init__(self, server: LiveServer, path: str, cookie: str) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=15)
        self.conn.request("GET", path, headers={"Cookie": f"session={cookie}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "", []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif not line and name:
                    with self._lock:
                        self.events.append((name, "\n".join(data)))
                    name, data = "", []
        except (OSError, ValueError, AttributeError):  # closed by the test (http.client drops its file mid-read)
            pass

    def wait(self, found: Callable[[list[tuple[str, str]]], bool], timeout: float = 10.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = list(self.events)
            if found(got):
                return got
            time.sleep(0.02)
        raise AssertionError(f"not in the stream: {self.events}")

    def close(self) -> None:
        self.conn.close()


def last(events: list[tuple[str, str]], name: str) -> str:
    return next((data for n, data in reversed(events) if n == name), "")


def test_mode_status_opened_and_complete_reach_the_stream(db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path, LIVE_KEEPALIVE_SECONDS=1.0)  # a closed stream is let go within 1 s, not 15
    db = get_db(app)
    f = ActFactory(number="ТА-SSE", pallets=1, boxes=1, blocks=2, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    viewer = app.test_client()
    Auth(viewer).login("lead")  # in Russian, the default language
    cookie = viewer.get_cookie("session")
    assert cookie is not None
    listening(db)
    server = LiveServer(app)
    stream = Stream(server, f"/acts/{act_id}/events", cookie.value)

    def scan(code: str) -> None:  # a hardware scanner of the station: no browser request involved
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, source="evdev", station="station-1"))

    try:
        time.sleep(0.3)  # the stream subscribed
        scan("#WH:FULL_CHECK")
        got = stream.wait(lambda e: "Полная проверка" in last(e, "head"))
        assert "Доверительный" not in last(got, "head") and "Завершить приёмку" in last(got, "head")

        scan(f.codes["box"][0])  # opened under full check: the box stays on screen with what is left in it
        got = stream.wait(lambda e: 'id="open-aggregate"' in last(e, "counters"))
        assert f.codes["box"][0] in last(got, "counters") and "сканируйте содержимое" in last(got, "counters")
        heads = sum(1 for n, _ in got if n == "head")
        scan(f.codes["block"][0])  # opened too; the box is shown as what holds it
        got = stream.wait(lambda e: sum(1 for n, _ in e if n == "counters") >= 3)
        assert sum(1 for n, _ in got if n == "head") == heads  # nothing of the header changed: not sent again
        assert f.codes["box"][0] in last(got, "counters") and "open-holder" in last(got, "counters")

        scan("#WH:TRUSTED")
        scan(f.codes["block"][1])  # the rest, whole: the act is complete
        for code in f.codes["pack"][:2]:
            scan(code)
        got = stream.wait(lambda e: "готово для старшего логиста" in last(e, "counters"))
        assert 'id="open-aggregate"' not in last(got, "counters")  # complete: the act's state says it all

        scan("#WH:CLOSE")
        got = stream.wait(lambda e: "Ждёт решения" in last(e, "head"))
        assert "Завершить приёмку" not in last(got, "head")
        assert "готово для старшего логиста" in last(got, "counters")
    finally:
        stream.close()
        server.stop()
        db.dispose()


def test_a_screen_opened_later_gets_the_header_at_once(db_url: str, tmp_path: Path) -> None:
    """Screens of one act share one render (web/live.py), which sends the header only when it changes: a
    screen that joins later is sent the latest header and counters as it connects, not at the next change."""
    app = make_app(db_url, tmp_path, LIVE_KEEPALIVE_SECONDS=1.0)  # a closed stream is let go within 1 s, not 15
    db = get_db(app)
    f = ActFactory(number="ТА-SSE2", pallets=1, boxes=1, blocks=1, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    viewer = app.test_client()
    Auth(viewer).login("lead")
    cookie = viewer.get_cookie("session")
    assert cookie is not None
    listening(db)
    server = LiveServer(app)
    first = Stream(server, f"/acts/{act_id}/events", cookie.value)
    later: Stream | None = None
    try:
        time.sleep(0.3)  # the stream subscribed
        receiving.record_scan(db, act_id, receiving.ScanInput(raw="#WH:FULL_CHECK", source="evdev", station="s-1"))
        first.wait(lambda e: "Полная проверка" in last(e, "head"))
        later = Stream(server, f"/acts/{act_id}/events", cookie.value)
        got = later.wait(lambda e: "Полная проверка" in last(e, "head"), timeout=3)
        assert last(got, "counters")
    finally:
        for s in (first, later):
            if s is not None:
                s.close()
        server.stop()
        db.dispose()
