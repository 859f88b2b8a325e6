"""The whole receiving flow in Chromium: staff import an act and scan it through the scan field (with a
Russian keyboard layout active) while a handheld terminal posts to the API; a second screen follows live;
the lead resolves the discrepancies and decides. Screenshots of the main screens are kept as artefacts."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.wedge import scan_into
from tests.conftest import LiveServer
from tests.factories import GS, ActFactory, gtin, pack
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import devices

pytestmark = pytest.mark.browser


def scan_with_wedge(page: Page, code: str) -> None:
    scan_into(page, "Scan a code", code)


def log_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(username)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Acts")).to_be_visible()


def post_api(url: str, token: str, act_id: int, scans: list[dict[str, str]]) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{url}/api/v1/acts/{act_id}/scans",
        data=json.dumps({"scans": scans}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        results: list[dict[str, object]] = json.loads(response.read())["results"]
    return results


def test_receive_an_act_end_to_end(
    browser: Browser, live_server_any_db: LiveServer, artifacts: Path, tmp_path: Path
) -> None:
    f = ActFactory(number="ТА-<b>&1", pallets=1, boxes=3, blocks=2, packs=3)
    act_file = f.write(tmp_path / "act.json")
    staff = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    watcher = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()

    # staff import the act through the page, with its progress, and land on the receiving screen
    log_in(staff, live_server_any_db.url, "staff")
    staff.goto(live_server_any_db.url + "/acts/import")
    staff.get_by_label("File (.json, .csv or .xlsx)").set_input_files(str(act_file))
    staff.get_by_role("button", name="Import").click()
    expect(staff.get_by_role("heading", name=re.compile("ТА-<b>&1"))).to_be_visible(timeout=15_000)
    act_id = int(staff.url.rstrip("/").split("/")[-1])

    # a second screen of the same act follows everything live
    log_in(watcher, live_server_any_db.url, "lead")
    watcher.goto(f"{live_server_any_db.url}/acts/{act_id}")
    expect(watcher.get_by_role("heading", name=re.compile("ТА-<b>&1"))).to_be_visible()
    watcher.wait_for_timeout(500)  # let the SSE connection open

    # scan field with a Russian layout: the block code (letters, punctuation, GS) arrives intact
    block = next(c for c in f.codes["block"] if any(ch.isalpha() for ch in c.split(GS)[0][18:]))
    scan_with_wedge(staff, block)
    expect(staff.locator("#result")).to_contain_text("Counted", timeout=10_000)
    expect(watcher.locator("#journal tr.scan-matched")).to_have_count(1, timeout=5_000)
    expect(watcher.locator("#journal")).to_contain_text(block.split(GS)[0][18:25])
    expect(watcher.locator(".by-gtin")).to_contain_text("1 / 3")  # per-product counts follow live too

    # a handheld terminal of this station posts to the API at the same time: a whole box and a surplus pack
    # (a handheld scans only into its own station's acts)
    station = live_server_any_db.app.config["STATION"]
    with live_server_any_db.app.app_context():
        db = get_db(live_server_any_db.app)
        with db.write() as s:
            owner = s.query(User).filter_by(username="staff").one()
            token = devices.issue_token(s, "tsd-1", station, owner)
    surplus = pack(gtin(1001), 999_999)
    results = post_api(
        live_server_any_db.url,
        token,
        act_id,
        [{"code": f.codes["box"][0], "scan_id": "tsd-1-0001"}, {"code": surplus, "scan_id": "tsd-1-0002"}],
    )
    assert [r["class"] for r in results] == ["matched", "surplus"]
    expect(watcher.locator("#journal tr.scan-surplus")).to_have_count(1, timeout=5_000)
    expect(staff.locator("#journal tr.scan-surplus")).to_have_count(1, timeout=5_000)
    expect(watcher.locator("#journal")).to_contain_text(station)
    watcher.screenshot(path=str(artifacts / "receiving-1920.png"), full_page=True)
    staff.screenshot(path=str(artifacts / "receiving-1366.png"), full_page=True)

    # the same box again is a duplicate, with the reason in words
    scan_with_wedge(staff, f.codes["box"][0])
    expect(staff.locator("#result")).to_contain_text("Duplicate", timeout=10_000)

    # staff end receiving; they cannot decide
    staff.on("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="End receiving").click()
    expect(staff.get_by_text("Receiving ended")).to_be_visible()
    assert staff.request.get(f"{live_server_any_db.url}/acts/{act_id}/review").status == 403

    # the lead resolves the missing boxes and the surplus, then decides
    lead = watcher
    lead.goto(f"{live_server_any_db.url}/acts/{act_id}/review")
    expect(lead.get_by_role("heading", level=1, name=re.compile("Discrepancies"))).to_be_visible()
    lines = lead.locator("tr.line")
    expect(lines).to_have_count(3)  # two missing boxes, one surplus pack
    # only the missing lines, then one reason for all of them at once
    lead.get_by_label("Discrepancy").select_option("missing")
    lead.get_by_role("button", name="Show", exact=True).click()
    expect(lines).to_have_count(2)
    bulk = lead.get_by_role("group", name="For every line shown")
    bulk.get_by_label("Reason").select_option("shortage")
    bulk.get_by_role("button", name="Apply to every line shown").click()
    expect(lead.get_by_text("Lines saved: 2.")).to_be_visible()
    expect(lines).to_have_count(2)  # the filter stays
    for row in lines.all():
        expect(row.get_by_label("Reason")).to_have_value("shortage")
    # a comment typed and not saved is not lost when the decision is recorded
    missing = lead.locator("tr.line-missing").first
    missing.get_by_label("Comment").fill("<not> on the truck")
    lead.screenshot(path=str(artifacts / "review-1920.png"), full_page=True)
    lead.get_by_label("Accept with discrepancies").check()
    lead.get_by_role("button", name="Record the decision").click()
    expect(lead.locator(".status-decided").first).to_be_visible()
    expect(lead.get_by_text("<not> on the truck")).to_be_visible()

    audit = lead.context.new_page()
    audit.goto(f"{live_server_any_db.url}/acts/{act_id}/audit")
    expect(audit.get_by_role("cell", name="Decision recorded")).to_be_visible()  # the action in words, not its key
    expect(audit.get_by_text(re.compile("audit chain verifies")).first).to_be_visible()
    audit.screenshot(path=str(artifacts / "audit-1920.png"), full_page=True)
