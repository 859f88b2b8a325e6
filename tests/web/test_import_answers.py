"""Every failed import says why and that nothing changed, however fast it failed (issue 16, item 3).

A refused small file used to answer "Something went wrong" when its import failed before the upload's
answer was rendered, and the list of problems only when it failed later; refusals of htmx requests (a
file over the limit, an expired form, no rights) were whole error pages, which htmx did not show at all.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import Auth, make_app
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def _token(client: FlaskClient) -> str:
    page = client.get("/acts/import", headers={"Accept-Language": "en"}).get_data(as_text=True)
    m = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert m
    return m.group(1)


def _upload(client: FlaskClient, data: bytes, name: str, token: str | None) -> tuple[int, str]:
    headers = dict(HTMX, **({"X-CSRFToken": token} if token else {}))
    r = client.post(
        "/acts/import",
        data={"file": (io.BytesIO(data), name), "mode": "trusted"},
        headers=headers,
        content_type="multipart/form-data",
    )
    return r.status_code, r.get_data(as_text=True)


def test_a_file_refused_at_once_lists_its_problems_in_the_first_answer(client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    token = _token(client)
    for _ in range(5):  # whatever the timing: the answer is the same every time
        status, body = _upload(client, b'{"format": "transfer-act/1", "number": ', "broken.json", token)
        assert status == 200 and "<html" not in body
        assert "The act was not imported. Nothing was changed." in body
        assert "Problems in the file: 1" in body and "Something went wrong" not in body


def test_an_htmx_refusal_is_a_fragment_that_says_nothing_changed(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    token = _token(client)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    status, body = _upload(client, b"x" * (2 * 1024 * 1024), "truck.json", token)
    assert status == 413 and "<html" not in body
    assert "The file is larger than this station accepts (1 MB)." in body and "Nothing was changed." in body
    status, body = _upload(client, b"{}", "act.json", None)  # a form from elsewhere: no CSRF token
    assert status == 400 and "<html" not in body and "The form has expired" in body
    assert "Nothing was changed." in body
    # the same refusal outside htmx is still a whole page
    page = client.post("/acts/import", headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "<html" in page.get_data(as_text=True)


def test_htmx_swaps_refusals_into_the_page(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'name="htmx-config" content=\'([^\']+)\'', page)
    assert config and '{"code": "[45]..", "swap": true, "error": true}' in config.group(1)


def test_a_scan_sent_after_the_session_ended_says_it_was_not_recorded(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, SESSION_IDLE_SECONDS=1)
    act_id = importing.import_act(get_db(app), ActFactory().write(tmp_path / "act.json")).act_id
    client = app.test_client()
    Auth(client).login("staff")
    page = client.get(f"/acts/{act_id}").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token
    time.sleep(1.5)  # the station stands idle; the form on screen still holds its token
    r = client.post(
        f"/acts/{act_id}/scans",
        data={"code": "00046000000000000017", "scan_id": "x1"},
        headers={**HTMX, "X-CSRFToken": token.group(1)},
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 401 and "HX-Redirect" not in r.headers and "<html" not in body
    assert "this was not recorded" in body and 'data-sound="error"' in body
    with get_db(app).read() as s:
        assert s.execute(select(func.count()).select_from(Scan)).scalar_one() == 0
    get_db(app).dispose()
