"""In Chromium: a wholesaler's lead makes an outgoing act, scans what ships through the scan field under a
Russian keyboard layout (each answer shown, a refusal too), and signs the act with NCALayer (a fake
speaking its protocol, signing with the public NCA RSA test key)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_receiving_flow import log_in
from tests.browser.wedge import scan_into
from tests.conftest import LiveServer
from tests.shipping.conftest import SHOP_BIN, settings, signer, stocked, wholesaler_app
from tests.signing.fake_ncalayer import FakeNcaLayer
from warehouse import transfer_act
from warehouse.db import get_db
from warehouse.models import StockStatus
from warehouse.services import shipping, stock
from warehouse.signing import cms

pytestmark = pytest.mark.browser

SCAN_FIELD = "Scan what ships: a pallet, a box, a block or a pack"


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
        page.get_by_label("Receiver's BIN/IIN (12 digits)").fill(SHOP_BIN)
        page.get_by_label("Receiver's name").fill('ТОО "Магазин <1>"')
        page.get_by_role("button", name="Create the act").click()
        expect(page.get_by_role("heading", name=re.compile("Outgoing act"))).to_be_visible()
        act_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

        def scan_with_wedge(code: str) -> None:
            scan_into(page, SCAN_FIELD, code)

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

        scan_into(first, SCAN_FIELD, f.codes["pallet"][0])
        expect(first.get_by_test_id("ship-result")).to_have_attribute("data-sound", "ok")

        expect(second.locator("#totals")).to_contain_text("15")  # 1 pallet, 2 boxes, 4 blocks, 8 packs
        expect(second.get_by_role("heading", name="Scanned onto the act")).to_be_visible()
        assert f.codes["pallet"][0] in second.locator("main").inner_text()
        assert requests[loaded:] == []  # the second window asked for nothing: the stream brought it

        shipping.sign(db, draft.id, signer(), settings=settings(wholesaler_server.app))  # signed elsewhere
        expect(second.get_by_test_id("ship-status")).to_have_text("Signed")
        expect(second.get_by_label(SCAN_FIELD)).to_have_count(0)
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
    f = stocked(db, tmp_path, pallets=3, boxes=2, blocks=2, packs=2)
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
            scan_into(scanner, SCAN_FIELD, code)
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
        # The save announces itself to every window, this one too, and so does the next scan: a live update
        # must not take away the notice the save answered with (CI saw it vanish when the save's own update
        # came in after the answer).
        scan(f.codes["pallet"][2])
        expect(office.get_by_test_id("ship-codes")).to_have_text("45")
        expect(office.get_by_test_id("prices-saved")).to_be_visible()
        expect(office.locator("input[name$=':block']").first).to_have_value("123.45")
        assert any(g.block_price == 12345 for g in shipping.act_summary(db, draft.id).totals.by_gtin), (
            "the price typed was saved"
        )
    finally:
        context.close()


def _codes_in(products: list[dict[str, object]]) -> set[str]:
    """Every code of a transfer-act/1 product tree."""
    out: set[str] = set()
    for item in products:
        out.add(str(item["code"]))
        out |= _codes_in(item.get("children", []))  # type: ignore[arg-type]
    return out


def test_the_outgoing_journey_by_scanner_and_keyboard(
    browser: Browser, wholesaler_server: LiveServer, layer: FakeNcaLayer, tmp_path: Path, artifacts: Path
) -> None:
    """Issue 16, item 9: the wholesaler's outgoing act from stock to the signed export, with the scanner and
    the keyboard alone until signing: codes taken off by command codes and by Tab and Enter, a price saved
    with Enter; then every download opened and checked against what was scanned."""
    db = get_db(wholesaler_server.app)
    f = stocked(db, tmp_path, pallets=3, boxes=2, blocks=2, packs=2)
    first, second, third = f.codes["pallet"]
    page = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True).new_page()
    try:
        log_in(page, wholesaler_server.url, "lead")
        page.goto(f"{wholesaler_server.url}/ship/new")
        page.get_by_label("Receiver's BIN/IIN (12 digits)").fill(SHOP_BIN)
        page.get_by_label("Receiver's name").fill("ТОО «Магазин»")
        page.get_by_label("Receiver's name").press("Enter")
        expect(page.get_by_role("heading", name=re.compile("Outgoing act"))).to_be_visible()
        act_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        result, count = page.get_by_test_id("ship-result"), page.get_by_test_id("ship-codes")

        for n, pallet in enumerate((first, second, third), start=1):
            scan_into(page, SCAN_FIELD, pallet)
            expect(count).to_have_text(str(15 * n))  # a pallet, 2 boxes, 4 blocks, 8 packs
        scan_into(page, SCAN_FIELD, "#WH:REMOVE_LAST")  # the scanner alone takes the last code off
        expect(count).to_have_text("30")
        expect(page.get_by_test_id("last-scanned")).to_contain_text(second)
        scan_into(page, SCAN_FIELD, "#WH:REMOVE_NEXT")  # ... and the next code scanned
        expect(result).to_contain_text("The next code scanned will be taken off the act")
        scan_into(page, SCAN_FIELD, first)
        expect(count).to_have_text("15")

        # Tab from the scan field to the code's Take off button, Enter: off, and the focus is back to scan.
        scan_into(page, SCAN_FIELD, third)
        expect(count).to_have_text("30")
        page.get_by_label(SCAN_FIELD).focus()
        take_off = page.get_by_role("button", name=f"Take off the act: {third}")
        for _ in range(30):
            page.keyboard.press("Tab")
            if take_off.evaluate("(b) => b === document.activeElement"):
                break
        else:
            raise AssertionError("Tab never reached the code's Take off button")
        page.keyboard.press("Enter")
        expect(count).to_have_text("15")
        expect(page.get_by_label(SCAN_FIELD)).to_be_focused()

        gtin = f.codes["block"][0][2:16]
        price = page.get_by_label(f"Price {gtin} Block")
        price.click()
        price.press_sequentially("1120,50")
        price.press("Enter")  # Enter in a price field saves
        expect(page.get_by_test_id("prices-saved")).to_be_visible()
        page.screenshot(path=str(artifacts / "outgoing-journey-draft.png"), full_page=True)

        page.get_by_role("link", name="Sign the act").click()
        page.get_by_role("button", name="Sign with NCALayer").click()
        expect(page.get_by_text("The act is signed: its codes have left the stock.")).to_be_visible()
        page.goto(f"{wholesaler_server.url}/ship/{act_id}")
        files: dict[str, bytes] = {}
        for fmt in ("json", "p7s", "csv", "xlsx"):
            with page.expect_download() as download:
                page.get_by_role("link", name=fmt, exact=True).click()
            files[fmt] = Path(download.value.path()).read_bytes()
            assert download.value.suggested_filename.endswith("." + fmt)
        page.screenshot(path=str(artifacts / "outgoing-journey-signed.png"), full_page=True)
    finally:
        page.context.close()

    # The act as sent: the one pallet left on it, whole, with the price typed; the signature is over it.
    received = json.loads((tmp_path / f"in-{f.number}.json").read_text(encoding="utf-8"))
    tree = _codes_in([p for p in received["products"] if p["code"] == second])
    document = json.loads(files["json"])
    assert document["format"] == "transfer-act/1" and document["receiver"]["bin"] == SHOP_BIN
    assert _codes_in(document["products"]) == tree
    blocks = [b for p in document["products"] for x in p["children"] for b in x["children"] if b["gtin"] == gtin]
    assert blocks and {b.get("price") for b in blocks} == {112_050}, blocks
    check = cms.verify_detached(files["json"], files["p7s"])
    assert not {"content_mismatch", "bad_signature", "not_cms"} & set(check.problems), check.problems
    assert "content_mismatch" in cms.verify_detached(files["json"] + b" ", files["p7s"]).problems
    for fmt in ("csv", "xlsx"):  # each opened as a receiver's station would: the same codes, GS and all
        path = tmp_path / f"sent.{fmt}"
        path.write_bytes(files[fmt])
        reader = transfer_act.read_act(path)
        assert {line.code for line in reader.lines()} == tree and not reader.problems, (fmt, reader.problems)
    sheet = openpyxl.load_workbook(io.BytesIO(files["xlsx"]), read_only=True).worksheets[0]
    assert second in {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert shipping.act_summary(db, act_id).act.status == "sent"
    with db.read() as s:
        shipped = stock.find(s, second)
        back = stock.find(s, third)
    assert shipped is not None and shipped.row.status == StockStatus.SHIPPED
    assert back is not None and back.row.status == StockStatus.IN_STOCK  # taken off: in stock again
