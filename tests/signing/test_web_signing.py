"""The signing pages: see the certificate, sign with a key file or NCALayer's CMS, check signatures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.signing.conftest import decided_act
from tests.signing.pki import GOST_2004_KEY, NCA_PASSWORD, PASSWORD, Pki, minted
from warehouse.db import get_db
from warehouse.services import signing as service
from warehouse.signing.signers import Pkcs12Signer


def _key() -> bytes:
    return minted().sign_key.read_bytes()


@pytest.fixture
def lead(shared_app: Flask) -> FlaskClient:
    client = shared_app.test_client()
    Auth(client).login("lead")
    client.post("/language", data={"lang": "en", "csrf_token": _token(client, "/acts")})
    return client


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _key_form(client: FlaskClient, act_id: int, key: bytes, password: str, **extra: str) -> dict[str, object]:
    from io import BytesIO

    return {
        "csrf_token": _token(client, f"/acts/{act_id}/sign"),
        "key": (BytesIO(key), "RSA256_test.p12"),
        "password": password,
        **extra,
    }


def test_only_leads_sign(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    staff = shared_app.test_client()
    Auth(staff).login("staff")
    assert staff.get(f"/acts/{act_id}/sign").status_code == 403
    anonymous = shared_app.test_client()
    assert anonymous.get(f"/acts/{act_id}/sign").status_code == 302


def test_show_the_certificate_then_sign(shared_app: Flask, lead: FlaskClient, tmp_path: Path) -> None:
    act_id, f = decided_act(shared_app, tmp_path)
    page = lead.get(f"/acts/{act_id}/sign").get_data(as_text=True)
    assert "transfer-act-acceptance/1" in page and f.codes["pallet"][0] in page

    shown = lead.post(
        f"/acts/{act_id}/sign/certificate",
        data=_key_form(lead, act_id, _key(), PASSWORD),
        headers={"HX-Request": "true"},
    )
    card = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" in card and "123456789011" in card
    assert "ҰКО ТЕСТ (склад)" in card and "certificate has expired" not in card and "not issued" not in card
    fingerprint = re.search(r'name="cert_sha256" value="([0-9a-f]{64})"', card)
    assert fingerprint

    # Signing without having seen the certificate is refused, and writes nothing
    refused = lead.post(f"/acts/{act_id}/sign/key", data=_key_form(lead, act_id, _key(), PASSWORD))
    assert refused.status_code == 400 and "Check the certificate before signing" in refused.get_data(as_text=True)
    assert service.documents(get_db(shared_app), act_id) == []

    signed = lead.post(
        f"/acts/{act_id}/sign/key",
        data=_key_form(lead, act_id, _key(), PASSWORD, cert_sha256=fingerprint.group(1)),
    )
    assert signed.status_code == 302 and signed.headers["Location"].endswith(f"/acts/{act_id}/signed")
    result = lead.get(f"/acts/{act_id}/signed").get_data(as_text=True)
    assert "The decision is signed." in result and "The signature is valid." in result
    assert PASSWORD not in result
    [doc] = service.documents(get_db(shared_app), act_id)
    assert lead.get(f"/signed/{doc.id}.json").data == doc.content
    download = lead.get(f"/signed/{doc.id}.p7s")
    assert download.data == doc.signature and "attachment" in download.headers["Content-Disposition"]
    assert lead.get(f"/acts/{act_id}/sign").status_code == 302  # signed: the page sends you to the result


@pytest.mark.parametrize(
    ("key", "password", "expected"),
    [
        (minted().sign_key, "nope", "Wrong password for the key file"),
        (GOST_2004_KEY, NCA_PASSWORD, "This is a GOST key: it can only sign through NCALayer"),
    ],
)
def test_refused_keys_write_nothing(
    shared_app: Flask, lead: FlaskClient, tmp_path: Path, key: Path, password: str, expected: str
) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    response = lead.post(
        f"/acts/{act_id}/sign/key", data=_key_form(lead, act_id, key.read_bytes(), password, cert_sha256="0" * 64)
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in text
    assert f'value="{password}"' not in text
    assert service.documents(get_db(shared_app), act_id) == []
    card = lead.post(f"/acts/{act_id}/sign/certificate", data=_key_form(lead, act_id, key.read_bytes(), password))
    assert expected in card.get_data(as_text=True) or "GOST" in card.get_data(as_text=True)


def test_auth_key_certificate_is_shown_but_cannot_sign(
    shared_app: Flask, lead: FlaskClient, tmp_path: Path, pki: Pki
) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    card = lead.post(f"/acts/{act_id}/sign/certificate", data=_key_form(lead, act_id, pki.auth.p12, PASSWORD))
    text = card.get_data(as_text=True)
    assert "900101300123" in text and "login key (AUTH_" in text and "cert_sha256" not in text


def test_ncalayer_cms_is_verified_then_stored(shared_app: Flask, lead: FlaskClient, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    page = lead.get(f"/acts/{act_id}/sign").get_data(as_text=True)
    documents = json.loads(re.search(r'id="ncalayer-documents">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    created_at = re.search(r'name="created_at" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert 'data-url="wss://127.0.0.1:13579"' in page
    import base64

    signer = Pkcs12Signer.open(_key(), PASSWORD)
    cms = [base64.b64encode(signer.sign(base64.b64decode(d))).decode() for d in documents]
    token = _token(lead, f"/acts/{act_id}/sign")
    wrong = [base64.b64encode(signer.sign(b"other")).decode() for _d in documents]
    refused = lead.post(
        f"/acts/{act_id}/sign/ncalayer", data={"csrf_token": token, "created_at": created_at, "cms": wrong}
    )
    assert refused.status_code == 400 and "belongs to another document" in refused.get_data(as_text=True)
    assert service.documents(get_db(shared_app), act_id) == []
    stored = lead.post(
        f"/acts/{act_id}/sign/ncalayer", data={"csrf_token": token, "created_at": created_at, "cms": cms}
    )
    assert stored.status_code == 302
    assert len(service.documents(get_db(shared_app), act_id)) == len(documents)


def test_verify_view(shared_app: Flask, lead: FlaskClient, pki: Pki) -> None:
    from io import BytesIO

    from warehouse.signing.cms import sign_detached

    signature = Pkcs12Signer.open(_key(), PASSWORD).sign(b'{"a":1}')
    token = _token(lead, "/verify")
    ok = lead.post(
        "/verify",
        data={
            "csrf_token": token,
            "document": (BytesIO(b'{"a":1}'), "d.json"),
            "signature": (BytesIO(signature), "d.p7s"),
        },
    )
    assert ok.status_code == 200 and "The signature is valid." in ok.get_data(as_text=True)
    bad = lead.post(
        "/verify",
        data={
            "csrf_token": token,
            "document": (BytesIO(b'{"a":2}'), "d.json"),
            "signature": (BytesIO(signature), "d.p7s"),
        },
    )
    assert bad.status_code == 422 and "belongs to another document" in bad.get_data(as_text=True)
    foreign = sign_detached(b"x", pki.sign.certificate, pki.sign.key)
    untrusted = lead.post(
        "/verify",
        data={"csrf_token": token, "document": (BytesIO(b"x"), "d.json"), "signature": (BytesIO(foreign), "d.p7s")},
    )
    assert untrusted.status_code == 422 and "not issued by a trusted" in untrusted.get_data(as_text=True)
    assert lead.post("/verify", data={"document": (BytesIO(b"x"), "d.json")}).status_code == 400  # no CSRF token
