"""In Chromium: a scan is never lost without a sign (issue 16, item 2).

The focus leaves the scan field (a click on the heading), then the scanner types: the scan is recorded.
Inside another text field the keys stay that field's. After the session ended, a scan answers with the
error sound and a banner that says it was not recorded, and the page stays where it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.browser.test_receiving_flow import log_in
from tests.browser.wedge import type_at
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing

pytestmark = pytest.mark.browser


def _scans(server: LiveServer) -> int:
    with get_db(server.app).read() as s:
        return int(s.execute(select(func.count()).select_from(Scan)).scalar_one())


def test_scans_reach_the_act_wherever_the_focus_is(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    f = ActFactory(number="ТА-FOCUS", pallets=1, boxes=2, blocks=2, packs=2)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    log_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/acts/{act_id}")
    page.get_by_role("heading", name="ТА-FOCUS").click()  # the focus leaves the scan field
    type_at(page, "h1", f.codes["box"][0])
    expect(page.locator("#result")).to_contain_text("Counted", timeout=10_000)
    assert _scans(live_server) == 1

    # a text field of its own keeps its keys (the language switch is a button: use the page's search box
    # if there is one, else one the test adds, as a comment field would be)
    page.evaluate("""() => { const i = document.createElement('input'); i.id = 'note'; i.type = 'text';
                            document.querySelector('main').prepend(i); }""")
    page.locator("#note").focus()
    page.keyboard.type("note 12")
    page.keyboard.press("Enter")
    expect(page.locator("#note")).to_have_value("note 12")
    page.wait_for_timeout(300)
    assert _scans(live_server) == 1

    # back outside any text field, the next scan is recorded too
    page.get_by_role("heading", name="ТА-FOCUS").click()
    type_at(page, "h1", f.codes["box"][1])
    expect(page.locator("#result")).to_contain_text(f.codes["box"][1], timeout=10_000)
    assert _scans(live_server) == 2

    # the session ends (logged out in another tab): the next scan says it was refused, with the buzz
    other = page.context.new_page()
    other.goto(live_server.url + "/acts")
    other.get_by_role("button", name="Log out").click()
    type_at(page, "h1", f.codes["pallet"][0])
    expect(page.locator("#result")).to_contain_text("Nothing was changed.", timeout=10_000)  # and why
    expect(page.locator("body")).to_have_attribute("data-last-sound", "error")
    assert page.url.endswith(f"/acts/{act_id}") and _scans(live_server) == 2
