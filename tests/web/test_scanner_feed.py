"""Which act the station's hardware scanners feed: only an explicit action moves them (issue 15, item 6).

Merely loading an act's page (a lead reading act 2 in the office, a cross-site link) must not divert the
dock's scanners; the act page's button (a POST with CSRF) or scanning the act's route code does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth, make_app
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.services import importing
from warehouse.station.scanners import ScannerStation, start_scanners


@pytest.fixture
def station_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with its scanner station running (no scanner plugged: the router is what is under test)."""
    app = make_app(sqlite_url, tmp_path)
    station = start_scanners(app, discover_devices=lambda: [])
    yield app
    station.stop()
    get_db(app).dispose()


def _station(app: Flask) -> ScannerStation:
    station = app.extensions["warehouse.station"]
    assert isinstance(station, ScannerStation)
    return station


def _acts(app: Flask, tmp_path: Path, n: int = 2) -> list[int]:
    return [
        importing.import_act(get_db(app), ActFactory(number=f"ТА-{i}").write(tmp_path / f"act{i}.json")).act_id
        for i in range(n)
    ]


def _english(client: FlaskClient) -> FlaskClient:
    """Pages render in Russian by default; these tests read the English words."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _form_token(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert m
    return m.group(1)


def test_loading_an_act_page_does_not_move_the_scanners(station_app: Flask, tmp_path: Path) -> None:
    first, second = _acts(station_app, tmp_path)
    router = _station(station_app).router
    name = station_app.config["STATION"]
    router.open_act(name, first)  # the dock receives act 1
    lead = _english(station_app.test_client())
    Auth(lead).login("lead")
    page = lead.get(f"/acts/{second}")  # a lead reads act 2 in the office
    assert page.status_code == 200
    assert router.act_for(name) == first
    text = page.get_data(as_text=True)
    assert "feed act ТА-0" in text and "Scanners of this station feed this act" in text  # says where they go


def test_the_feed_button_needs_csrf_and_then_moves_the_scanners(station_app: Flask, tmp_path: Path) -> None:
    first, second = _acts(station_app, tmp_path)
    router = _station(station_app).router
    name = station_app.config["STATION"]
    router.open_act(name, first)
    client: FlaskClient = _english(station_app.test_client())
    Auth(client).login("staff")
    # a cross-site form (no token) is refused and changes nothing
    assert client.post(f"/acts/{second}/scanners").status_code == 400
    assert router.act_for(name) == first
    token = _form_token(client.get(f"/acts/{second}").get_data(as_text=True))
    r = client.post(f"/acts/{second}/scanners", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/acts/{second}")
    assert router.act_for(name) == second
    page = client.get(f"/acts/{second}").get_data(as_text=True)
    assert "The scanners of this station feed this act" in page


def test_the_feed_button_is_refused_for_an_act_no_longer_received(station_app: Flask, tmp_path: Path) -> None:
    from warehouse.services import receiving

    (act_id,) = _acts(station_app, tmp_path, 1)
    receiving.close_act(get_db(station_app), act_id)
    client = station_app.test_client()
    Auth(client).login("staff")
    token = _form_token(client.get(f"/acts/{act_id}").get_data(as_text=True))
    assert client.post(f"/acts/{act_id}/scanners", data={"csrf_token": token}).status_code == 409
    assert _station(station_app).router.act_for(station_app.config["STATION"]) is None


def test_without_scanners_the_page_offers_no_button(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    (act_id,) = _acts(app, tmp_path, 1)
    auth.login("staff")
    page = _english(client).get(f"/acts/{act_id}").get_data(as_text=True)
    assert "The scanners of this station feed" not in page and "Scanners of this station feed this act" not in page
    token = _form_token(page)
    assert client.post(f"/acts/{act_id}/scanners", data={"csrf_token": token}).status_code == 409


def test_feeding_an_act_at_this_station_moves_it_here_for_the_handhelds(station_app: Flask, tmp_path: Path) -> None:
    """An act a dock-2 handheld started is moved to this station by the feed button: this station's
    handhelds may then scan into it, dock-2's may not (warehouse.services.devices)."""
    from warehouse.services import devices, receiving
    from warehouse.services.receiving.stations import receiving_station

    (act_id,) = _acts(station_app, tmp_path, 1)
    db = get_db(station_app)
    here = station_app.config["STATION"]
    receiving.record_scan(db, act_id, receiving.ScanInput(raw="x", source="api", station="dock-2"))
    with db.write() as s:
        token = devices.issue_token(s, "TSD-H", here, None)
    api = station_app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    assert api.post(f"/api/v1/acts/{act_id}/scans", headers=headers, json={"code": "y"}).status_code == 403
    client = station_app.test_client()
    Auth(client).login("staff")
    csrf = _form_token(client.get(f"/acts/{act_id}").get_data(as_text=True))
    assert client.post(f"/acts/{act_id}/scanners", data={"csrf_token": csrf}).status_code == 302
    with db.read() as s:
        assert receiving_station(s, act_id) == here
    assert api.post(f"/api/v1/acts/{act_id}/scans", headers=headers, json={"code": "y"}).status_code == 200
