"""The printed acceptance act and the Excel workbook agree with the signed document, level by level
(issue 16, item 6).

A box the lead accepted as is was `accepted: true` in the signed JSON and in stock, while the PDF said
"Принято 1 of 4, Разница −3": the print counted scans, the document the decision. Both now come from the
same walk of the act's codes.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.factories import ActFactory
from tests.reports.pdftools import pdf_text
from warehouse.db import Database
from warehouse.models import User
from warehouse.services import importing, receiving, review, signing
from warehouse.services.receiving import ScanInput
from warehouse.services.reporting import ReportFormat, ReportKind, gtin_lines, render
from warehouse.signing.acceptance import SignerRef


def _subtree_levels(node: dict[str, Any]) -> Counter[str]:
    levels: Counter[str] = Counter([node["level"]])
    for child in node.get("children", []):
        levels += _subtree_levels(child)
    return levels


def _document_accepted(content: bytes, act_tree: dict[str, dict[str, Any]]) -> Counter[str]:
    """Accepted codes per level as the signed document says: `accepted: true` covers the code and all
    it holds (the act's own tree), a node with `children` speaks for itself only."""
    accepted: Counter[str] = Counter()

    def walk(node: dict[str, Any]) -> None:
        if node.get("children"):
            if node["accepted"]:
                accepted[node["level"]] += 1
            for child in node["children"]:
                walk(child)
        elif node["accepted"]:
            accepted.update(_subtree_levels(act_tree[node["code"]]))

    for top in json.loads(content)["products"]:
        walk(top)
    return accepted


def _index(nodes: list[dict[str, Any]], into: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for node in nodes:
        into[node["code"]] = node
        _index(node.get("children", []), into)
    return into


@pytest.mark.parametrize("resolution", ["accept", "reject"])
def test_printed_figures_are_the_signed_documents(db: Database, tmp_path: Path, resolution: str) -> None:
    f = ActFactory(number="ТА-ФИГУРЫ", pallets=1, boxes=4, blocks=2, packs=2)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    receiving.record_scan(db, act_id, ScanInput(raw=f.codes["box"][0], source="cli", station="dock-1"))
    receiving.close_act(db, act_id, actor="test")
    with db.read() as s:
        lead = s.query(User).filter_by(username="lead").one()
        act = receiving.find_act(s, act_id)
        missing = [line for line in review.lines(s, act) if line.kind == "missing"]
    assert missing
    for line in missing:  # the lead accepts (or refuses) every missing box as it is
        review.resolve(
            db, act_id, resolution=resolution, reason="shortage", comment=None, user=lead, act_code_id=line.act_code_id
        )
    receiving.decide(db, act_id, "accepted_with_discrepancies", reason="shortage", actor="test")

    prepared = signing.prepare(db, act_id, signer=SignerRef("lead"), created_at=datetime.now(UTC))
    act_tree = _index(f.build()["products"], {})
    signed = sum((_document_accepted(d.content, act_tree) for d in prepared.documents), Counter())
    with db.read() as s:
        printed: Counter[str] = Counter()
        for line in gtin_lines(s, receiving.find_act(s, act_id)):
            printed[line.level] += line.credited
    assert +printed == +signed
    if resolution == "accept":  # every box accepted: all 4 boxes, 8 blocks, 16 packs, though one was scanned
        assert printed["box"] == 4 and printed["pack"] == 16
    else:
        assert printed["box"] == 1 and printed["pack"] == 4

    pdf = pdf_text(render(db, act_id, ReportKind.ACCEPTANCE, ReportFormat.PDF, tmp_path / "a.pdf", "ru"))
    assert "−" not in pdf.split("Итого")[0] if resolution == "accept" else "−" in pdf  # no shortfall shown
    book = render(db, act_id, ReportKind.CODES, ReportFormat.XLSX, tmp_path / "c.xlsx", "en")
    wb = openpyxl.load_workbook(book, read_only=True)
    rows = [r for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    wb.close()
    assert any(r and "box" in [str(c).lower() for c in r if c] and printed["box"] in r for r in rows)


def test_the_discrepancy_notice_shows_the_leads_resolution(db: Database, tmp_path: Path) -> None:
    from warehouse.vocab import Resolution

    f = ActFactory(number="ТА-РЕШЕНИЯ", pallets=1, boxes=2, blocks=1, packs=1)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    receiving.close_act(db, act_id, actor="test")
    with db.read() as s:
        lead = s.query(User).filter_by(username="lead").one()
        (line, *_) = [x for x in review.lines(s, receiving.find_act(s, act_id)) if x.kind == "missing"]
    review.resolve(
        db, act_id, resolution="found_later", reason=None, comment="в машине", user=lead, act_code_id=line.act_code_id
    )
    text = pdf_text(render(db, act_id, ReportKind.DISCREPANCIES, ReportFormat.PDF, tmp_path / "d.pdf", "ru"))
    assert Resolution.FOUND_LATER.label("ru") in text and "в машине" in text
    book = render(db, act_id, ReportKind.CODES, ReportFormat.XLSX, tmp_path / "c.xlsx", "ru")
    wb = openpyxl.load_workbook(book, read_only=True)
    cells = [c for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    wb.close()
    assert Resolution.FOUND_LATER.label("ru") in cells
