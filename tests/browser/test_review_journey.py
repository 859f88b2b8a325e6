"""In Chromium: the logistics lead's journey (issue 16's tests). An act received in part: the lead filters
the review to the missing lines, gives them all one reason in one go, leaves a comment typed and not saved,
records the decision (the comment is kept, not dropped), signs it through NCALayer, and downloads the
acceptance act, the discrepancy notice and the workbook; each is opened and checked against the decision."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.factories import ActFactory
from tests.reports.pdftools import pdf_text
from tests.signing.conftest import signing_app
from tests.signing.fake_ncalayer import FakeNcaLayer
from warehouse import codes
from warehouse.db import get_db
from warehouse.services import importing, receiving
from warehouse.services import signing as signing_service

pytestmark = pytest.mark.browser


@pytest.fixture
def server(layer: FakeNcaLayer, tmp_path: Path) -> Iterator[LiveServer]:
    app = signing_app(f"sqlite:///{tmp_path / 'w.sqlite3'}", tmp_path, NCALAYER_URL=layer.url)
    live = LiveServer(app)
    yield live
    live.stop()
    get_db(app).dispose()


def _accepted(node: object) -> Iterator[tuple[str, bool]]:
    """(code, accepted) of every code of the signed acceptance's tree."""
    if isinstance(node, dict):
        if "code" in node and "accepted" in node:
            yield str(node["code"]), bool(node["accepted"])
        for value in node.values():
            yield from _accepted(value)
    elif isinstance(node, list):
        for item in node:
            yield from _accepted(item)


def _download(page: Page, report: str, folder: Path) -> Path:
    link = page.locator("#report-status a[download]")
    before = link.get_attribute("href") if link.count() else None  # the last report's, until this one is made
    page.get_by_label("Report", exact=True).select_option(report)
    page.get_by_role("button", name="Make the report").click()
    expect(link).to_be_visible(timeout=30_000)
    if before is not None:
        expect(link).not_to_have_attribute("href", before, timeout=30_000)
    with page.expect_download() as download:
        link.click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def test_the_leads_review_decision_signature_and_reports(
    page: Page, server: LiveServer, layer: FakeNcaLayer, tmp_path: Path, artifacts: Path
) -> None:
    db = get_db(server.app)
    f = ActFactory(number="ТА-700001", pallets=1, boxes=3, blocks=2, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    receiving.record_scan(db, act_id, receiving.ScanInput(raw=f.codes["box"][0], source="cli"))  # 2 of 3 boxes missing
    receiving.close_act(db, act_id, actor="test")

    page.goto(f"{server.url}/acts/{act_id}/review")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill("lead")
    page.get_by_label("Password", exact=True).fill("lead")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{server.url}/acts/{act_id}/review")

    # Filter to the missing boxes, and give every line shown one reason in one go.
    page.get_by_label("Discrepancy").select_option("missing")
    page.get_by_label("Level").select_option("box")
    page.get_by_role("button", name="Show", exact=True).click()
    lines = page.locator("tr.line")
    expect(lines).to_have_count(2)
    expect(page.locator("tr.line-missing")).to_have_count(2)
    page.locator("select[name=bulk_resolution]").select_option("reject")
    page.locator("select[name=bulk_reason]").select_option("shortage")
    page.get_by_role("button", name="Apply to every line shown").click()
    expect(page.locator("tr.line-missing select[name^=reason-]").first).to_have_value("shortage")
    expect(page.locator("tr.line-missing select[name^=reason-]").last).to_have_value("shortage")
    expect(page.locator("tr.line-missing select[name^=resolution-]").last).to_have_value("reject")

    # A comment typed and not saved, then the decision: the comment is kept with it.
    page.locator("tr.line-missing").first.get_by_label("Comment").fill("пломба <сорвана> & коробки нет")
    page.get_by_label("Accept with discrepancies").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".status-decided").first).to_be_visible()
    expect(page.get_by_text("пломба <сорвана> & коробки нет")).to_be_visible()
    page.screenshot(path=str(artifacts / "lead-review-decided.png"), full_page=True)

    page.goto(f"{server.url}/acts/{act_id}/sign")
    page.get_by_role("button", name="Sign with NCALayer").click()
    expect(page).to_have_url(f"{server.url}/acts/{act_id}/signed", timeout=20_000)
    expect(page.get_by_test_id("verify-result")).to_have_text("The signature is valid.")
    [document] = signing_service.documents(db, act_id)

    page.goto(f"{server.url}/acts/{act_id}/review")
    acceptance = pdf_text(_download(page, "acceptance:pdf", tmp_path))
    notice = pdf_text(_download(page, "discrepancies:pdf", tmp_path))
    workbook = openpyxl.load_workbook(io.BytesIO(_download(page, "codes:xlsx", tmp_path).read_bytes()), read_only=True)
    page.screenshot(path=str(artifacts / "lead-reports.png"), full_page=True)

    for text in (acceptance, notice):
        assert "ТА-700001" in text
    # The printed acts agree with what was signed: the box scanned is accepted, the two missing are not.
    signed = json.loads(document.content)
    assert signed["decision"] == "accepted_with_discrepancies"
    flags = dict(_accepted(signed))
    assert flags[f.codes["box"][0]] is True and flags[f.codes["box"][1]] is False and flags[f.codes["box"][2]] is False
    # The missing boxes, as printed (the human-readable form), each with its resolution and reason.
    assert codes.hri(f.codes["box"][1]) in notice and codes.hri(f.codes["box"][2]) in notice
    assert codes.hri(f.codes["box"][0]) not in notice and notice.count("Reject the line") == 2
    assert "коробки нет" in notice.replace("\n", " ")  # the lead's comment, with its resolution
    cells = {str(c) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert {f.codes["box"][1], f.codes["box"][2]} <= cells
    assert any("коробки нет" in c for c in cells)
