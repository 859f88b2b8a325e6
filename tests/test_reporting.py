"""Reports of a received act, from the database to files: the service, the CLI and the web download."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.conftest import Auth
from tests.factories import ActFactory, gtin, pack
from tests.reports.pdftools import pdf_text, read_symbols
from warehouse import codes
from warehouse.cli.reports import report_cmd
from warehouse.db import Database, get_db
from warehouse.services import importing, receiving
from warehouse.services.receiving import ScanInput
from warehouse.services.reporting import ReportError, ReportFormat, ReportKind, render


def _received(db: Database, tmp_path: Path) -> tuple[int, ActFactory]:
    """One pallet of two boxes; the first box arrives, the second does not, plus a surplus pack."""
    f = ActFactory(number="ТА-<&\"'>")
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    for raw in (f.codes["box"][0], pack(gtin(1001), 777_777)):
        receiving.record_scan(db, act_id, ScanInput(raw=raw, source="cli", station="dock-1"))
    receiving.close_act(db, act_id, actor="test")
    receiving.decide(
        db, act_id, "accepted_with_discrepancies", reason="shortage", comment="box <2> missing", actor="test"
    )
    return act_id, f


def test_every_report_renders_from_the_database(db: Database, tmp_path: Path) -> None:
    act_id, f = _received(db, tmp_path)
    missing_box = f.codes["box"][1]

    acceptance = render(db, act_id, ReportKind.ACCEPTANCE, ReportFormat.PDF, tmp_path / "a.pdf", "ru")
    text = pdf_text(acceptance)
    assert "ТА-<&\"'>" in text and "Принят с расхождениями".lower() in text.lower()
    assert "box <2> missing" in text and "недостача" in text

    notice = render(db, act_id, ReportKind.DISCREPANCIES, ReportFormat.PDF, tmp_path / "d.pdf", "kk")
    text = pdf_text(notice)
    assert "Жетіспейді" in text and "Артық" in text  # missing, surplus: in Kazakh
    assert f"(00){missing_box[2:]}" in text  # listed as the box, under its pallet
    assert f"(00){f.codes['pallet'][0][2:]}" in text
    assert pack(gtin(1001), 777_777)[:21] in text
    assert f"(00){f.codes['box'][0][2:]}" not in text  # the box that arrived is not a discrepancy

    labels = render(db, act_id, ReportKind.LABELS, ReportFormat.PDF, tmp_path / "l.pdf", "en")
    read = {codes.parse(s.text).normalized for s in read_symbols(labels, tmp_path)}
    assert read == set(f.codes["pallet"] + f.codes["box"])

    book = render(db, act_id, ReportKind.CODES, ReportFormat.XLSX, tmp_path / "c.xlsx", "en")
    wb = openpyxl.load_workbook(book, read_only=True)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    wb.close()
    every_code = [c for level in f.codes.values() for c in level]
    read_back = {codes.parse(c).normalized for c in cells}  # HRI (01)… and raw with a visible GS both parse
    assert set(every_code) <= read_back
    assert not any(c.startswith("=") for c in cells)


def test_unsupported_pairs_and_unknown_acts_write_nothing(db: Database, tmp_path: Path) -> None:
    act_id, _ = _received(db, tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ReportError) as e:
        render(db, act_id, ReportKind.LABELS, ReportFormat.XLSX, folder / "labels.xlsx")
    assert "формате" in e.value.message("ru")
    with pytest.raises(receiving.ReceivingError):
        render(db, 999_999, ReportKind.ACCEPTANCE, ReportFormat.PDF, folder / "x.pdf")
    assert list(folder.iterdir()) == []


def test_cli_report(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    act_id, _ = _received(get_db(app), tmp_path)
    out = tmp_path / "notice.pdf"
    result = runner.invoke(report_cmd, [str(act_id), "--kind", "discrepancies", "--pdf", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    result = runner.invoke(report_cmd, [str(act_id), "--kind", "labels", "--xlsx", str(tmp_path / "l.xlsx")])
    assert result.exit_code == 1 and not (tmp_path / "l.xlsx").exists()
    result = runner.invoke(report_cmd, [str(act_id), "--kind", "codes"])
    assert result.exit_code == 2


def _download_link(client: FlaskClient, status_url: str) -> str:
    """Follow a report's progress until it offers its download; the link."""
    body = ""
    for _ in range(100):
        body = client.get(status_url).get_data(as_text=True)
        if "download" in body:
            break
        time.sleep(0.1)
    link = re.search(r'href="([^"]+/download)"', body)
    assert link, body
    return link.group(1)


