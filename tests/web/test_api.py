"""The handheld API: tokens, import, batches of scans, retries, errors as JSON, and its OpenAPI document."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import ActFactory
from warehouse import db as db_module
from warehouse.db import get_db
from warehouse.services import devices
from warehouse.services.users import authenticate


@pytest.fixture
def token(app: Flask) -> str:
    with get_db(app).write() as s:
        staff = authenticate(s, "staff", "staff")
        # This terminal also imports acts and reads their summaries: issued with those rights.
        return devices.issue_token(s, "TSD-07", "dock-2", staff, may_import=True, may_read=True)


def _h(token: str, lang: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def _upload(client: FlaskClient, token: str, factory: ActFactory, name: str = "act.json") -> Any:
    body = json.dumps(factory.build(), ensure_ascii=False).encode()
    return client.post(
        "/api/v1/acts", headers=_h(token), data={"file": (io.BytesIO(body), name)}, content_type="multipart/form-data"
    )


def test_requests_without_a_valid_token_are_refused(client: FlaskClient) -> None:
    r = client.get("/api/v1/acts/1")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/acts/1", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_import_scan_batch_and_summary(client: FlaskClient, token: str) -> None:
    f = ActFactory()
    r = _upload(client, token, f)
    assert r.status_code == 201, r.json
    act_id = r.json["id"]
    scans = [
        {"code": f.codes["box"][0], "scan_id": "1"},
        {"code": f.codes["pack"][0], "scan_id": "2"},
        {"code": "garbage<&>", "scan_id": "3"},
    ]
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"scans": scans})
    assert r.status_code == 200
    classes = [x["class"] for x in r.json["results"]]
    assert classes == ["matched", "duplicate", "invalid"]
    assert r.json["results"][0]["credited"] == 1 + 2 + 6
    # The terminal lost the answer and sends the batch again: nothing is counted twice.
    again = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"scans": scans})
    assert [x["replayed"] for x in again.json["results"]] == [True, True, True]
    summary = client.get(f"/api/v1/acts/{act_id}", headers=_h(token)).json
    assert summary["credited"]["pack"] == 6 and summary["duplicate"] == 1 and summary["invalid"] == 1


def test_scans_are_attributed_to_the_device_station_and_person(app: Flask, client: FlaskClient, token: str) -> None:
    from sqlalchemy import select

    from warehouse.models import Scan, Station, User

    f = ActFactory()
    act_id = _upload(client, token, f).json["id"]
    client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": f.codes["box"][1], "scan_id": "x"})
    with get_db(app).read() as s:
        scan = s.execute(select(Scan)).scalar_one()
        assert scan.source == "api" and scan.scanner_id is not None
        assert s.get(Station, scan.station_id).name == "dock-2"
        assert s.get(User, scan.user_id).username == "staff"


def test_bad_files_and_bodies_get_json_errors(client: FlaskClient, token: str, tmp_path: Path) -> None:
    r = client.post(
        "/api/v1/acts",
        headers=_h(token),
        data={"file": (io.BytesIO(b"{not json"), "a.json")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and r.json["error"]["problems"]
    r = client.post(
        "/api/v1/acts",
        headers=_h(token),
        data={"file": (io.BytesIO(b"x"), "a.exe")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    f = ActFactory()
    first = _upload(client, token, f)
    second = _upload(client, token, f)
    assert second.status_code == 409 and second.json["error"]["existing_act_id"] == first.json["id"]
    act_id = first.json["id"]
    assert (
        client.post(
            f"/api/v1/acts/{act_id}/scans", headers=_h(token), data="[]", content_type="application/json"
        ).status_code
        == 400
    )
    # A malformed item is refused on its own (422 when nothing else was sent), never the whole batch.
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"scans": [{"code": 5}]})
    assert r.status_code == 422 and r.json["results"][0]["reason"] == "bad_scan"
    assert (
        client.post(
            f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"scans": [{"code": "x"}] * 501}
        ).status_code
        == 413
    )
    r = client.post("/api/v1/acts/999999/scans", headers=_h(token, "ru"), json={"code": "x"})
    assert r.status_code == 404 and r.json["error"]["message"] == "Акт не найден"


def test_openapi_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    actual = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule[len("/api/v1") :].replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                actual.add((path, method.lower()))
    assert actual == documented


def test_responses_carry_the_documented_fields(client: FlaskClient, token: str) -> None:
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    f = ActFactory()
    act_id = _upload(client, token, f).json["id"]
    result = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": f.codes["pack"][0]}).json
    assert set(schemas["ScanAccepted"]["required"]) <= set(result["results"][0])
    assert set(schemas["ScanAnswer"]["required"]) <= set(result)
    refused = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": "\x00"}).json
    assert set(schemas["ScanRefused"]["required"]) <= set(refused["results"][0])
    summary = client.get(f"/api/v1/acts/{act_id}", headers=_h(token)).json
    assert set(schemas["Summary"]["required"]) <= set(summary)
    err = client.get("/api/v1/acts/999999", headers=_h(token)).json
    assert set(schemas["Error"]["required"]) <= set(err)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_held_by_another_writer_answers_503_json(
    client: FlaskClient, token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lock held past the busy timeout: a JSON 503 in the caller's language, nothing recorded; the
    handheld sends the batch again and it is recorded once."""
    f = ActFactory()
    act_id = _upload(client, token, f).json["id"]
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 150)  # the station's 30 s, shortened for the test
    holder = sqlite3.connect(tmp_path / "warehouse.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    scans = {"scans": [{"code": f.codes["box"][0], "scan_id": "1"}]}
    try:
        r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token, "ru"), json=scans)
        assert r.status_code == 503 and r.json["error"]["code"] == "database_unavailable"
        assert "ничего из этого запроса не записано" in r.json["error"]["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json=scans)
    assert again.status_code == 200 and again.json["results"][0]["replayed"] is False
