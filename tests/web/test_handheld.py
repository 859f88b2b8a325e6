"""The handheld page's routes through HTTP (issue 17, item 3): the login in the phone's layout, the choice of
act by route code, id or number (refused in words otherwise), the state it shows, and the scan answers its
script relies on (a scan answered carries data-scan-answer; a replay answers the same and counts once; an
expired form or an ended session says nothing about the scan). On SQLite and PostgreSQL (the `app` fixture)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import Auth
from tests.web.test_receiving_pages import _act, _token
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import receiving
from warehouse.station.routing import route_code

EN = {"Accept-Language": "en"}


def _scans(app: Flask, act_id: int) -> int:
    with get_db(app).read() as s:
        return int(s.execute(select(func.count()).select_from(Scan).where(Scan.act_id == act_id)).scalar_one())


def test_the_page_asks_for_a_login_in_its_own_layout_and_a_staff_badge_alone_logs_in(
    client: FlaskClient, auth: Auth
) -> None:
    r = client.get("/m/", headers=EN)
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/m/"
    page = client.get("/login?next=/m/", headers=EN).get_data(as_text=True)
    assert 'class="handheld"' in page and "Scan your badge" in page
    assert 'class="handheld"' not in client.get("/login", headers=EN).get_data(as_text=True)
    token = auth.csrf("/login?next=/m/")
    r = client.post("/login?next=/m/", data={"badge": "nope", "csrf_token": token}, headers=EN)
    assert r.status_code == 401 and 'class="handheld"' in r.get_data(as_text=True)
    assert "Badge not recognised." in r.get_data(as_text=True)
    r = client.post("/login?next=/m/", data={"badge": "BADGE-STAFF-0001", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/m/"
    assert "Choose the act" in client.get("/m/", headers=EN).get_data(as_text=True)


def test_a_lead_badge_asks_for_the_pin_on_the_phone(client: FlaskClient, auth: Auth) -> None:
    token = auth.csrf("/login?next=/m/")
    r = client.post("/login?next=/m/", data={"badge": "BADGE-LEAD-0001", "csrf_token": token}, headers=EN)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'class="handheld"' in page and 'name="pin"' in page
    r = client.post("/login?next=/m/", data={"pin": "1234", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/m/"


def test_the_act_is_chosen_by_route_code_id_or_number_and_refused_in_words(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, f = _act(app, tmp_path)
    closed_id, _ = _act(app, tmp_path, number="ТА-000999")
    receiving.close_act(get_db(app), closed_id)
    auth.login("staff")
    listed = client.get("/m/", headers=EN).get_data(as_text=True)
    assert f"/m/acts/{act_id}" in listed and f"/m/acts/{closed_id}" not in listed  # only acts still receiving
    for ref in (route_code(act_id), route_code(act_id).lower(), "]d1" + route_code(act_id), str(act_id), f.number):
        r = client.get("/m/find", query_string={"code": ref})
        assert r.status_code == 302 and r.headers["Location"] == f"/m/acts/{act_id}", ref
    r = client.get("/m/find", query_string={"code": "<NOPE>"}, headers=EN)
    assert r.status_code == 404
    assert "No incoming act is numbered &lt;NOPE&gt;." in r.get_data(as_text=True)
    r = client.get("/m/find", query_string={"code": route_code(closed_id)}, headers=EN)
    assert r.status_code == 409 and "receives no scans any more" in r.get_data(as_text=True)
    assert client.get("/m/find", query_string={"code": ""}).status_code == 404
    assert client.get("/m/acts/999999").status_code == 404
    assert client.get("/m/acts/999999/state").status_code == 404


def test_the_state_counts_and_lists_what_is_still_to_scan(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, f = _act(app, tmp_path, pallets=1, boxes=1, blocks=2, packs=3)
    auth.login("staff")
    page = client.get(f"/m/acts/{act_id}", headers=EN).get_data(as_text=True)
    for attribute in ("data-scan-url", "data-waiting", "data-offline", "data-queued", "data-session", "data-retry"):
        assert attribute in page
    assert f'data-scan-url="/acts/{act_id}/scans"' in page and f'action="/acts/{act_id}/photo"' in page
    token = _token(client, f"/m/acts/{act_id}")
    client.post(f"/acts/{act_id}/scans", data={"code": f.codes["block"][0]}, headers={"X-CSRFToken": token})
    state = client.get(f"/m/acts/{act_id}/state", headers=EN).get_data(as_text=True)
    assert re.search(r'data-testid="credited-block">1<', state) and re.search(r'data-testid="credited-pack">3<', state)
    rows = re.findall(r'data-level="(block|pack)">(Blocks|Packs): <strong>(\d+)</strong>', state)
    assert [(level, int(n)) for level, _word, n in rows] == [("block", 1), ("pack", 3)]  # the other block's
    r = client.get(f"/m/acts/{act_id}/events", buffered=False)
    assert r.mimetype == "text/event-stream"
    r.close()


def test_the_answers_the_script_relies_on(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/m/acts/{act_id}")
    sid = "2f1e4c1a-9a43-4f43-9d0b-1c1d2e3f4a5b"
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    data = {"code": f.codes["block"][0], "scan_id": sid}
    first = client.post(f"/acts/{act_id}/scans", data=data, headers=headers)
    again = client.post(f"/acts/{act_id}/scans", data=data, headers=headers)  # its answer was lost: sent again
    assert first.status_code == again.status_code == 200
    assert 'data-scan-answer="matched"' in first.get_data(as_text=True)
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    assert _scans(app, act_id) == 1
    # an expired form is no answer about the scan: nothing recorded, and the page keeps it to send again
    r = client.post(f"/acts/{act_id}/scans", data={"code": f.codes["block"][1]}, headers={"HX-Request": "true"})
    assert r.status_code == 400 and "data-scan-answer" not in r.get_data(as_text=True)
    # a refusal of the scan itself is one: the page shows it and sends it no more
    r = client.post(f"/acts/{act_id}/scans", data={"code": "a\x00b", "scan_id": "x"}, headers=headers)
    assert r.status_code == 422 and 'data-scan-answer="refused"' in r.get_data(as_text=True)
    receiving.close_act(get_db(app), act_id)
    r = client.post(f"/acts/{act_id}/scans", data={"code": f.codes["block"][1], "scan_id": "y"}, headers=headers)
    assert r.status_code == 409 and 'data-scan-answer="refused"' in r.get_data(as_text=True)
    assert _scans(app, act_id) == 1
    # the session ended: said, not an answer about the scan
    client.post("/logout", data={"csrf_token": token})
    r = client.post(f"/acts/{act_id}/scans", data={"code": f.codes["block"][1]}, headers=headers)
    assert r.status_code in (400, 401) and "data-scan-answer" not in r.get_data(as_text=True)
