"""What a demo signs says so everywhere, and a signed document gets one verdict (issue 15 item 7, issue 16 item 5).

- A station in demo mode signs `"demo": true` into the acceptance document's bytes; the act page, the review
  page, the signed page, every PDF report and the workbook's summary sheet say "DEMO — not legally valid".
  A later change of the setting changes none of that, either way.
- The signed page tells one verdict — the one `warehouse verify` gives — never "signed" and then "invalid":
  valid; valid but the certificate could not be checked (and how to fix it); invalid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.conftest import Auth
from tests.reports.pdftools import pdf_text
from tests.signing.conftest import decided_act, signing_app
from tests.signing.pki import PASSWORD, minted
from warehouse.cli.sign import UNCHECKED_EXIT, sign_cmd, verify_cmd
from warehouse.db import get_db
from warehouse.services import reporting
from warehouse.services import signing as service
from warehouse.services.reporting import ReportFormat, ReportKind
from warehouse.signing import acceptance
from warehouse.signing.verdict import Verdict, judge

MARK = {"ru": "ДЕМО — не имеет юридической силы", "kk": "ДЕМО — заңды күші жоқ", "en": "DEMO — not legally valid"}


@pytest.fixture
def demo_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The demo as `make run` starts it: demo mode on, no NCA RK trust store."""
    application = signing_app(sqlite_url, tmp_path / "demo", trust=False, DEMO_MODE=True)
    yield application
    get_db(application).dispose()


def _lead(app: Flask, lang: str = "en") -> FlaskClient:
    client = app.test_client()
    Auth(client).login("lead")
    client.post("/language", data={"lang": lang, "csrf_token": _token(client, "/acts")})
    return client


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _sign_in_browser(client: FlaskClient, act_id: int) -> str:
    """Sign with the minted key through the key-file form, as a lead does; the signed page it lands on."""
    key = minted().sign_key.read_bytes()

    def form(**extra: str) -> dict[str, object]:
        token = _token(client, f"/acts/{act_id}/sign")
        return {"csrf_token": token, "key": (BytesIO(key), "RSA256_test.p12"), "password": PASSWORD, **extra}

    card = client.post(f"/acts/{act_id}/sign/certificate", data=form(), headers={"HX-Request": "true"})
    fingerprint = re.search(r'name="cert_sha256" value="([0-9a-f]{64})"', card.get_data(as_text=True))
    assert fingerprint, card.get_data(as_text=True)
    signed = client.post(f"/acts/{act_id}/sign/key", data=form(cert_sha256=fingerprint.group(1)))
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return client.get(signed.headers["Location"]).get_data(as_text=True)


def _verify_cli(app: Flask, tmp_path: Path, act_id: int) -> tuple[int, str, str]:
    [doc] = service.documents(get_db(app), act_id)
    (tmp_path / "v.json").write_bytes(doc.content)
    (tmp_path / "v.p7s").write_bytes(doc.signature)
    result = app.test_cli_runner(env={"WAREHOUSE_LANG": "en"}).invoke(
        verify_cmd, [str(tmp_path / "v.json"), str(tmp_path / "v.p7s")]
    )
    return result.exit_code, result.stdout, result.stderr


def _verdicts(page: str) -> list[str]:
    return re.findall(r'data-verdict="(\w+)"', page)


def test_the_signed_page_of_a_station_without_a_ca_tells_one_verdict(demo_app: Flask, tmp_path: Path) -> None:
    """Issue 16 item 5: "Решение подписано." then "Подпись неверна." when no CA is configured."""
    act_id, _f = decided_act(demo_app, tmp_path)
    page = _sign_in_browser(_lead(demo_app), act_id)
    assert "The decision is signed." in page
    assert "The signature is not valid." not in page and "nothing can be signed or verified" not in page
    assert _verdicts(page) == ["unchecked"]
    assert "the certificate could not be checked against a trusted certification authority" in page
    assert "warehouse trust update" in page
    code, out, err = _verify_cli(demo_app, tmp_path, act_id)
    assert code == UNCHECKED_EXIT and "result: unchecked" in out, (out, err)
    assert "could not be checked against a trusted certification authority" in err and "warehouse trust update" in err


