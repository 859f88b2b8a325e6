"""Device tokens' scope and life: the station a handheld scans into, import and read rights, expiry,
revocation and re-issue — real HTTP through the Flask test client on a real SQLite database."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import ActFactory
from warehouse.cli.devices import devices_cli
from warehouse.db import get_db
from warehouse.models import Act, AuditEntry, Scan, Scanner, Station
from warehouse.services import devices, receiving
from warehouse.services.receiving import stations
from warehouse.services.users import authenticate
from warehouse.timeutil import utcnow


def _issue(app: Flask, name: str, station: str, **scope: Any) -> str:
    with get_db(app).write() as s:
        return devices.issue_token(s, name, station, authenticate(s, "staff", "staff"), **scope)


def _h(token: str, lang: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def _upload(client: FlaskClient, token: str, factory: ActFactory) -> Any:
    body = json.dumps(factory.build(), ensure_ascii=False).encode()
    return client.post(
        "/api/v1/acts",
        headers=_h(token),
        data={"file": (io.BytesIO(body), "act.json")},
        content_type="multipart/form-data",
    )


def _scan(client: FlaskClient, token: str, act_id: int, code: str) -> Any:
    return client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": code})


def _journal(app: Flask) -> int:
    with get_db(app).read() as s:
        return s.execute(select(func.count()).select_from(Scan)).scalar_one()


@pytest.fixture
def act(app: Flask, client: FlaskClient) -> tuple[int, ActFactory]:
    """An act imported by an office integration (its token may import, bound to the office)."""
    f = ActFactory()
    r = _upload(client, _issue(app, "ERP", "office", may_import=True), f)
    assert r.status_code == 201, r.json
    return r.json["id"], f


def _start_at(app: Flask, act_id: int, station: str, code: str) -> None:
    """Staff at `station` start receiving the act with its own scanners (the browser field)."""
    receiving.record_scan(get_db(app), act_id, receiving.ScanInput(raw=code, source="browser", station=station))


def test_a_dock_2_handheld_cannot_scan_into_an_act_received_at_dock_1(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    act_id, f = act
    _start_at(app, act_id, "dock-1", f.codes["box"][0])
    before = _journal(app)
    token = _issue(app, "TSD-07", "dock-2")
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": f.codes["box"][1], "scan_id": "1"})
    assert r.status_code == 403, r.json
    assert r.json["error"]["code"] == "another_station"
    assert "dock-1" in r.json["error"]["message"] and "dock-2" in r.json["error"]["message"]
    assert _journal(app) == before  # nothing journaled
    ru = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token, "ru"), json={"code": f.codes["box"][1]})
    assert ru.status_code == 403 and "станц" in ru.json["error"]["message"]
    # dock-1's own handheld scans into it
    own = _issue(app, "TSD-01", "dock-1")
    ok = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(own), json={"code": f.codes["box"][1], "scan_id": "1"})
    assert ok.status_code == 200 and ok.json["results"][0]["class"] == "matched"


def test_the_first_handheld_scan_puts_a_new_act_at_its_station(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    act_id, f = act
    dock2 = _issue(app, "TSD-07", "dock-2")
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(dock2), json={"code": f.codes["box"][0]})
    assert r.status_code == 200
    dock1 = _issue(app, "TSD-01", "dock-1")
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(dock1), json={"code": f.codes["box"][1]})
    assert r.status_code == 403 and r.json["error"]["code"] == "another_station"


def test_reading_a_summary_needs_may_read_and_the_station(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    act_id, f = act
    scan_only = _issue(app, "TSD-07", "dock-2")
    r = client.get(f"/api/v1/acts/{act_id}", headers=_h(scan_only))
    assert r.status_code == 403 and r.json["error"]["code"] == "may_not_read"
    reader = _issue(app, "TSD-08", "dock-2", may_read=True)
    assert client.get(f"/api/v1/acts/{act_id}", headers=_h(reader)).status_code == 200  # at no station yet
    _start_at(app, act_id, "dock-1", f.codes["box"][0])
    r = client.get(f"/api/v1/acts/{act_id}", headers=_h(reader))  # now dock-1's act: not every act is readable
    assert r.status_code == 403 and r.json["error"]["code"] == "read_another_station"
    by_number = client.get(f"/api/v1/acts/{f.number}", headers=_h(reader))
    assert by_number.status_code == 403
    dock1_reader = _issue(app, "TSD-01", "dock-1", may_read=True)
    summary = client.get(f"/api/v1/acts/{act_id}", headers=_h(dock1_reader))
    assert summary.status_code == 200 and summary.json["credited"]["box"] == 1


def test_importing_needs_may_import(app: Flask, client: FlaskClient) -> None:
    token = _issue(app, "TSD-07", "dock-2", may_read=True)
    r = _upload(client, token, ActFactory())
    assert r.status_code == 403 and r.json["error"]["code"] == "may_not_import"
    with get_db(app).read() as s:
        assert s.execute(select(func.count()).select_from(Act)).scalar_one() == 0


def test_an_expired_token_is_refused_with_its_own_message(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    act_id, f = act
    token = _issue(app, "TSD-07", "dock-2", expires_in=timedelta(days=1))
    assert _scan(client, token, act_id, f.codes["box"][0]).status_code == 200
    with get_db(app).write() as s:
        s.execute(select(Scanner).where(Scanner.name == "TSD-07")).scalar_one().token_expires_at = utcnow() - timedelta(
            seconds=1
        )
    before = _journal(app)
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": f.codes["box"][1]})
    assert r.status_code == 401 and r.json["error"]["code"] == "token_expired"
    assert _journal(app) == before


def test_a_revoked_token_stops_at_once_and_a_reissued_one_replaces_the_old(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    act_id, f = act
    token = _issue(app, "TSD-07", "dock-2")
    assert _scan(client, token, act_id, f.codes["box"][0]).status_code == 200
    with get_db(app).write() as s:
        assert devices.revoke_token(s, "TSD-07")
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token), json={"code": f.codes["box"][1]})
    assert r.status_code == 401 and r.json["error"]["code"] == "token_revoked"
    new = _issue(app, "TSD-07", "dock-2")
    assert _scan(client, new, act_id, f.codes["box"][1]).status_code == 200
    again = _issue(app, "TSD-07", "dock-2")  # re-issued without a revoke: the previous token is refused
    r = client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(new), json={"code": f.codes["pack"][0]})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert client.get(f"/api/v1/acts/{act_id}", headers=_h(again)).status_code == 403  # scan only
    with get_db(app).read() as s:
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions.count("device.token_revoked") == 1 and actions.count("device.token_issued") >= 3


def test_cli_issues_lists_and_revokes(app: Flask, client: FlaskClient, act: tuple[int, ActFactory]) -> None:
    act_id, _ = act
    runner = app.test_cli_runner()
    r = runner.invoke(
        devices_cli, ["token", "--name", "TSD-07", "--station", "dock-2", "--user", "staff", "--may-read"]
    )
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    assert client.get(f"/api/v1/acts/{act_id}", headers=_h(token)).status_code == 200
    refused = runner.invoke(devices_cli, ["token", "--name", "TSD-08", "--station", "dock-2", "--expires-in", "0"])
    assert refused.exit_code != 0
    listed = runner.invoke(devices_cli, ["list"])
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.strip().splitlines()
    assert header.split("\t") == ["NAME", "STATION", "PERSON", "SCOPE", "EXPIRES", "LAST SEEN", "REVOKED"]
    tsd = next(row.split("\t") for row in rows if row.startswith("TSD-07\t"))
    assert tsd[1] == "dock-2" and tsd[2] not in ("", "-") and tsd[3] == "scan,read"  # the person's full name
    expires = (utcnow() + timedelta(days=365)).date().isoformat()
    assert tsd[4].startswith(expires) and tsd[5] != "-" and tsd[6] == "-"
    assert not any(row.startswith("TSD-08\t") for row in rows)  # the refused issue made nothing
    r = runner.invoke(devices_cli, ["revoke", "TSD-07"])
    assert r.exit_code == 0, r.output
    assert client.get(f"/api/v1/acts/{act_id}", headers=_h(token)).status_code == 401
    tsd = next(row.split("\t") for row in runner.invoke(devices_cli, ["list"]).output.splitlines() if "TSD-07" in row)
    assert tsd[6] != "-"
    assert runner.invoke(devices_cli, ["revoke", "nobody"]).exit_code != 0
    as_json = runner.invoke(devices_cli, ["list", "--json"])
    row = next(json.loads(line) for line in as_json.output.splitlines() if "TSD-07" in line)
    assert row["scope"] == ["scan", "read"] and row["revoked_at"] is not None


def test_the_receiving_service_itself_keeps_a_handheld_to_its_station(app: Flask, act: tuple[int, ActFactory]) -> None:
    """The rule holds under the act's lock too: a handheld's scan that reaches the service although another
    station started the act since its token was checked records nothing."""
    act_id, f = act
    db = get_db(app)
    receiving.record_scan(db, act_id, receiving.ScanInput(raw=f.codes["box"][0], source="cli"))  # no station
    _start_at(app, act_id, "dock-1", f.codes["box"][1])  # the first stationed scan puts the act at dock-1
    with db.read() as s:
        assert stations.receiving_station(s, act_id) == "dock-1"
    before = _journal(app)
    handheld = receiving.ScanInput(raw=f.codes["pack"][0], source="api", station="dock-2")
    with pytest.raises(receiving.ReceivingError) as refused:
        receiving.record_scans(db, act_id, [handheld])
    assert refused.value.reason == "another_station" and "dock-1" in refused.value.message("en")
    assert _journal(app) == before


def test_several_stations_receive_one_act_and_their_handhelds_scan_into_it(
    app: Flask, client: FlaskClient, act: tuple[int, ActFactory]
) -> None:
    """Issue 19: a big truck is unloaded at two docks at once. A station joins the act by working on it (its
    own scanners or browser field; "feed this act" is the explicit way for its hardware scanners), each scan
    is attributed to its station, and each joined station's handhelds scan into it; a third dock's do not."""
    act_id, f = act
    _start_at(app, act_id, "dock-1", f.codes["pack"][0])
    _start_at(app, act_id, "dock-2", f.codes["pack"][1])  # dock-2's field joins dock-1's act
    with get_db(app).read() as s:
        assert stations.receiving_stations(s, act_id) == {"dock-1", "dock-2"}
    for name, station, code in (("TSD-01", "dock-1", f.codes["pack"][2]), ("TSD-02", "dock-2", f.codes["pack"][3])):
        r = _scan(client, _issue(app, name, station), act_id, code)
        assert r.status_code == 200 and r.json["results"][0]["class"] == "matched", r.json
    before = _journal(app)
    r = _scan(client, _issue(app, "TSD-03", "dock-3"), act_id, f.codes["pack"][4])
    assert r.status_code == 403 and r.json["error"]["code"] == "another_station"
    assert "dock-1" in r.json["error"]["message"] and "dock-2" in r.json["error"]["message"]
    assert _journal(app) == before
    with get_db(app).read() as s:
        by_station = s.execute(
            select(Station.name, func.count()).join(Scan, Scan.station_id == Station.id).group_by(Station.name)
        ).all()
    assert dict(by_station) == {"dock-1": 2, "dock-2": 2}
