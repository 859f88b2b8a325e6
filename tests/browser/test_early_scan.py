"""In Chromium: a wedge scan typed before the page's scripts have loaded is recorded exactly once (issue 16).

The scripts are held back (route interception: they never arrive), so the scan field is a plain form:
Enter posts it, with its CSRF token, to the same scan endpoint, and the answer is the screen with its banner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from tests.browser.test_receiving_flow import log_in
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing

pytestmark = pytest.mark.browser


def test_a_scan_before_the_scripts_load_is_recorded_once(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    db = get_db(live_server.app)
    f = ActFactory(number="ТА-7", pallets=1, boxes=1, blocks=1, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    log_in(page, live_server.url, "staff")
    page.route("**/static/js/**", lambda route: Route.abort(route))
    page.goto(f"{live_server.url}/acts/{act_id}")
    field = page.locator("#scan-field")
    expect(field).to_be_focused()
    expect(field).not_to_have_attribute("data-wedge-ready", "1")  # no script took the field
    page.keyboard.type(f.codes["pack"][0])
    page.keyboard.press("Enter")
    expect(page.locator("#result [data-class=matched]")).to_be_visible()
    expect(page.get_by_test_id("credited-pack")).to_have_text("1")
    with db.read() as s:
        rows = s.execute(select(func.count()).select_from(Scan).where(Scan.act_id == act_id)).scalar_one()
    assert rows == 1
