"""The Photo button of the receiving and outgoing screens, through HTTP (issue 17, item 2): every code in
a photo goes through the one scan path with source `photo`; a photo sent again counts nothing twice; a
file that is no photo, a photo of nothing and one too large are refused in the reader's language, and
nothing is recorded. On SQLite and PostgreSQL (the `app` fixture)."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import Auth
from tests.hardware.test_image import photo, symbol
from tests.web.test_receiving_pages import _act, _token
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.web.photos import MAX_PHOTO_MB


def jpeg(*codes: str, scale: int = 4) -> bytes:
    """A photo of the codes side by side, as a phone would send it (JPEG)."""
    frame = photo(*((symbol(c, gs1=c.startswith("01"), scale=scale), (40 + 380 * k, 200)) for k, c in enumerate(codes)))
    buf = io.BytesIO()
    frame.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _send(client: FlaskClient, url: str, token: str, data: bytes, name: str = "IMG_0001.jpg") -> tuple[int, str]:
    r = client.post(
        url,
        data={"photo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    return r.status_code, r.get_data(as_text=True)


def _scans(app: Flask) -> list[tuple[str, str]]:
    with get_db(app).read() as s:
        return [(row.raw, row.source) for row in s.execute(select(Scan).order_by(Scan.id)).scalars()]


def test_every_code_of_a_photo_is_scanned_once(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    page = client.get(f"/acts/{act_id}").get_data(as_text=True)
    assert 'accept="image/*" capture="environment"' in page and f"/acts/{act_id}/photo" in page
    packs = f.codes["pack"][:2]
    picture = jpeg(*packs, "04600439931256JgXJ5.T1120AbC9")  # two of the act's packs and another product's

    status, body = _send(client, f"/acts/{act_id}/photo", token, picture)
    assert status == 200, body
    assert 'data-sound="error"' in body  # the wrong product sounds for the whole photo
    assert body.count('data-class="matched"') == 2 and body.count('data-class="wrong_product"') == 1
    assert _scans(app) == [(packs[0], "photo"), (packs[1], "photo"), ("04600439931256JgXJ5.T1120AbC9", "photo")]

    # The same photo again (the answer was lost on the way): answered as before, nothing journaled twice.
    status, again = _send(client, f"/acts/{act_id}/photo", token, picture)
    assert status == 200 and again.count('data-class="matched"') == 2
    assert len(_scans(app)) == 3
    with get_db(app).read() as s:
        assert s.execute(select(func.count()).select_from(Scan).where(Scan.source == "photo")).scalar_one() == 3


def test_what_is_no_photo_of_a_code_records_nothing(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, _f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    empty = io.BytesIO()
    Image.new("L", (800, 600), 190).save(empty, format="PNG")
    cases = {
        "not a photo": (b"%PDF-1.7 not a picture", "Этот файл"),
        "nothing in it": (empty.getvalue(), "не найден"),
        "too large": (b"\xff" * (MAX_PHOTO_MB * 1024 * 1024 + 1), f"больше {MAX_PHOTO_MB}"),
        "nothing sent": (b"", "не отправлено"),
    }
    for case, (data, words) in cases.items():
        status, body = _send(client, f"/acts/{act_id}/photo", token, data)
        assert status == 422, case
        assert words in body and 'data-sound="error"' in body, (case, body)
        assert "Traceback" not in body and "<html" not in body
    assert _scans(app) == []
    assert client.post(f"/acts/{act_id}/photo", data={}, content_type="multipart/form-data").status_code == 400  # CSRF
