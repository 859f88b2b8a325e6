"""In Chromium: an import that fails says why and that nothing changed — a broken file, a file over the
station's limit — and the upload bar does not stay at 100 % (issue 16, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_receiving_flow import log_in
from tests.conftest import LiveServer
from warehouse.db import get_db
from warehouse.models import Act

pytestmark = pytest.mark.browser


def test_import_failures_are_explained(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    log_in(page, live_server.url, "staff")
    page.goto(live_server.url + "/acts/import")
    status = page.locator("#import-status")

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "transfer-act/1", "number": ', encoding="utf-8")
    page.get_by_label("File (.json, .csv or .xlsx)").set_input_files(str(broken))
    page.get_by_role("button", name="Import").click()
    expect(status).to_contain_text("The act was not imported. Nothing was changed.")
    expect(status.locator("table.problems tbody tr")).to_have_count(1)

    live_server.app.config["MAX_CONTENT_LENGTH"] = 512 * 1024
    big = tmp_path / "truck.json"
    big.write_bytes(b" " * (1024 * 1024))
    page.get_by_label("File (.json, .csv or .xlsx)").set_input_files(str(big))
    page.get_by_role("button", name="Import").click()
    expect(status).to_contain_text("The file is larger than this station accepts (0.5 MB).")
    expect(status).to_contain_text("Nothing was changed.")
    expect(page.locator("#upload-progress")).to_have_attribute("value", "0")
    with get_db(live_server.app).read() as s:
        assert s.query(Act).count() == 0
