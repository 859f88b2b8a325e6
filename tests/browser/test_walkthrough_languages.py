"""In Chromium, the main screens of issue 16 in Russian and Kazakh, as the people at the station see them:
a screenshot of each in test-artifacts/walkthrough/<lang>/NN-name.png (read by a person when the wording
changes), and the same check as tests/web/test_page_languages.py that no text is left in another language —
here on what the browser rendered, scripts run.

One server and one browser for the module; the pages and their data are test_page_languages' `site`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import Auth, LiveServer
from tests.web.test_page_languages import Site, leaks, site, visible_text, without_data

pytestmark = pytest.mark.browser
__all__ = ["site"]  # the module-scoped fixture, shared with the pages' check


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[LiveServer]:
    live = LiveServer(site.app)
    yield live
    live.stop()


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_screens_read_in_one_language_in_chromium(
    site: Site, server: LiveServer, browser: Browser, artifacts: Path, lang: str
) -> None:
    folder = artifacts / "walkthrough" / lang
    folder.mkdir(parents=True, exist_ok=True)
    host = server.url.removeprefix("http://").split(":")[0]
    contexts: dict[str, BrowserContext] = {}
    tabs: dict[str, Page] = {}
    found: dict[str, list[str]] = {}
    try:
        for n, (name, where) in enumerate(site.pages.items(), start=1):
            who, _sep, path = where.partition(":")
            # plain pages only: the posted forms, scans and imports of the `site` are its check's (test client)
            if name in ("forbidden", "not-found") or not path.startswith("/") or path.startswith("/api/"):
                continue
            if who not in contexts:
                context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
                if who != "anonymous":  # logged in by the test client; the browser takes its session cookie
                    client = site.app.test_client()
                    assert Auth(client).login(who).status_code == 302
                    cookie = client.get_cookie("session")
                    assert cookie is not None
                    context.add_cookies([{"name": "session", "value": cookie.value, "domain": host, "path": "/"}])
                contexts[who] = context
                tabs[who] = context.new_page()  # one tab a reader, going from page to page
            page = tabs[who]
            answer = page.goto(server.url + path)
            assert answer is not None and answer.status == 200, (name, path)
            if "html" not in (answer.header_value("content-type") or ""):
                continue
            page.screenshot(path=str(folder / f"{n:02d}-{name}.png"), animations="disabled")
            html = page.content()
            assert f'lang="{lang}"' in html or "<html" not in answer.text(), name  # htmx fragments have none
            if wrong := leaks(lang, without_data(visible_text(html), site.data)):
                found[name] = wrong
    finally:
        for context in contexts.values():
            context.close()
    assert found == {}, f"{lang}: words of another language: {found}"
