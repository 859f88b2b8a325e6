"""In Chromium: a scan that needs attention flashes the whole screen in its class's colour, with its class
in big letters and its own sound (issue 16, "what users expect"); a counted code does not flash."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_receiving_flow import log_in, scan_with_wedge
from tests.conftest import LiveServer, make_app
from tests.factories import ActFactory, gtin, pack
from warehouse.db import get_db
from warehouse.services import importing

pytestmark = pytest.mark.browser


def test_surplus_and_foreign_codes_flash_the_screen(
    page: Page, live_server: LiveServer, tmp_path: Path, artifacts: Path
) -> None:
    db = get_db(live_server.app)
    mine = ActFactory(number="ТА-1", pallets=1, boxes=1, blocks=1, packs=2)
    other = ActFactory(number="ТА-2", pallets=1, boxes=1, blocks=1, packs=2, start=500)
    act_id = importing.import_act(db, mine.write(tmp_path / "mine.json")).act_id
    importing.import_act(db, other.write(tmp_path / "other.json"))
    log_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/acts/{act_id}")
    body, overlay = page.locator("body"), page.locator("#screen-flash")

    scan_with_wedge(page, mine.codes["pack"][0])  # counted: no flash
    expect(page.locator("#result [data-class=matched]")).to_be_visible()
    expect(overlay).to_have_count(0)

    scan_with_wedge(page, pack(gtin(1001), 999_999))  # the act's product, a serial the act does not list
    expect(overlay).to_have_class("screen-flash flash-surplus on")
    expect(overlay).to_have_text("Surplus")
    expect(body).to_have_attribute("data-last-class", "surplus")
    expect(body).to_have_attribute("data-last-sound", "error")
    page.screenshot(path=str(artifacts / "flash-surplus.png"))

    scan_with_wedge(page, other.codes["pack"][0])  # another open act's code
    expect(overlay).to_have_class("screen-flash flash-foreign on")
    expect(body).to_have_attribute("data-last-class", "foreign")
    scan_with_wedge(page, other.codes["pack"][0])
    expect(body).to_have_attribute("data-last-flash", "foreign")
    # The flash never takes the scanner's keys or a click: the next code still goes in.
    scan_with_wedge(page, mine.codes["pack"][1])
    expect(page.locator("#result [data-class=matched]")).to_be_visible()
    assert overlay.evaluate("(el) => getComputedStyle(el).pointerEvents") == "none"


def test_stop_mode_waits_for_enter_after_an_error(browser: Browser, tmp_path: Path) -> None:
    """A station in stop mode: after a surplus the next scan is refused with the error buzz until the
    operator presses Enter in the scan field; then scanning goes on."""
    app = make_app(f"sqlite:///{tmp_path / 'stop.sqlite3'}", tmp_path, STOP_MODE=True)
    server = LiveServer(app)
    f = ActFactory(number="ТА-3", pallets=1, boxes=1, blocks=1, packs=3)
    act_id = importing.import_act(get_db(app), f.write(tmp_path / "act.json")).act_id
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, server.url, "staff")
        page.goto(f"{server.url}/acts/{act_id}")
        scan_with_wedge(page, pack(gtin(1001), 999_999))
        expect(page.get_by_test_id("stop-note")).to_be_visible()
        expect(page.locator("body")).to_have_attribute("data-stopped", "1")
        scan_with_wedge(page, f.codes["pack"][0])
        expect(page.locator("#result")).to_contain_text("this scan was not counted")
        expect(page.get_by_test_id("stops")).to_contain_text("This screen at")
        expect(page.locator("body")).to_have_attribute("data-last-sound", "error")
        page.get_by_label("Scan a code").press("Enter")
        expect(page.locator("#result")).to_contain_text("Confirmed: scanning goes on")
        expect(page.locator("body")).to_have_attribute("data-stopped", "")
        scan_with_wedge(page, f.codes["pack"][0])
        expect(page.locator("#result [data-class=matched]")).to_be_visible()
    finally:
        page.context.close()
        server.stop()
        get_db(app).dispose()
