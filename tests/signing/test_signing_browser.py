"""In Chromium: the sign page talks to NCALayer (a fake speaking its protocol) and the server stores
the CMS only after verifying it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.conftest import LiveServer
from tests.signing.conftest import decided_act, signing_app
from tests.signing.fake_ncalayer import FakeNcaLayer
from tests.signing.pki import PASSWORD, minted
from warehouse.db import get_db
from warehouse.services import signing as service

pytestmark = pytest.mark.browser


@pytest.fixture
def server(layer: FakeNcaLayer, tmp_path: Path) -> Iterator[LiveServer]:
    app = signing_app(f"sqlite:///{tmp_path / 'w.sqlite3'}", tmp_path, NCALAYER_URL=layer.url)
    live = LiveServer(app)
    yield live
    live.stop()
    get_db(app).dispose()


def _login(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill("lead")
    page.get_by_label("Password", exact=True).fill("lead")
    page.get_by_role("button", name="Log in", exact=True).click()


def test_sign_with_ncalayer(
    page: Page, server: LiveServer, layer: FakeNcaLayer, tmp_path: Path, artifacts: Path
) -> None:
    act_id, _f = decided_act(server.app, tmp_path)
    _login(page, server, f"/acts/{act_id}/sign")
    expect(page.get_by_role("heading", name="Sign with NCALayer")).to_be_visible()
    page.screenshot(path=str(artifacts / "signing-page-en.png"), full_page=True)
    button = page.get_by_role("button", name="Sign with NCALayer")

    # NCALayer is not running: the page says so and the button works again.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = f"ws://127.0.0.1:{probe.getsockname()[1]}"
    server.app.config["NCALAYER_URL"] = closed
    page.reload()
    button.click()
    expect(page.locator("#ncalayer-status")).to_have_text("NCALayer does not answer. Start NCALayer and try again.")
    expect(button).to_be_enabled()
    server.app.config["NCALAYER_URL"] = layer.url
    page.reload()

    # The person closes NCALayer's window: told so, nothing stored, the button works again.
    layer.cancel = True
    button.click()
    expect(page.locator("#ncalayer-status")).to_have_text("Signing was cancelled in NCALayer.")
    expect(button).to_be_enabled()
    assert service.documents(get_db(server.app), act_id) == []

    layer.cancel = False
    button.click()
    expect(page).to_have_url(f"{server.url}/acts/{act_id}/signed")
    expect(page.get_by_test_id("verify-result")).to_have_text("The signature is valid.")
    page.screenshot(path=str(artifacts / "signing-ncalayer-en.png"), full_page=True)
    assert len(layer.requests) == 2
    [doc] = service.documents(get_db(server.app), act_id)
    assert doc.signer_iin == "123456789011"


def test_sign_with_a_key_file(page: Page, server: LiveServer, tmp_path: Path) -> None:
    act_id, _f = decided_act(server.app, tmp_path)
    _login(page, server, f"/acts/{act_id}/sign")
    page.get_by_label("Key file (.p12)").set_input_files(str(minted().sign_key))
    page.get_by_label("Key password").fill(PASSWORD)
    page.get_by_role("button", name="Show the certificate").click()
    expect(page.get_by_test_id("cert-name")).to_have_text("ТЕСТОВ ТЕСТ ТЕСТОВИЧ")
    expect(page.get_by_test_id("cert-iin")).to_have_text("123456789011")
    page.get_by_test_id("sign-key").click()
    expect(page).to_have_url(f"{server.url}/acts/{act_id}/signed")
    expect(page.get_by_test_id("verify-result")).to_have_text("The signature is valid.")


def test_a_demo_station_without_a_ca_tells_one_verdict_and_marks_the_demo(
    layer: FakeNcaLayer, page: Page, tmp_path: Path, artifacts: Path
) -> None:
    """Issue 16 item 5: no CA configured gave "The decision is signed." and then "The signature is not
    valid." Now one verdict, as `warehouse verify` says it, and the demo's mark (issue 15 item 7). Through
    NCALayer: the document the browser signed is rebuilt, "demo": true included, before it is stored."""
    app = signing_app(
        f"sqlite:///{tmp_path / 'w.sqlite3'}", tmp_path, trust=False, DEMO_MODE=True, NCALAYER_URL=layer.url
    )
    server = LiveServer(app)
    try:
        act_id, _f = decided_act(app, tmp_path)
        _login(page, server, f"/acts/{act_id}/sign")
        page.get_by_role("button", name="Sign with NCALayer").click()
        expect(page).to_have_url(f"{server.url}/acts/{act_id}/signed")
        expect(page.get_by_text("The decision is signed.")).to_be_visible()
        verdicts = page.get_by_test_id("verify-result")
        expect(verdicts).to_have_count(1)
        expect(verdicts).to_have_attribute("data-verdict", "unchecked")
        expect(verdicts).to_contain_text("could not be checked against a trusted certification authority")
        expect(verdicts).to_contain_text("warehouse trust update")
        expect(page.get_by_text("The signature is not valid.")).to_have_count(0)
        expect(page.get_by_test_id("demo-mark")).to_contain_text("DEMO — not legally valid")
        page.screenshot(path=str(artifacts / "signing-demo-unchecked-en.png"), full_page=True)
        [doc] = service.documents(get_db(app), act_id)
        assert b'"demo":true' in doc.content
        page.goto(f"{server.url}/acts/{act_id}")
        expect(page.get_by_test_id("demo-mark")).to_be_visible()
    finally:
        server.stop()
        get_db(app).dispose()


def test_a_click_before_the_script_has_loaded_is_not_lost(page: Page, server: LiveServer, tmp_path: Path) -> None:
    """The button waits, disabled, until ncalayer.js has taken it: on a slow machine a click came before the
    script and did nothing at all (CI saw the outgoing signing hang so)."""
    import time

    act_id, _f = decided_act(server.app, tmp_path)
    _login(page, server, f"/acts/{act_id}/sign")

    def slowly(route: Route) -> None:
        time.sleep(1.5)
        route.continue_()

    page.route("**/js/ncalayer.js", slowly)
    page.reload(wait_until="commit")
    page.get_by_role("button", name="Sign with NCALayer").click()
    expect(page).to_have_url(f"{server.url}/acts/{act_id}/signed", timeout=20_000)