def test_download_from_the_page_with_progress(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, _ = _received(get_db(app), tmp_path)
    auth.login("lead")
    page = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token and f"/acts/{act_id}/reports" in page
    assert client.post(f"/acts/{act_id}/reports", data={"kind": "acceptance", "format": "pdf"}).status_code == 400
    started = client.post(
        f"/acts/{act_id}/reports", data={"kind": "acceptance", "format": "pdf"}, headers={"X-CSRFToken": token.group(1)}
    )
    assert started.status_code == 200
    status_url = re.search(r'hx-get="([^"]+)"', started.get_data(as_text=True))
    assert status_url
    link = _download_link(client, status_url.group(1))
    file = client.get(link)
    assert file.status_code == 200 and file.data.startswith(b"%PDF")
    assert "attachment" in file.headers["Content-Disposition"]
    # another user cannot fetch it
    other = app.test_client()
    Auth(other).login("staff")
    assert other.get(link).status_code == 404


def test_report_files_wait_in_the_instance_folder_and_old_ones_are_removed(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    from warehouse.services.reporting import REPORT_FILES, sweep_report_folders

    instance = Path(app.instance_path)
    stale = instance / REPORT_FILES / "report-killed"
    stale.mkdir(parents=True)
    (stale / "half.pdf.part").write_bytes(b"%PDF-1.4")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    act_id, _ = _received(get_db(app), tmp_path)
    auth.login("lead")
    page = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token
    started = client.post(
        f"/acts/{act_id}/reports", data={"kind": "acceptance", "format": "pdf"}, headers={"X-CSRFToken": token.group(1)}
    )
    assert started.status_code == 200
    assert not stale.exists()  # a new report sweeps what nobody came back for
    for _ in range(100):
        made = list((instance / REPORT_FILES).glob("report-*/*.pdf"))
        if made:
            break
        time.sleep(0.1)
    assert made and (made[0].parent.stat().st_mode & 0o077) == 0  # owner only, not the system's /tmp
    assert sweep_report_folders(instance) == []  # fresh: kept for its download
    assert sweep_report_folders(instance, older_than=dt.timedelta(0)) == [made[0].parent]


def test_the_page_offers_only_reports_that_exist_and_names_the_workbook(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    """'Acceptance act + Excel' silently gave the codes workbook: the page now offers the workbook as what it
    is, and its file says so whatever was asked of it (issue 16, item 10)."""
    act_id, _ = _received(get_db(app), tmp_path)
    auth.login("lead")
    page = client.get(f"/acts/{act_id}/review", headers={"Accept-Language": "en"}).get_data(as_text=True)
    offered = re.findall(r'<option value="(\w+:\w+)">', page)
    assert offered == ["acceptance:pdf", "discrepancies:pdf", "labels:pdf", "codes:pdf", "codes:xlsx"]
    assert "Workbook: summary, discrepancies and every code (Excel)" in page
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token
    started = client.post(
        f"/acts/{act_id}/reports", data={"report": "codes:xlsx"}, headers={"X-CSRFToken": token.group(1)}
    )
    status_url = re.search(r'hx-get="([^"]+)"', started.get_data(as_text=True))
    assert started.status_code == 200 and status_url
    link = _download_link(client, status_url.group(1))
    file = client.get(link)
    assert file.status_code == 200 and "-workbook.xlsx" in file.headers["Content-Disposition"]


def test_a_label_says_what_it_holds_and_of_which_product_in_the_readers_language(db: Database, tmp_path: Path) -> None:
    """Issue 16, item 10: a label showed an unlabeled "· 55" and no product name."""
    f = ActFactory(boxes=1, blocks=5, packs=10, products=(1001,))
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    texts = {}
    for lang in ("ru", "kk", "en"):
        pdf = render(db, act_id, ReportKind.LABELS, ReportFormat.PDF, tmp_path / f"{lang}.pdf", lang)
        texts[lang] = " ".join(pdf_text(pdf).split())
    assert "· 55" not in texts["ru"]
    assert "Marlboro Red" in texts["ru"] and "Marlboro Red" in texts["en"]
    assert "Внутри: блоков: 5, пачек: 50" in texts["ru"]  # the box; the pallet also counts its one box
    assert "коробов: 1, блоков: 5, пачек: 50" in texts["ru"]
    assert "blocks: 5, packs: 50" in texts["en"] and "boxes: 1, blocks: 5, packs: 50" in texts["en"]
    assert "блоктар: 5, қораптар: 50" in texts["kk"]


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_pdf_report_reads_in_one_language(db: Database, tmp_path: Path, lang: str) -> None:
    """Issue 16, item 4: invalid-code explanations and level names in the reader's language on paper too."""
    from tests.web.test_page_languages import leaks, without_data

    f = ActFactory(number="ТА-<&\"'>")
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    # a box, a surplus pack, unreadable twice, a duplicate
    for raw in (f.codes["box"][0], pack(gtin(1001), 777_777), "hello", "01046000000000", f.codes["box"][0]):
        receiving.record_scan(db, act_id, ScanInput(raw=raw, source="cli", station="dock-1"))
    receiving.close_act(db, act_id, actor="test")
    receiving.decide(
        db, act_id, "accepted_with_discrepancies", reason="shortage", comment="box <2> missing", actor="test"
    )
    data = {"ТА-<&\"'>", "Marlboro Red", "Parliament «Aqua»", "ТОО «Табак-Трейд» <опт>", 'ТОО "Склад & Ко"', "hello"}
    data |= {"box <2> missing", "ESF-1", "dock-1", "test", "(shortage)"}  # a reason code, as the signed file has it
    found = {}
    for kind in (ReportKind.ACCEPTANCE, ReportKind.DISCREPANCIES, ReportKind.LABELS, ReportKind.CODES):
        pdf = render(db, act_id, kind, ReportFormat.PDF, tmp_path / f"{kind}.pdf", lang)
        if wrong := leaks(lang, without_data(" ".join(pdf_text(pdf).split()), data)):
            found[kind.value] = wrong
    book = render(db, act_id, ReportKind.CODES, ReportFormat.XLSX, tmp_path / "c.xlsx", lang)
    wb = openpyxl.load_workbook(book, read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    titles = [ws.title for ws in wb.worksheets]
    wb.close()
    if wrong := leaks(lang, without_data(" ".join([*titles, *cells]), data)):
        found["workbook"] = wrong
    assert found == {}
