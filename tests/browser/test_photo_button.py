"""In Chromium: the receiving screen's Photo button (issue 17, item 2). A photo chosen in the file field goes
up at once; each code in it is scanned with source `photo`, the banner lists them and sounds the worst;
a photo of nothing says so, with the error buzz, and records nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.test_receiving_flow import log_in
from tests.conftest import LiveServer
from tests.factories import ActFactory
from tests.web.test_photos import jpeg
from warehouse.db import get_db
from warehouse.services import importing

pytestmark = pytest.mark.browser


def test_a_photo_of_packs_scans_each(page: Page, live_server: LiveServer, tmp_path: Path, artifacts: Path) -> None:
    f = ActFactory(pallets=1, boxes=1, blocks=2, packs=3)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    (tmp_path / "block.jpg").write_bytes(jpeg(*f.codes["pack"][:3]))
    empty = io.BytesIO()
    Image.new("L", (800, 600), 190).save(empty, format="PNG")
    (tmp_path / "empty.png").write_bytes(empty.getvalue())

    log_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/acts/{act_id}")
    field = page.get_by_label("Photo", exact=True)
    expect(field).to_have_attribute("capture", "environment")
    # The browser's own file-field text ("Choose File / No file chosen") is in the browser's language, not the
    # page's: the field is visually hidden and the translated label is the button.
    expect(page.locator("label.photo-button")).to_be_visible()
    box = field.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box
    field.set_input_files(str(tmp_path / "block.jpg"))
    result = page.get_by_test_id("photo-result")
    expect(result).to_contain_text("Codes read in the photo: 3")
    expect(result.locator("li[data-class=matched]")).to_have_count(3)
    expect(page.locator("body")).to_have_attribute("data-last-sound", "ok")
    expect(page.locator("#journal tr")).to_have_count(3)
    page.screenshot(path=str(artifacts / "receiving-photo.png"), full_page=True)

    field.set_input_files(str(tmp_path / "empty.png"))
    expect(page.locator("#result")).to_contain_text("No code was found in the photo: nothing was recorded.")
    expect(page.locator("body")).to_have_attribute("data-last-sound", "error")
    expect(page.locator("#journal tr")).to_have_count(3)
