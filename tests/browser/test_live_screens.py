"""In Chromium, two windows of one act: staff scanning (with the focus taken away from the scan field) and
an office window. Every change of state reaches both live (issue 16, item 7): the mode a command code sets,
the box opened and what is left in it, the act complete ("ready for the lead"), receiving ended.
Screenshots of the journey are kept in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_receiving_flow import log_in
from tests.browser.wedge import type_at
from tests.conftest import LiveServer, make_app
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.services import importing

pytestmark = pytest.mark.browser

LIVE_MS = 5_000


def _scan(page: Page, code: str) -> None:
    """The scanner types while the focus is on the heading, not in the scan field."""
    page.get_by_role("heading", level=1).click()
    type_at(page, "h1", code)


def _short(code: str) -> str:
    return code[-8:]  # a box's SSCC ends in its own digits; enough to tell two boxes apart


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The app served over HTTP on each database (on PostgreSQL the screens hear scans through NOTIFY)."""
    app = make_app(db_url, tmp_path)
    live = LiveServer(app)
    yield live
    live.stop()
    get_db(app).dispose()


def test_every_state_change_reaches_every_window(
    browser: Browser, server: LiveServer, artifacts: Path, tmp_path: Path, db_url: str
) -> None:
    live_server = server
    kind = "pg" if db_url.startswith("postgresql") else "sqlite"
    # one pallet of two boxes, each of two blocks of two packs
    f = ActFactory(number="ТА-LIVE", pallets=1, boxes=2, blocks=2, packs=2)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    staff = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    office = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    log_in(staff, live_server.url, "staff")
    log_in(office, live_server.url, "lead")
    for page in (staff, office):
        page.goto(f"{live_server.url}/acts/{act_id}")
        expect(page.locator(".act-head .mode")).to_have_text("Trusted mode")
    office.wait_for_timeout(500)  # let the SSE connections open
    box0, box1 = f.codes["box"]
    blocks, packs = f.codes["block"], f.codes["pack"]

    # trusted mode, OPEN then a box: the box is opened, and its progress stays with the next banners
    _scan(staff, "#WH:OPEN")
    expect(staff.locator("#result")).to_contain_text("will be opened", timeout=LIVE_MS)
    _scan(staff, box0)
    expect(staff.locator("#result")).to_contain_text("scan its contents", timeout=LIVE_MS)
    _scan(staff, blocks[0])
    expect(staff.locator("#result")).to_contain_text("Counted: block", timeout=LIVE_MS)
    for page in (staff, office):
        opened = page.locator("#open-aggregate")
        expect(opened).to_contain_text(_short(box0), timeout=LIVE_MS)
        expect(opened.locator("[data-testid=open-block]")).to_have_text("1 / 2", timeout=LIVE_MS)
        expect(opened.locator("[data-testid=open-pack]")).to_have_text("2 / 4")
    staff.screenshot(path=str(artifacts / f"live-{kind}-1-box-opened-staff.png"), full_page=True)

    # a mode switch by command code: both headers say it
    _scan(staff, "#WH:FULL_CHECK")
    expect(staff.locator("#result")).to_contain_text("Full check", timeout=LIVE_MS)
    for page in (staff, office):
        expect(page.locator(".act-head .mode")).to_have_text("Full check", timeout=LIVE_MS)
    expect(office.locator("#open-aggregate")).to_contain_text(_short(box0))  # a command opens nothing

    # full check opens the next block: it is what is shown until it is complete; then its box is complete
    _scan(staff, blocks[1])
    for page in (staff, office):
        expect(page.locator("#open-aggregate [data-testid=open-pack]")).to_have_text("0 / 2", timeout=LIVE_MS)
    _scan(staff, packs[2])
    expect(staff.locator("#result")).to_contain_text("Counted: pack", timeout=LIVE_MS)
    expect(office.locator("#open-aggregate [data-testid=open-pack]")).to_have_text("1 / 2", timeout=LIVE_MS)
    _scan(staff, packs[3])
    for page in (staff, office):
        expect(page.locator("#open-aggregate")).to_contain_text("all counted", timeout=LIVE_MS)
        expect(page.locator("#complete")).to_have_count(0)  # the other box is still to come
    office.screenshot(path=str(artifacts / f"live-{kind}-2-full-check-office.png"), full_page=True)

    # back to trusted, the last box whole: every counter reaches N/N and both windows say the act is complete
    _scan(staff, "#WH:TRUSTED")
    expect(office.locator(".act-head .mode")).to_have_text("Trusted mode", timeout=LIVE_MS)
    _scan(staff, box1)
    for page in (staff, office):
        expect(page.locator("#complete")).to_contain_text("Complete — ready for the lead", timeout=LIVE_MS)
        expect(page.locator("[data-testid=outstanding-pack]")).to_have_text("0")
    staff.screenshot(path=str(artifacts / f"live-{kind}-3-complete-staff.png"), full_page=True)
    office.screenshot(path=str(artifacts / f"live-{kind}-3-complete-office.png"), full_page=True)

    # receiving ended by command code: both headers say so and no longer offer to end it
    _scan(staff, "#WH:CLOSE")
    for page in (staff, office):
        expect(page.locator(".act-head .status")).to_have_text("Awaiting decision", timeout=LIVE_MS)
        expect(page.get_by_role("button", name="End receiving")).to_have_count(0)
        expect(page.locator("#open-aggregate")).to_have_count(0)  # nothing is open once receiving ended
    office.screenshot(path=str(artifacts / f"live-{kind}-4-closed-office.png"), full_page=True)
