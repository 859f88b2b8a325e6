"""In Chromium: scans read faster than the server answers are all recorded, in the order read.

htmx drops a request that an element triggers while its previous request is in flight: a second code
read within one round trip (25–250 ms) went nowhere, without a banner or a sound. The scan field now
queues what it reads and sends one scan at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.test_receiving_flow import log_in
from tests.browser.wedge import type_at
from tests.conftest import LiveServer
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing

pytestmark = pytest.mark.browser


def test_a_burst_of_scans_is_recorded_whole_and_in_order(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    f = ActFactory(number="ТА-BURST", pallets=1, boxes=4, blocks=1, packs=1)
    act_id = importing.import_act(get_db(live_server.app), f.write(tmp_path / "act.json")).act_id
    log_in(page, live_server.url, "staff")
    page.goto(f"{live_server.url}/acts/{act_id}")
    boxes = f.codes["box"]
    for code in boxes:  # one after another, as fast as the page takes keys: no answer awaited in between
        type_at(page, "#scan-field", code)
    expect(page.locator("#journal tr.scan-matched")).to_have_count(len(boxes), timeout=10_000)
    expect(page.locator("#result")).to_contain_text(boxes[-1])  # the last banner is the last scan's
    with get_db(live_server.app).read() as s:
        recorded = s.execute(select(Scan.raw).where(Scan.act_id == act_id).order_by(Scan.id)).scalars().all()
    assert recorded == boxes
