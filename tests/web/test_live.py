"""Live screens: a service announces a change once its transaction commits; receiving, outgoing and stock
screens follow through SSE, and none of them polls."""

from __future__ import annotations

import http.client
import queue
import re
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import Auth, LiveServer
from tests.shipping.conftest import SHOP_BIN, stocked, wholesaler_app
from warehouse.db import Database, get_db
from warehouse.events import STOCK_CHANGED, Event, announce, broker, ensure_relay, parse_payload, payload
from warehouse.services import shipping, stock

ROOT = Path(__file__).resolve().parents[2]
LIVE_SCREENS = ("receive", "shipping", "stock")


def drain(q: queue.Queue[Event]) -> list[Event]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


@pytest.mark.parametrize("screen", LIVE_SCREENS)
def test_no_live_screen_polls(screen: str) -> None:
    texts = {p.name: p.read_text() for p in (ROOT / "templates" / screen).glob("*.html")}
    assert not [name for name, text in texts.items() if re.search(r"hx-trigger=\"[^\"]*every ", text)]
    assert any('hx-ext="sse"' in text and "sse-connect=" in text for text in texts.values())


def test_announce_publishes_after_commit_and_never_on_rollback(sqlite_app: Flask) -> None:
    db: Database = get_db(sqlite_app)
    heard = broker.subscribe(7)
    try:
        with db.write() as s:
            announce(s, Event(7, "codes"))
            assert drain(heard) == []  # not before the commit: a screen shows only what is stored
        assert drain(heard) == [Event(7, "codes")]
        with pytest.raises(RuntimeError), db.write() as s:
            announce(s, Event(7, "codes"))
            raise RuntimeError("refused")
        with db.write():
            pass
        assert drain(heard) == []
    finally:
        broker.unsubscribe(7, heard)


def test_payload_round_trip() -> None:
    for event in (Event(12, "scan", 345), STOCK_CHANGED):
        assert parse_payload(payload(event)) == event


def next_events(q: queue.Queue[Event], n: int, timeout: float = 10.0) -> list[Event]:
    """The next n events (on PostgreSQL they come back through LISTEN, a moment after the commit)."""
    return [q.get(timeout=timeout) for _ in range(n)]


def listening(db: Database) -> None:
    """Wait until this process hears the database's announcements (the PostgreSQL relay is listening)."""
    ensure_relay(db.url)
    probe = broker.subscribe(-1)
    try:
        for _ in range(100):
            with db.write() as s:
                announce(s, Event(-1, "probe"))
            try:
                probe.get(timeout=0.1)
                return
            except queue.Empty:
                continue
        raise AssertionError("the relay never listened")
    finally:
        broker.unsubscribe(-1, probe)


def test_outgoing_acts_and_the_stock_have_their_own_streams(db_url: str, tmp_path: Path) -> None:
    wholesaler = wholesaler_app(db_url, tmp_path)
    db = get_db(wholesaler)
    listening(db)
    f = stocked(db, tmp_path, pallets=2, boxes=2, blocks=2, packs=2)
    sender = shipping.company(wholesaler.config)
    draft = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=sender)
    act_stream, stock_stream, other = broker.subscribe(draft.id), broker.subscribe(None), broker.subscribe(draft.id + 1)
    try:
        assert shipping.add_code(db, draft.id, f.codes["pallet"][0]).added
        assert next_events(act_stream, 1) == [Event(draft.id, "codes")]
        assert next_events(stock_stream, 1) == [STOCK_CHANGED]  # a reserved pallet: the stock page's counts change
        stock.open_aggregate(db, f.codes["pallet"][1])
        assert next_events(stock_stream, 1) == [STOCK_CHANGED]
        assert drain(act_stream) == [] and drain(other) == []
    finally:
        broker.unsubscribe(draft.id, act_stream)
        broker.unsubscribe(None, stock_stream)
        broker.unsubscribe(draft.id + 1, other)
        db.dispose()


def read_stream(server: LiveServer, path: str, cookie: str, until: str) -> tuple[threading.Thread, list[str]]:
    """Hold an SSE stream over real HTTP; collect its lines until one starts with `until`, plus its data."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers={"Cookie": f"session={cookie}"})
    response = conn.getresponse()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    got: list[str] = []

    def read() -> None:
        for raw in response:
            line = raw.decode()
            got.append(line)
            if line.startswith(until):
                for more in response:
                    if not more.strip():
                        break
                    got.append(more.decode())
                conn.close()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:  # the stream opened: its first line is "retry:"
        time.sleep(0.01)
    assert got and got[0].startswith("retry:")
    return reader, got


def test_the_act_and_the_stock_streams_carry_rendered_fragments(sqlite_url: str, tmp_path: Path) -> None:
    wholesaler = wholesaler_app(sqlite_url, tmp_path)
    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    draft = shipping.new_act(
        db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(wholesaler.config)
    )
    viewer = wholesaler.test_client()
    Auth(viewer).login("staff")
    cookie = viewer.get_cookie("session")
    assert cookie is not None
    server = LiveServer(wholesaler)
    try:
        act_reader, act_lines = read_stream(server, f"/ship/{draft.id}/events", cookie.value, "event: roots")
        stock_reader, stock_lines = read_stream(server, "/stock/events", cookie.value, "event: stock")
        assert shipping.add_code(db, draft.id, f.codes["pallet"][0]).added  # another station scans
        act_reader.join(timeout=10)
        stock_reader.join(timeout=10)
    finally:
        server.stop()
        db.dispose()
    act_text, stock_text = "".join(act_lines), "".join(stock_lines)
    assert "event: status" in act_text and "event: totals" in act_text and 'id="totals"' in act_text
    assert f.codes["pallet"][0] in act_text  # the roots: what was scanned onto the act
    assert "event: stock" in stock_text and "levels-title" in stock_text


def test_every_view_that_streams_is_marked_a_live_screen(app: Flask) -> None:
    """An unmarked view's stream would hold one of the request threads for as long as its screen is open."""
    import inspect

    from warehouse.web import live

    streaming = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if "live.stream(" in inspect.getsource(inspect.unwrap(view))
    }
    assert streaming >= {"receive.events"}, streaming
    assert [e for e in streaming if not live.is_screen(app.view_functions[e])] == []
