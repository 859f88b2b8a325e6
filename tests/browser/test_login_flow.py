"""In Chromium: log in, switch the language, see the acts page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_login_switch_language_and_see_acts(page: Page, live_server: LiveServer, artifacts: Path) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(live_server.url + "/acts")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill("lead")
    page.get_by_label("Password", exact=True).fill("lead")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Acts")).to_be_visible()
    expect(page.get_by_role("table")).to_be_visible()
    page.get_by_role("button", name="Қазақша").click()
    expect(page.get_by_role("heading", name="Актілер")).to_be_visible()
    page.get_by_role("button", name="Русский").click()
    expect(page.get_by_role("heading", name="Акты")).to_be_visible()
    page.screenshot(path=str(artifacts / "acts-ru-1366.png"), full_page=True)
