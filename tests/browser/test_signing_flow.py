"""Signing the lead's decision with NCALayer in Chromium: static/js/ncalayer.js talks to a stand-in for
NCALayer that signs with the public NCA RSA test key; the station verifies each CMS before storing it.
Also what the lead sees when NCALayer is not running, or when the signing is cancelled in its window."""

from __future__ import annotations

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
