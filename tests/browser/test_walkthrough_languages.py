"""In Chromium, the main screens of issue 16 in Russian and Kazakh, as the people at the station see them:
a screenshot of each in test-artifacts/walkthrough/<lang>/NN-name.png (read by a person when the wording
changes), and the same check as tests/web/test_page_languages.py that no text is left in another language —
here on what the browser rendered, scripts run. First the plain pages, then the journeys' interactive
states (j-NN-name.png): a scan banner of each class on the receiving screen, the review page with a
resolution applied, an import's failure, the outgoing screen's answers to a scan.

One server and one browser for the module; the pages and their data are test_page_languages' `site`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.wedge import type_at
from tests.conftest import Auth, LiveServer
from tests.factories import ActFactory, gtin, pack, sscc_code
from tests.web.test_page_languages import Site, leaks, site, visible_text, without_data
from warehouse.db import get_db
from warehouse.services import importing

pytestmark = pytest.mark.browser
__all__ = ["site"]  # the module-scoped fixture, shared with the pages' check


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[LiveServer]:
    live = LiveServer(site.app)
    yield live
    live.stop()


def _reader(browser: Browser, site: Site, server: LiveServer, who: str, lang: str) -> BrowserContext:
    """A browser speaking `lang`, signed in as `who` (by the test client: the browser takes its cookie)."""
    context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
    if who != "anonymous":
        client = site.app.test_client()
        assert Auth(client).login(who).status_code == 302
        cookie = client.get_cookie("session")
        assert cookie is not None
        host = server.url.removeprefix("http://").split(":")[0]
        context.add_cookies([{"name": "session", "value": cookie.value, "domain": host, "path": "/"}])
    return context


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_screens_read_in_one_language_in_chromium(
    site: Site, server: LiveServer, browser: Browser, artifacts: Path, lang: str
) -> None:
    folder = artifacts / "walkthrough" / lang
    folder.mkdir(parents=True, exist_ok=True)
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
                contexts[who] = _reader(browser, site, server, who, lang)
                tabs[who] = contexts[who].new_page()  # one tab a reader, going from page to page
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


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_journeys_read_in_one_language_in_chromium(
    site: Site, server: LiveServer, browser: Browser, artifacts: Path, tmp_path: Path, lang: str
) -> None:
    folder = artifacts / "walkthrough" / lang
    folder.mkdir(parents=True, exist_ok=True)
    db = get_db(site.app)
    start = {"ru": 700_000, "kk": 800_000}[lang]  # each language its own acts: the module's site is shared
    here, other = (ActFactory(number=f"ТА-{start + k}", start=start + 1000 * k, boxes=1, packs=2) for k in (0, 1))
    site.data |= {here.number, other.number}
    act_id = importing.import_act(db, here.write(tmp_path / "here.json")).act_id
    importing.import_act(db, other.write(tmp_path / "other.json"))  # open: its codes are foreign here
    found: dict[str, list[str]] = {}
    shots = iter(range(1, 100))

    def check(page: Page, name: str) -> None:
        if name.startswith(("scan-", "outgoing-")):  # a sentence told after a colon starts in lower case
            banner = page.locator("#result .banner").inner_text()
            if re.search(r":\s+[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]", banner):
                found[name + " (a capital after a colon)"] = [banner]
        if name.startswith("scan-"):  # a journal row says its class once («Засчитано», not «Засчитано: …» again)
            for told in page.locator("#journal tr td:nth-child(2)").all_inner_texts():
                label, _sep, message = told.partition("\n")
                if message.split(":")[0].strip().lower() == label.strip().lower():
                    found.setdefault(name + " (said twice)", []).append(told)
        page.screenshot(path=str(folder / f"j-{next(shots):02d}-{name}.png"), animations="disabled", full_page=True)
        if wrong := leaks(lang, without_data(visible_text(page.content()), site.data)):
            found[name] = wrong

    staff = _reader(browser, site, server, "staff", lang)
    lead = _reader(browser, site, server, "lead", lang)
    try:
        page = staff.new_page()
        page.goto(f"{server.url}/acts/{act_id}")
        scans = [
            ("matched", here.codes["pack"][0]),
            ("duplicate", here.codes["pack"][0]),
            ("surplus", pack(gtin(1001), start + 999)),
            ("foreign", other.codes["box"][0]),
            ("invalid", "hello"),
        ]
        for cls, code in scans:
            type_at(page, "#scan-field", code)
            page.locator(f"#result [data-class={cls}]").wait_for()
            check(page, f"scan-{cls}")

        page = lead.new_page()
        review = site.pages["review"].partition(":")[2]
        page.goto(server.url + review)
        page.locator("select[name=bulk_resolution]").select_option(index={"ru": 1, "kk": 2}[lang])
        page.locator("select[name=bulk_reason]").select_option(index=1)
        page.locator("button[name=bulk]").click()
        page.locator(".flash-info").wait_for()
        check(page, "review-resolved")

        page.goto(server.url + "/acts/import")
        broken = tmp_path / "broken.json"
        broken.write_text('{"format": "transfer-act/1", "number": ', encoding="utf-8")
        page.locator("#act-file").set_input_files(str(broken))
        page.locator("#act-file").locator("xpath=ancestor::form").locator("button[type=submit]").click()
        page.locator("#import-status table.problems").wait_for()
        check(page, "import-failed")
        where = page.locator("#import-status table.problems tbody td").first.inner_text()
        assert where and not leaks(lang, where), where  # "line 1, column 40": a place in the reader's words

        page.goto(server.url + site.pages["outgoing"].partition(":")[2])
        for n, code in enumerate(["hello", sscc_code(999_999)]):  # not a code; a box not in stock
            told = page.locator("#result").inner_text()
            type_at(page, "#scan-field", code)
            expect(page.locator("#result [data-class=refused]")).not_to_have_text(told)
            check(page, f"outgoing-refused-{n + 1}")
    finally:
        staff.close()
        lead.close()
    assert found == {}, f"{lang}: words of another language, or badly put: {found}"
