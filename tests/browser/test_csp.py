"""The pages work under the Content-Security-Policy: no inline script or style refused on the way through
login, the act list, the import page, the receiving screen (scan, live stream, confirmation), stock."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.browser.test_receiving_flow import log_in, scan_with_wedge
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.services import importing

pytestmark = pytest.mark.browser


def test_pages_work_under_the_csp(browser: Browser, live_server: LiveServer, tmp_path: object) -> None:
    from pathlib import Path

    f = ActFactory(number="ТА-CSP-1", pallets=1, boxes=1, blocks=2, packs=2)
    act_id = importing.import_act(get_db(live_server.app), f.write(Path(str(tmp_path)) / "a.json")).act_id
    page = browser.new_context().new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if _is_csp(m) else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('CSP violation ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    log_in(page, live_server.url, "staff")
    for path in ("/acts", "/acts/import", "/stock"):
        page.goto(live_server.url + path)
    page.goto(f"{live_server.url}/acts/{act_id}")
    page.wait_for_timeout(300)
    scan_with_wedge(page, f.codes["block"][0])
    expect(page.locator("#result")).to_contain_text("Counted", timeout=10_000)
    expect(page.locator("#journal tr.scan-matched")).to_have_count(1, timeout=5_000)  # through the live stream
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="End receiving").click()
    page.wait_for_timeout(300)
    assert asked, "the confirmation moved to static/js/page.js did not ask"
    expect(page.get_by_role("button", name="End receiving")).to_be_visible()  # dismissed: nothing ended
    assert refused == []


def _is_csp(message: ConsoleMessage) -> bool:
    return "Content Security Policy" in message.text or "CSP violation" in message.text