def test_the_signed_page_and_verify_agree_on_a_valid_signature(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    page = _sign_in_browser(_lead(shared_app), act_id)
    assert _verdicts(page) == ["valid"] and "The signature is valid." in page
    assert 'data-testid="demo-mark"' not in page
    code, out, _err = _verify_cli(shared_app, tmp_path, act_id)
    assert code == 0 and "result: valid" in out and "demo:" not in out


def test_the_signed_page_and_verify_agree_on_an_invalid_signature(shared_app: Flask, tmp_path: Path) -> None:
    """A stored document whose bytes were changed afterwards (in the database) is invalid on both."""
    act_id, _f = decided_act(shared_app, tmp_path)
    _sign_in_browser(_lead(shared_app), act_id)
    [doc] = service.documents(get_db(shared_app), act_id)
    with get_db(shared_app).write() as s:
        row = s.get(type(doc), doc.id)
        assert row is not None
        row.content = row.content.replace(b'"decision":"accepted_with_discrepancies"', b'"decision":"accepted"')
    page = _lead(shared_app).get(f"/acts/{act_id}/signed").get_data(as_text=True)
    assert _verdicts(page) == ["invalid"] and "The signature is not valid." in page
    code, out, _err = _verify_cli(shared_app, tmp_path, act_id)
    assert code == 1 and "result: invalid" in out


def test_judge_tells_what_cannot_be_checked_from_what_failed() -> None:
    assert judge(()).verdict is Verdict.VALID
    for problems in (("no_trust_store",), ("crl_outdated",), ("revocation_unchecked",)):
        assert judge(problems).verdict is Verdict.UNCHECKED
    for problems in (("untrusted",), ("expired",), ("revoked",), ("content_mismatch",), ("crl_outdated", "expired")):
        assert judge(problems).verdict is Verdict.INVALID
    assert judge(("no_trust_store", "signer_mismatch")).problems == ("signer_mismatch",)


def _reports(app: Flask, act_id: int, folder: Path, lang: str) -> dict[str, str]:
    """The text of every report a person can print or open for the act, as they read it."""
    db = get_db(app)
    texts = {}
    for kind in (ReportKind.ACCEPTANCE, ReportKind.DISCREPANCIES, ReportKind.LABELS):
        out = reporting.render(db, act_id, kind, ReportFormat.PDF, folder / f"{kind.value}-{lang}.pdf", lang)
        texts[kind.value] = pdf_text(out)
    book = reporting.render(db, act_id, ReportKind.CODES, ReportFormat.XLSX, folder / f"codes-{lang}.xlsx", lang)
    workbook = load_workbook(book, read_only=True)
    summary = workbook.worksheets[0]
    texts["summary sheet"] = "\n".join(str(c) for row in summary.iter_rows(max_row=5, values_only=True) for c in row)
    workbook.close()
    return texts


def test_every_report_of_a_demo_signed_decision_says_demo(demo_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(demo_app, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = demo_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"}).invoke(
        sign_cmd,
        [str(act_id), "--key", str(minted().sign_key), "--password-file", _password(tmp_path), "--out", str(out / "d")],
    )
    assert result.exit_code == 0, result.stderr
    said = result.stdout + result.stderr
    assert "Demo mode: this signature is a demo" in said and "nothing can be signed" not in said, said
    content = (out / "d.json").read_bytes()
    assert json.loads(content)["demo"] is True and acceptance.is_demo(content)
    for lang in ("ru", "kk", "en"):
        for name, text in _reports(demo_app, act_id, tmp_path, lang).items():
            assert MARK[lang] in " ".join(text.split()), f"{name} ({lang}) does not say it is a demo"
    code, verified, _err = _verify_cli(demo_app, tmp_path, act_id)
    assert code == UNCHECKED_EXIT and f"demo: {MARK['en']}" in verified


def test_a_strict_signature_is_printed_without_the_mark(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    _sign_in_browser(_lead(shared_app), act_id)
    [doc] = service.documents(get_db(shared_app), act_id)
    assert b'"demo"' not in doc.content
    for name, text in _reports(shared_app, act_id, tmp_path, "ru").items():
        assert "ДЕМО" not in text, name


def test_the_mark_follows_the_signed_bytes_not_the_setting(demo_app: Flask, tmp_path: Path) -> None:
    """Demo mode switched off later does not make a demo signature look legal (and the pages all say it);
    switched on later, it does not make a strict one look like a demo."""
    act_id, _f = decided_act(demo_app, tmp_path)
    _sign_in_browser(_lead(demo_app), act_id)
    demo_app.config["DEMO_MODE"] = False
    lead = _lead(demo_app, "ru")
    for path in (f"/acts/{act_id}", f"/acts/{act_id}/review", f"/acts/{act_id}/signed"):
        page = lead.get(path).get_data(as_text=True)
        assert 'data-testid="demo-mark"' in page and MARK["ru"] in page, path
    demo_app.config["DEMO_MODE"] = True
    strict_act, _g = decided_act(demo_app, tmp_path)
    assert not service.is_demo_signed(get_db(demo_app), strict_act)  # nothing signed yet
    other = _lead(demo_app)
    assert 'data-testid="demo-mark"' not in other.get(f"/acts/{strict_act}").get_data(as_text=True)


def test_strict_documents_seen_on_a_demo_station_carry_no_mark(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    _sign_in_browser(_lead(shared_app), act_id)
    shared_app.config["DEMO_MODE"] = True
    try:
        page = _lead(shared_app).get(f"/acts/{act_id}/signed").get_data(as_text=True)
    finally:
        shared_app.config["DEMO_MODE"] = False
    assert 'data-testid="demo-mark"' not in page and _verdicts(page) == ["valid"]


def _password(tmp_path: Path) -> str:
    path = tmp_path / "password.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return str(path)


def test_demo_signed_reads_the_head_of_the_bytes_on_every_database(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`demo_signed` reads a prefix of the stored bytes in SQL (substr, length): SQLite and PostgreSQL; a
    head longer than that prefix is read whole."""
    app = signing_app(db_url, tmp_path, trust=False, DEMO_MODE=True)
    try:
        act_id, _f = decided_act(app, tmp_path)
        assert not service.is_demo_signed(get_db(app), act_id)
        _sign_in_browser(_lead(app), act_id)
        assert service.is_demo_signed(get_db(app), act_id)
        monkeypatch.setattr(service, "_HEAD_BYTES", 40)
        assert service.is_demo_signed(get_db(app), act_id)
    finally:
        get_db(app).dispose()
