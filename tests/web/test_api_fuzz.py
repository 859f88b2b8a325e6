"""The scan endpoint fuzzed with hypothesis on SQLite (issue 15, item 4): whatever the body, never a 5xx;
every item a 2xx answer accepts is journaled exactly once; nothing is credited twice."""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import ActCode, Scan
from warehouse.services import devices
from warehouse.services.users import authenticate

F = ActFactory()
ACT = F.build()
REAL = [c for level in ("pallet", "box", "block", "pack") for c in F.codes[level]]
texts = st.text(st.characters(codec=None, categories=None), max_size=40)  # surrogates, NUL, controls
codes = st.one_of(
    st.sampled_from(REAL),
    texts,
    st.sampled_from(["", "\x00", "\ud800", "0" * 1025, "Ж" * 513, "Ж" * 512, "#WH:UNDO", "\x1d" * 30]),
    st.integers(),
    st.none(),
)
scan_ids = st.one_of(st.none(), st.sampled_from(["1", "2", "3", "a" * 64, "a" * 65, "", "a b"]), texts, st.integers())
items = st.one_of(
    st.fixed_dictionaries({"code": codes, "scan_id": scan_ids}),
    st.fixed_dictionaries({"code": codes}),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.text(max_size=5),
    st.integers(),
)
bodies = st.one_of(
    st.fixed_dictionaries({"scans": st.lists(items, min_size=0, max_size=8)}),
    items,
    st.lists(items, max_size=3),
    st.none(),
)


def _setup(app: Flask) -> tuple[str, int]:
    with get_db(app).write() as s:
        token = devices.issue_token(
            s, "TSD-FUZZ", "dock-2", authenticate(s, "staff", "staff"), may_import=True, may_read=True
        )
    body = json.dumps(ACT, ensure_ascii=False).encode()
    r = app.test_client().post(
        "/api/v1/acts",
        headers={"Authorization": f"Bearer {token}"},
        data={"file": (io.BytesIO(body), "a.json")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201
    return token, int(r.json["id"])


def test_the_scan_endpoint_never_fails_and_journals_what_it_accepts(sqlite_app: Flask) -> None:
    app = sqlite_app
    token, act_id = _setup(app)
    client = app.test_client()
    accepted: set[int] = set()  # journal ids answered as new scans
    counts = {"requests": 0}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=bodies, raw=st.booleans())
    def post(body: Any, raw: bool) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        url = f"/api/v1/acts/{act_id}/scans"
        if raw:  # the body as JSON text, surrogates escaped the way a terminal's JSON writer does
            r = client.post(url, headers=headers, data=json.dumps(body), content_type="application/json")
        else:
            r = client.post(url, headers=headers, data=str(body).encode("utf-8", "replace"))
        counts["requests"] += 1
        assert r.status_code < 500, r.get_data(as_text=True)
        answer = r.json
        assert isinstance(answer, dict)
        if r.status_code >= 300:
            assert "error" in answer and answer["error"]["message"]
            assert all(x["status"] == "refused" for x in answer.get("results", []))
            return
        for item in answer["results"]:
            if item["status"] != "accepted":
                assert item["reason"] and item["message"]
                continue
            if item["replayed"]:
                assert item["journal_id"] in accepted
            else:
                assert item["journal_id"] not in accepted, "answered as new twice"
                accepted.add(item["journal_id"])

    post()
    with get_db(app).read() as s:
        journal = set(s.execute(select(Scan.id)).scalars())
        credited = s.execute(select(func.coalesce(func.sum(Scan.credited), 0))).scalar_one()
        credited_rows = s.execute(select(func.count(ActCode.credited_scan_id))).scalar_one()
    assert journal == accepted, "every accepted item is journaled exactly once, and nothing else is"
    assert credited == credited_rows, "every credit is owned by exactly one scan"
    assert counts["requests"] >= 100
