"""Live screens: a service announces a change once its transaction commits; receiving, outgoing and stock
screens follow through SSE, and none of them polls."""

from __future__ import annotations

import queue
import re
from pathlib import Path

import pytest
from flask import Flask

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
