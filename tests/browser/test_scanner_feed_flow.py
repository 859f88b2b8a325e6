"""In Chromium: reading an act's page leaves the dock's scanners where they are; the act page's button,
pressed from the keyboard, points them at this act and the header says so (issue 15, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_receiving_flow import log_in
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.services import importing
from warehouse.station.scanners import start_scanners

pytestmark = pytest.mark.browser


def test_the_scanners_feed_an_act_only_when_asked(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    app = live_server.app
    db = get_db(app)
    first, second = (
        importing.import_act(db, ActFactory(number=n).write(tmp_path / f"{n}.json")).act_id for n in ("ТА-1", "ТА-2")
    )
    station = start_scanners(app, discover_devices=lambda: [])
    try:
        station.router.open_act(app.config["STATION"], first)
        page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
        log_in(page, live_server.url, "staff")
        page.goto(f"{live_server.url}/acts/{second}")
        feed = page.locator("#scanner-feed")
        expect(feed.get_by_role("status")).to_have_text("The scanners of this station feed act ТА-1")
        assert station.router.act_for(app.config["STATION"]) == first  # looking moved nothing

        button = feed.get_by_role("button", name="Scanners of this station feed this act")
        button.focus()
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        expect(feed.get_by_role("status")).to_have_text("The scanners of this station feed this act")
        expect(feed.get_by_role("button")).to_have_count(0)
        assert station.router.act_for(app.config["STATION"]) == second
    finally:
        station.stop()
