"""Signing the lead's decision with NCALayer in Chromium: static/js/ncalayer.js talks to a stand-in for
NCALayer that signs with the public NCA RSA test key; the station verifies each CMS before storing it.
Also what the lead sees when NCALayer is not running, or when the signing is cancelled in its window."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from flask import Flask
from playwright.sync_api import Browser, expect

from tests.browser.fake_ncalayer import FakeNcaLayer
from tests.browser.test_receiving_flow import log_in
from tests.conftest import LiveServer
from tests.signing.conftest import decided_act, signing_app
from tests.signing.pki import NCA_PASSWORD, RSA_KEY
from warehouse.factory import get_db
from warehouse.services import signing
from warehouse.signing.trust import load_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def signing_server(tmp_path: Path) -> Iterator[LiveServer]:
    application: Flask = signing_app(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}", tmp_path)
    server = LiveServer(application)
    yield server
    server.stop()
    get_db(application).dispose()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_sign_the_decision_with_ncalayer(browser: Browser, signing_server: LiveServer, tmp_path: Path,
                                         artifacts: Path) -> None:
    app = signing_server.app
    db = get_db(app)
    act_id, _f = decided_act(app, tmp_path)
    layer = FakeNcaLayer(RSA_KEY.read_bytes(), NCA_PASSWORD)
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, signing_server.url, "lead")
        sign_url = f"{signing_server.url}/acts/{act_id}/sign"
        button = page.get_by_role("button", name="Sign with NCALayer")
        status = page.locator("#ncalayer-status")

        app.config["NCALAYER_URL"] = f"ws://127.0.0.1:{_closed_port()}"  # NCALayer is not running
        page.goto(sign_url)
        button.click()
        expect(status).to_have_text("NCALayer does not answer. Start NCALayer and try again.")
        expect(button).to_be_enabled()

        app.config["NCALAYER_URL"] = layer.url
        page.goto(sign_url)
        layer.answer = "cancel"  # the lead closes NCALayer's window
        button.click()
        expect(status).to_have_text("Signing was cancelled in NCALayer.")
        assert signing.documents(db, act_id) == []

        layer.answer = "sign"
        button.click()
        expect(page.get_by_text("The decision is signed.")).to_be_visible()
        page.screenshot(path=str(artifacts / "signed-with-ncalayer.png"), full_page=True)
        stored = signing.documents(db, act_id)
        certificate = layer.signer.certificate.fingerprint(hashes.SHA256()).hex()
        assert len(stored) == 1 and stored[0].cert_sha256 == certificate
        asked = layer.requests[-1]
        assert asked["module"] == "kz.gov.pki.knca.commonUtils" and asked["method"] == "createCAdESFromBase64"
        assert asked["args"][:2] == ["PKCS12", "SIGNATURE"] and asked["args"][3] is False  # detached CMS
        verified = signing.verify(load_settings(app.config), stored[0].content, stored[0].signature)
        assert verified.valid, verified.problems
    finally:
        layer.close()
        page.context.close()


@pytest.fixture
def wholesaler_server(tmp_path: Path) -> Iterator[LiveServer]:
    from tests.shipping.conftest import WHOLESALER_BIN, station_app

    application = station_app(f"sqlite:///{tmp_path / 'wholesaler.sqlite3'}", tmp_path / "wholesaler",
                              COMPANY_NAME="ТОО «Опт & Ко»", COMPANY_BIN=WHOLESALER_BIN)
    server = LiveServer(application)
    yield server
    server.stop()
    get_db(application).dispose()


def test_build_and_sign_an_outgoing_act_in_the_browser(browser: Browser, wholesaler_server: LiveServer,
                                                       tmp_path: Path, artifacts: Path) -> None:
    """A wholesaler's lead makes a new act, scans a box and a block of another box through the scan
    field under a Russian layout, sees each answer, and signs the act with NCALayer."""
    from tests.browser.test_receiving_flow import russian_keystrokes
    from tests.shipping.conftest import SHOP_BIN, stocked
    from warehouse.services import shipping

    app = wholesaler_server.app
    db = get_db(app)
    f = stocked(db, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    layer = FakeNcaLayer(RSA_KEY.read_bytes(), NCA_PASSWORD)
    app.config["NCALAYER_URL"] = layer.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        log_in(page, wholesaler_server.url, "lead")
        page.goto(f"{wholesaler_server.url}/ship/new")
        page.get_by_label("Receiver's БИН/ИИН (12 digits)").fill(SHOP_BIN)
        page.get_by_label("Receiver's name").fill("ТОО \"Магазин <1>\"")
        page.get_by_role("button", name="Create the act").click()
        expect(page.get_by_role("heading", name=re.compile("Outgoing act"))).to_be_visible()
        act_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

        field = page.get_by_label("Scan what ships: a pallet, a box, a block or a pack")

        def scan_with_wedge(code: str) -> None:
            field.focus()
            page.evaluate("""(keys) => { const field = document.getElementById('scan-field');
                for (const k of keys) for (const type of ['keydown', 'keyup'])
                    field.dispatchEvent(new KeyboardEvent(type, {...k, bubbles: true, cancelable: true})); }""",
                          russian_keystrokes(code))

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
        layer.close()
        page.context.close()
