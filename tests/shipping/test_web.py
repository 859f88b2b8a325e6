"""The pages: stock and search, opening a box, a new act, scanning with htmx, totals, signing with a key
file, downloads, and applying the receiver's acceptance uploaded through the browser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.shipping.conftest import SHOP_BIN, Stations, settings, signer, stocked
from tests.signing.pki import PASSWORD, minted
from warehouse.db import get_db
from warehouse.events import Event, broker
from warehouse.services import importing, receiving, shipping
from warehouse.services import signing as signing_service


def english(client: FlaskClient) -> None:
    client.post("/language", data={"lang": "en", "next": "/stock", "csrf_token": token(client, "/stock")})


def token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ship_from_the_pages(stations: Stations, tmp_path: Path) -> None:
    a = stations.wholesaler
    f = stocked(stations.a, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    client = a.test_client()
    Auth(client).login("lead")
    english(client)

    page = client.get("/stock").get_data(as_text=True)
    assert "Marlboro Red" in page and f.codes["pallet"][0] in page
    found = client.get(
        "/stock", query_string={"q": f.codes["box"][0]}, headers={"HX-Request": "true", "HX-Target": "stock-found"}
    ).get_data(as_text=True)
    assert "<html" not in found and f.codes["pallet"][0] in found  # the box, inside its pallet
    csrf = token(client, "/stock")
    opened = client.post("/stock/open", data={"code": f.codes["pallet"][0], "csrf_token": csrf}, follow_redirects=True)
    assert "held one by one" in opened.get_data(as_text=True)

    bad = client.post(
        "/ship/new",
        data={"receiver_bin": "123456789012", "receiver_name": "Магазин", "csrf_token": token(client, "/ship/new")},
    )
    assert bad.status_code == 400 and "is not valid" in bad.get_data(as_text=True)
    created = client.post(
        "/ship/new",
        data={
            "receiver_bin": SHOP_BIN,
            "receiver_name": 'ТОО "Магазин <1>"',
            "basis_type": "ESF",
            "basis_number": "KZ-ESF-1",
            "basis_date": "",
            "turnover": "sale",
            "csrf_token": token(client, "/ship/new"),
        },
    )
    assert created.status_code == 302
    url = created.headers["Location"]
    act_id = int(url.rsplit("/", 1)[1])
    page = client.get(url).get_data(as_text=True)
    assert "ТОО &#34;Магазин &lt;1&gt;&#34;" in page and "ESF (electronic invoice) № KZ-ESF-1" in page
    htmx = {"HX-Request": "true", "X-CSRFToken": token(client, url)}
    heard = broker.subscribe(act_id)
    added = client.post(f"/ship/{act_id}/codes", data={"code": f.codes["box"][0]}, headers=htmx)
    assert added.status_code == 200 and 'data-class="added"' in added.get_data(as_text=True)
    assert heard.get(timeout=1) == Event(act_id, "codes")  # every open window of the act re-renders (SSE)
    broker.unsubscribe(act_id, heard)
    again = client.post(f"/ship/{act_id}/codes", data={"code": f.codes["box"][0]}, headers=htmx)
    assert again.status_code == 422 and "Already on this act" in again.get_data(as_text=True)
    totals = client.get(f"/ship/{act_id}/totals").get_data(as_text=True)
    assert "<html" not in totals and 'id="totals"' in totals
    gtin = f.codes["block"][0][2:16]
    refused = client.post(f"/ship/{act_id}/prices", data={f"price:{gtin}:block": "11,2,0"}, headers=htmx)
    # What the save answers goes beside the table, out of band: a live update of the table never takes it away.
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and '<div id="prices-note" hx-swap-oob="true">' in body
    assert 'data-testid="prices-error"' in body and 'value="11,2,0"' in body  # what was typed stays
    assert shipping.act_summary(stations.a, act_id).totals.amount == 0
    saved = client.post(f"/ship/{act_id}/prices", data={f"price:{gtin}:block": "1120,00"}, headers=htmx)
    assert saved.status_code == 200 and 'data-testid="prices-saved"' in saved.get_data(as_text=True)
    assert shipping.act_summary(stations.a, act_id).totals.amount == 112_000
    client.post(f"/ship/{act_id}/prices", data={f"price:{gtin}:block": "1120,00", "csrf_token": token(client, url)})
    assert shipping.act_summary(stations.a, act_id).totals.amount == 112_000

    sign_url = f"/ship/{act_id}/sign"
    sign_page = client.get(sign_url).get_data(as_text=True)
    assert "transfer-act/1" in sign_page and "ncalayer-documents" in sign_page
    key = minted().sign_key.read_bytes()
    card = client.post(
        f"/ship/{act_id}/sign/certificate",
        headers=htmx,
        content_type="multipart/form-data",
        data={"key": (io.BytesIO(key), "RSA256_test.p12"), "password": PASSWORD},
    )
    fingerprint = re.search(r'name="cert_sha256" value="([0-9a-f]{64})"', card.get_data(as_text=True))
    assert fingerprint, card.get_data(as_text=True)
    csrf = token(client, sign_url)
    unseen = client.post(
        f"/ship/{act_id}/sign/key",
        content_type="multipart/form-data",
        data={"key": (io.BytesIO(key), "k.p12"), "password": PASSWORD, "csrf_token": csrf},
    )
    assert unseen.status_code == 400 and shipping.act_summary(stations.a, act_id).act.status == "draft"
    signed = client.post(
        f"/ship/{act_id}/sign/key",
        content_type="multipart/form-data",
        data={
            "key": (io.BytesIO(key), "k.p12"),
            "password": PASSWORD,
            "csrf_token": csrf,
            "cert_sha256": fingerprint.group(1),
        },
    )
    assert signed.status_code == 302
    document = client.get(f"/ship/{act_id}/export/1.json")
    signature = client.get(f"/ship/{act_id}/export/1.p7s")
    assert document.status_code == 200 and "attachment" in document.headers["Content-Disposition"]
    # The act's number is Cyrillic (ТА-…): a real server sends headers as Latin-1, so the name goes RFC 5987.
    disposition = document.headers["Content-Disposition"]
    disposition.encode("latin-1")
    assert "filename*=UTF-8''act-%D0%A2%D0%90-" in disposition and signature.headers["Content-Disposition"]
    assert client.get(f"/ship/{act_id}/export/1.xlsx").status_code == 200
    assert shipping.act_summary(stations.a, act_id).act.status == "sent"

    # The shop receives nothing of it and rejects the act.
    path = tmp_path / "act.json"
    path.write_bytes(document.data)
    incoming = importing.import_act(stations.b, path).act_id
    receiving.close_act(stations.b, incoming)
    receiving.decide(stations.b, incoming, "rejected", reason="shortage")
    answer = signing_service.sign_act(stations.b, incoming, signer(), settings=settings(stations.shop))

    staff = a.test_client()
    Auth(staff).login("staff")
    english(staff)
    upload = {
        "document": (io.BytesIO(answer.documents[0].content), "answer.json"),
        "signature": (io.BytesIO(answer.signatures[0]), "answer.p7s"),
        "csrf_token": token(staff, url),
    }
    assert staff.post(f"/ship/{act_id}/acceptance", data=upload, content_type="multipart/form-data").status_code == 403
    wrong = {
        "document": (io.BytesIO(answer.documents[0].content), "answer.json"),
        "signature": (io.BytesIO(document.data), "answer.p7s"),
        "csrf_token": token(client, url),
    }
    refused = client.post(f"/ship/{act_id}/acceptance", data=wrong, content_type="multipart/form-data")
    assert refused.status_code == 400 and 'data-testid="ship-error"' in refused.get_data(as_text=True)
    upload["csrf_token"] = token(client, url)
    upload["document"] = (io.BytesIO(answer.documents[0].content), "answer.json")
    upload["signature"] = (io.BytesIO(answer.signatures[0]), "answer.p7s")
    applied = client.post(f"/ship/{act_id}/acceptance", data=upload, content_type="multipart/form-data")
    text = applied.get_data(as_text=True)
    assert applied.status_code == 200 and "Rejected" in text and f.codes["box"][0] in text
    assert shipping.act_summary(stations.a, act_id).act.status == "rejected"
    back = client.get("/stock", query_string={"q": f.codes["box"][0]}).get_data(as_text=True)
    assert "In stock" in back and "Returned by the receiver" in back
    assert signature.status_code == 200
    done = client.get(url).get_data(as_text=True)
    assert "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" in done and 'data-testid="ship-status">Rejected' in done  # who answered
    assert f"/ship/{act_id}" in client.get("/ship").get_data(as_text=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ship_signed_with_ncalayer(stations: Stations, tmp_path: Path) -> None:
    """The browser signs the documents on the page; only CMS over exactly those documents is stored."""
    import base64
    import json

    from warehouse.signing.signers import Pkcs12Signer

    f = stocked(stations.a, tmp_path, pallets=1, boxes=2, blocks=2, packs=2)
    out = shipping.new_act(
        stations.a,
        receiver_bin=SHOP_BIN,
        receiver_name='ТОО "Магазин <1>"',
        sender=shipping.company(stations.wholesaler.config),
        actor="test",
    )
    assert shipping.add_code(stations.a, out.id, f.codes["pallet"][0]).added
    client = stations.wholesaler.test_client()
    Auth(client).login("lead")
    english(client)
    sign_url = f"/ship/{out.id}/sign"
    page = client.get(sign_url).get_data(as_text=True)
    found = re.search(r'id="ncalayer-documents">(.*?)</script>', page, re.S)
    assert found and 'data-url="wss://127.0.0.1:13579"' in page
    documents = [base64.b64decode(d) for d in json.loads(found.group(1))]
    assert documents and b"transfer-act/1" in documents[0]
    key = Pkcs12Signer.open(minted().sign_key.read_bytes(), PASSWORD)
    post = {"csrf_token": token(client, sign_url)}

    garbage = client.post(f"/ship/{out.id}/sign/ncalayer", data={**post, "cms": "not base64!"})
    assert garbage.status_code == 400 and 'data-testid="sign-error"' in garbage.get_data(as_text=True)
    other = client.post(
        f"/ship/{out.id}/sign/ncalayer",
        data={**post, "cms": [base64.b64encode(key.sign(b"other")).decode() for _ in documents]},
    )
    assert other.status_code == 400 and "belongs to another document" in other.get_data(as_text=True)
    assert shipping.act_summary(stations.a, out.id).act.status == "draft"

    signed = client.post(
        f"/ship/{out.id}/sign/ncalayer",
        data={**post, "cms": [base64.b64encode(key.sign(d)).decode() for d in documents]},
    )
    assert signed.status_code == 302 and signed.headers["Location"].endswith(f"/ship/{out.id}")
    assert shipping.act_summary(stations.a, out.id).act.status == "signed"
    assert "The act is signed" in client.get(f"/ship/{out.id}").get_data(as_text=True)


def test_a_photo_puts_its_codes_on_the_draft(wholesaler: Flask, tmp_path: Path) -> None:
    """Issue 17, item 2: the outgoing screen's Photo button; each code in the photo goes the way of a scan
    (a pallet on the act, the same pallet again refused), nothing when the photo shows no code."""
    from tests.web.test_photos import jpeg

    db = get_db(wholesaler)
    f = stocked(db, tmp_path, pallets=2, boxes=1, blocks=1, packs=1)
    draft = shipping.new_act(
        db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(wholesaler.config)
    )
    client = wholesaler.test_client()
    Auth(client).login("lead")
    url = f"/ship/{draft.id}"
    page = client.get(url).get_data(as_text=True)
    assert f"/ship/{draft.id}/photo" in page and 'capture="environment"' in page
    headers = {"HX-Request": "true", "X-CSRFToken": token(client, url)}

    def send(data: bytes) -> tuple[int, str]:
        r = client.post(
            f"{url}/photo",
            data={"photo": (io.BytesIO(data), "p.jpg")},
            content_type="multipart/form-data",
            headers=headers,
        )
        return r.status_code, r.get_data(as_text=True)

    status, body = send(jpeg(f.codes["pallet"][0], f.codes["pallet"][1]))
    assert status == 200 and body.count('data-class="added"') == 2 and 'data-sound="ok"' in body, body
    assert shipping.act_summary(db, draft.id).totals.codes == 2 * (1 + 1 + 1 + 1)
    status, body = send(jpeg(f.codes["pallet"][0]))
    assert status == 200 and 'data-sound="error"' in body and 'data-class="added"' not in body
    status, body = send(b"GIF89a not really")
    assert status == 422 and 'data-sound="error"' in body
    assert shipping.act_summary(db, draft.id).totals.codes == 8
