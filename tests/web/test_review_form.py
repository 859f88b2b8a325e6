"""The lead's review as one form (issue 16, item 8): filters, one resolution for every line shown, and a
line changed but not saved is recorded with the decision instead of being dropped."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.factories import ActFactory, gtin, pack
from warehouse.db import get_db
from warehouse.models import LineResolution
from warehouse.services import importing, receiving
from warehouse.services.receiving import ScanInput

SURPLUS = pack(gtin(1001), 777_777)  # a pack of a product of the act that the act does not list


def _closed(app: Flask, tmp_path: Path, number: str = "ТА-000123", start: int = 0) -> tuple[int, ActFactory]:
    f = ActFactory(number=number, pallets=1, boxes=4, blocks=1, packs=1, start=start)
    db = get_db(app)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    receiving.record_scan(db, act_id, ScanInput(raw=f.codes["box"][0], source="cli", station="dock-1"))
    receiving.record_scan(db, act_id, ScanInput(raw=SURPLUS, source="cli", station="dock-1"))
    receiving.close_act(db, act_id, actor="test")
    return act_id, f


def _form(page: str) -> tuple[str, list[str]]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return token.group(1), re.findall(r'name="line" value="([cs]\d+)"', page)


def _resolutions(app: Flask) -> list[tuple[str, str | None, str | None]]:
    with get_db(app).read() as s:
        return [(r.resolution, r.reason, r.comment) for r in s.query(LineResolution).order_by(LineResolution.id)]


def test_filters_and_one_resolution_for_every_line_shown(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, _f = _closed(app, tmp_path)
    auth.login("lead")
    every = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    _, all_keys = _form(every)
    assert len(all_keys) == 4  # three missing boxes, one surplus
    page = client.get(f"/acts/{act_id}/review?kind=missing&level=box").get_data(as_text=True)
    token, keys = _form(page)
    assert len(keys) == 3 and all(k.startswith("c") for k in keys)
    assert SURPLUS[:20] not in page
    r = client.post(
        f"/acts/{act_id}/lines/save",
        data={
            "csrf_token": token,
            "line": keys,
            "bulk": "1",
            "bulk_resolution": "reject",
            "bulk_reason": "shortage",
            "filter_kind": "missing",
            "filter_level": "box",
        },
    )
    assert r.status_code == 302 and "kind=missing" in r.headers["Location"]  # back to the same lines
    assert _resolutions(app) == [("reject", "shortage", None)] * 3
    # saving the same again writes nothing: the audit trail is not padded with repeats
    client.post(
        f"/acts/{act_id}/lines/save",
        data={"csrf_token": token, "line": keys, "bulk": "1", "bulk_resolution": "reject", "bulk_reason": "shortage"},
    )
    assert len(_resolutions(app)) == 3


def test_a_line_changed_and_not_saved_goes_in_with_the_decision(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, _f = _closed(app, tmp_path)
    auth.login("lead")
    token, keys = _form(client.get(f"/acts/{act_id}/review").get_data(as_text=True))
    data: dict[str, object] = {"csrf_token": token, "line": keys, "decision": "accepted_with_discrepancies"}
    data[f"resolution-{keys[0]}"] = "accept"
    data[f"comment-{keys[0]}"] = "привезут завтра"
    r = client.post(f"/acts/{act_id}/decide", data=data)
    assert r.status_code == 302
    assert _resolutions(app) == [("accept", None, "привезут завтра")]  # the unchanged lines: nothing to write
    with get_db(app).read() as s:
        assert receiving.find_act(s, act_id).status == "decided"


def test_a_bad_line_refuses_the_whole_form(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, _f = _closed(app, tmp_path)
    (tmp_path / "other").mkdir()
    other_id, _ = _closed(app, tmp_path / "other", number="ТА-2", start=100)
    auth.login("lead")
    token, keys = _form(client.get(f"/acts/{act_id}/review").get_data(as_text=True))
    _, foreign = _form(client.get(f"/acts/{other_id}/review").get_data(as_text=True))
    data = {"csrf_token": token, "line": [keys[0], foreign[0]], f"resolution-{keys[0]}": "accept",
            f"resolution-{foreign[0]}": "accept"}  # fmt: skip
    client.post(f"/acts/{act_id}/lines/save", data=data)
    assert _resolutions(app) == []  # a line of another act: nothing of the form is saved
