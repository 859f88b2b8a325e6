"""In Chromium: a wholesaler's lead makes an outgoing act, scans what ships through the scan field under a
Russian keyboard layout (each answer shown, a refusal too), and signs the act with NCALayer (a fake
speaking its protocol, signing with the public NCA RSA test key)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_receiving_flow import log_in, russian_keystrokes
from tests.conftest import LiveServer
from tests.shipping.conftest import SHOP_BIN, settings, signer, stocked, wholesaler_app
from tests.signing.fake_ncalayer import FakeNcaLayer
from warehouse.db import get_db
from warehouse.services import shipping, stock

pytestmark = pytest.mark.browser


@pytest.fixture
def wholesaler_server(layer: FakeNcaLayer, tmp_path: Path) -> Iterator[LiveServer]:
    application = wholesaler_app(f"sqlite:///{tmp_path / 'wholesaler.sqlite3'}", tmp_path, NCALAYER_URL=layer.url)
    server = LiveServer(application)
    yield server
    server.stop()
    get_db(application).dispose()


def test_build_and_sign_an_outgoing_act(
    browser: Browser, wholesaler_server: LiveServer, layer: FakeNcaLayer, tmp_path: Path, artifacts: Path
) -> None:
    db = get_db(wholesaler_server.app)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, wholesaler_server.url, "lead")
        page.goto(f"{wholesaler_server.url}/ship/new")
        page.get_by_label("Receiver's БИН/ИИН (12 digits)").fill(SHOP_BIN)
        page.get_by_label("Receiver's name").fill('ТОО "Магазин <1>"')
        page.get_by_role("button", name="Create the act").click()
        expect(page.get_by_role("heading", name=re.compile("Outgoing act"))).to_be_visible()
        act_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        field = page.get_by_label("Scan what ships: a pallet, a box, a block or a pack")

        def scan_with_wedge(code: str) -> None:
            field.focus()
            page.evaluate(
                """(keys) => { const field = document.getElementById('scan-field');
                for (const k of keys) for (const type of ['keydown', 'keyup'])
                    field.dispatchEvent(new KeyboardEvent(type, {...k, bubbles: true, cancelable: true})); }""",
                russian_keystrokes(code),
            )

        result = page.get_by_test_id("ship-result")
        scan_with_wedge(f.codes["box"][0])  # inside a whole pallet in stock: refused, and the page says why
        expect(result).to_have_attribute("data-sound", "error")
        expect(result).to_contain_text(f.codes["pallet"][0])
        scan_with_wedge(f.codes["pallet"][0])
        expect(result).to_have_attribute("data-sound", "ok")
        expect(page.locator("#totals")).to_contain_text("15")  # 1 pallet, 2 boxes, 4 blocks, 8 packs
        scan_with_wedge(f.codes["pallet"][0])  # again: already on this act
        expect(result).to_have_attribute("data-sound", "error")
        assert shipping.act_summary(db, act_id).totals.codes == 1 + 2 + 4 + 8
        page.screenshot(path=str(artifacts / "outgoing-act.png"), full_page=True)

        page.get_by_role("link", name="Sign the act").click()
        page.get_by_role("button", name="Sign with NCALayer").click()
        expect(page.get_by_text("The act is signed: its codes have left the stock.")).to_be_visible()
        assert shipping.act_summary(db, act_id).act.status == "signed"
        assert layer.requests and all(r["method"] == "createCAdESFromBase64" for r in layer.requests)
    finally:
        page.context.close()


def test_a_second_window_of_the_draft_follows_live(
    browser: Browser, wholesaler_server: LiveServer, tmp_path: Path
) -> None:
    """A code added in one window appears in another window of the same act: no reload, no polling."""
    db = get_db(wholesaler_server.app)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    sender = shipping.company(wholesaler_server.app.config)
    draft = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=sender)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        first, second = context.new_page(), context.new_page()
        log_in(first, wholesaler_server.url, "lead")
        url = f"{wholesaler_server.url}/ship/{draft.id}"
        requests: list[str] = []
        second.on("request", lambda r: requests.append(r.url))
        second.goto(url)
        first.goto(url)
        expect(second.locator("#prices")).to_contain_text("Nothing on the act yet")
        second.wait_for_load_state("networkidle")  # (the SSE stream does not count: it is one long request)
        loaded = len(requests)

        first.get_by_label("Scan what ships: a pallet, a box, a block or a pack").focus()
        first.evaluate(
            """(keys) => { const field = document.getElementById('scan-field');
            for (const k of keys) for (const type of ['keydown', 'keyup'])
                field.dispatchEvent(new KeyboardEvent(type, {...k, bubbles: true, cancelable: true})); }""",
            russian_keystrokes(f.codes["pallet"][0]),
        )
        expect(first.get_by_test_id("ship-result")).to_have_attribute("data-sound", "ok")

        expect(second.locator("#totals")).to_contain_text("15")  # 1 pallet, 2 boxes, 4 blocks, 8 packs
        expect(second.get_by_role("heading", name="Scanned onto the act")).to_be_visible()
        assert f.codes["pallet"][0] in second.locator("main").inner_text()
        assert requests[loaded:] == []  # the second window asked for nothing: the stream brought it

        shipping.sign(db, draft.id, signer(), settings=settings(wholesaler_server.app))  # signed elsewhere
        expect(second.get_by_test_id("ship-status")).to_have_text("Signed")
        expect(second.get_by_label("Scan what ships: a pallet, a box, a block or a pack")).to_have_count(0)
    finally:
        context.close()


def test_a_price_typed_and_not_saved_survives_live_updates(
    browser: Browser, wholesaler_server: LiveServer, tmp_path: Path
) -> None:
    """Codes scanned elsewhere re-render the totals while the lead types a price: what is typed stays."""
    db = get_db(wholesaler_server.app)
    f = stocked(db, tmp_path, pallets=1, boxes=3, blocks=2, packs=2)
    sender = shipping.company(wholesaler_server.app.config)
    draft = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=sender)
    assert shipping.add_code(db, draft.id, f.codes["box"][0]).added is False  # inside the whole pallet
    stock.open_aggregate(db, f.codes["pallet"][0])  # its boxes are loose now: each can be put on the act
    assert shipping.add_code(db, draft.id, f.codes["box"][0]).added
    gtin = f.codes["block"][0][2:16]
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, wholesaler_server.url, "lead")
        page.goto(f"{wholesaler_server.url}/ship/{draft.id}")
        price = page.get_by_label(f"Price {gtin} Block")
        price.click()
        price.press_sequentially("1234,5")  # typed, not saved
        for n, box in enumerate(f.codes["box"][1:], start=2):  # another station scans: two live updates
            assert shipping.add_code(db, draft.id, box).added
            expect(page.get_by_test_id("ship-count-box")).to_have_text(str(n))
        expect(price).to_have_value("1234,5")
        expect(price).to_be_focused()
    finally:
        page.context.close()


def test_a_price_being_typed_survives_the_live_totals(
    browser: Browser, wholesaler_server: LiveServer, tmp_path: Path
) -> None:
    """Issue 16, item 9: a scan at another window re-renders the totals; the price typed and not yet saved
    stays in its field, and saving it then keeps it."""
    db = get_db(wholesaler_server.app)
    f = stocked(db, tmp_path, pallets=2, boxes=2, blocks=2, packs=2)
    sender = shipping.company(wholesaler_server.app.config)
    draft = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=sender)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        scanner, office = context.new_page(), context.new_page()
        log_in(scanner, wholesaler_server.url, "lead")
        url = f"{wholesaler_server.url}/ship/{draft.id}"
        scanner.goto(url)
        office.goto(url)

        def scan(code: str) -> None:
            scanner.get_by_label("Scan what ships: a pallet, a box, a block or a pack").focus()
            scanner.evaluate(
                """(keys) => { const field = document.getElementById('scan-field');
                for (const k of keys) for (const type of ['keydown', 'keyup'])
                    field.dispatchEvent(new KeyboardEvent(type, {...k, bubbles: true, cancelable: true})); }""",
                russian_keystrokes(code),
            )
            expect(scanner.get_by_test_id("ship-result")).to_have_attribute("data-sound", "ok")

        scan(f.codes["pallet"][0])
        expect(office.get_by_test_id("ship-codes")).to_have_text("15")
        price = office.locator("input[name$=':block']").first
        price.fill("123.45")  # typed, not saved
        scan(f.codes["pallet"][1])
        expect(office.get_by_test_id("ship-codes")).to_have_text("30")  # the totals did re-render
        expect(price).to_have_value("123.45")
        office.get_by_role("button", name="Save prices").click()
        expect(office.get_by_test_id("prices-saved")).to_be_visible()
        expect(office.locator("input[name$=':block']").first).to_have_value("123.45")
        assert any(g.block_price == 12345 for g in shipping.act_summary(db, draft.id).totals.by_gtin), (
            "the price typed was saved"
        )
    finally:
        context.close()
