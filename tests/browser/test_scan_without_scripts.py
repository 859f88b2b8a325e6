"""In Chromium with JavaScript off: the scan forms of the receiving and outgoing screens follow
Post/Redirect/Get (issue 16: never lose a scan, never record one twice). A scan posted by the plain form is
answered with a redirect to the screen, which shows that scan's banner (receiving: the journal row's, named
in the address, so a reload shows it again; outgoing: told once, as its refusals are not journaled);
reloading the page reloads the screen, it does not post the scan again.

One server, one browser context for the module; each test imports its own small act.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from tests.conftest import LiveServer
from tests.factories import ActFactory, gtin, pack
from tests.shipping.conftest import SHOP_BIN, stocked, wholesaler_app
from warehouse.db import get_db
from warehouse.models import AuditEntry, Scan
from warehouse.services import importing, shipping

pytestmark = pytest.mark.browser
HOSTILE = "<img/src=x/onerror=alert(1)>&\"'"  # codes may hold any of < > & " ': shown as typed, never markup


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("prg")
    application = wholesaler_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    yield application
    get_db(application).dispose()


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[LiveServer]:
    live = LiveServer(app)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def no_scripts(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill("lead")
    page.get_by_label("Password", exact=True).fill("lead")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Acts")).to_be_visible()
    yield page
    context.close()


def _journal(app: Flask, act_id: int) -> int:
    with get_db(app).read() as s:
        return int(s.execute(select(func.count()).select_from(Scan).where(Scan.act_id == act_id)).scalar_one())


def test_a_receiving_scan_survives_a_reload(no_scripts: Page, server: LiveServer, app: Flask, tmp_path: Path) -> None:
    page = no_scripts
    f = ActFactory(number="ТА-PRG", start=40_000, pallets=1, boxes=1, blocks=1, packs=2)
    act_id = importing.import_act(get_db(app), f.write(tmp_path / "act.json")).act_id
    page.goto(f"{server.url}/acts/{act_id}")
    page.locator("#scan-field").fill(f.codes["pack"][0])
    page.locator("#scan-field").press("Enter")
    banner = page.locator("#result [data-class=matched]")
    expect(banner).to_be_visible()
    assert "?scan=" in page.url
    page.reload()
    expect(banner).to_be_visible()  # the banner is the journal row's, shown again
    expect(page.get_by_test_id("credited-pack")).to_have_text("1")
    assert _journal(app, act_id) == 1

    # a code of any characters: its banner shows it as typed, and is no markup
    page.locator("#scan-field").fill(HOSTILE)
    page.locator("#scan-field").press("Enter")
    expect(page.locator("#result [data-class=invalid]")).to_be_visible()
    page.reload()
    expect(page.locator("#result [data-class=invalid]")).to_be_visible()
    expect(page.locator("#journal")).to_contain_text(HOSTILE)
    expect(page.locator("main img[src=x]")).to_have_count(0)
    assert _journal(app, act_id) == 2

    # a refusal is said on the screen, in the reader's language: an empty scan records nothing
    page.locator("#scan-field").fill("   ")
    page.locator("#scan-field").press("Enter")
    expect(page.locator(".flash-error")).to_be_visible()
    assert "?scan=" not in page.url and _journal(app, act_id) == 2

    # another act's scan id shows nothing here
    other = ActFactory(number="ТА-PRG2", start=41_000, pallets=1, boxes=1, blocks=1, packs=1)
    other_id = importing.import_act(get_db(app), other.write(tmp_path / "other.json")).act_id
    with get_db(app).read() as s:
        last = s.execute(select(func.max(Scan.id)).where(Scan.act_id == act_id)).scalar_one()
    page.goto(f"{server.url}/acts/{other_id}?scan={last}")
    expect(page.locator("#result .banner")).to_have_count(0)
    page.goto(f"{server.url}/acts/{other_id}?scan=junk")
    expect(page.locator("#result .banner")).to_have_count(0)


def test_an_outgoing_scan_survives_a_reload(no_scripts: Page, server: LiveServer, app: Flask, tmp_path: Path) -> None:
    page = no_scripts
    db = get_db(app)
    in_stock = stocked(db, tmp_path, number="ПР-PRG", start=50_000, pallets=1, boxes=1, blocks=1, packs=1)
    sender = shipping.company(app.config)
    act = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="ТОО «Магазин»", sender=sender)
    page.goto(f"{server.url}/ship/{act.id}")
    page.locator("#scan-field").fill(in_stock.codes["pallet"][0])
    page.locator("#scan-field").press("Enter")
    expect(page.locator("#result [data-class=added]")).to_be_visible()
    assert page.url.endswith(f"/ship/{act.id}")
    page.reload()  # not posted again: no "already on this act"
    expect(page.locator("#result .banner")).to_have_count(0)
    with db.read() as s:
        added = s.execute(
            select(func.count()).where(AuditEntry.act_id == act.id, AuditEntry.action == "act.code_added")
        ).scalar_one()
    assert added == 1
    page.locator("#scan-field").fill(pack(gtin(1001), "<&\"'>x1"))
    page.locator("#scan-field").press("Enter")
    expect(page.locator("#result [data-class=refused]")).to_be_visible()
    expect(page.locator("#result")).to_contain_text("<&\"'>x1")
