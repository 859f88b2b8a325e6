"""The handheld API's scans: the idempotency key, items refused one by one, the body limit (issue 15,
items 3 and 4), on SQLite and PostgreSQL. Fuzzing is in test_api_fuzz.py, kill -9 in test_api_crash.py.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import ActCode, Scan
from warehouse.services import devices
from warehouse.services.users import authenticate


def _token(app: Flask, name: str = "TSD-07") -> str:
    with get_db(app).write() as s:
        return devices.issue_token(s, name, "dock-2", authenticate(s, "staff", "staff"), may_import=True, may_read=True)


def _h(token: str, lang: str = "en") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": lang}


def _act(client: FlaskClient, token: str, factory: ActFactory) -> int:
    body = json.dumps(factory.build(), ensure_ascii=False).encode()
    r = client.post(
        "/api/v1/acts",
        headers=_h(token),
        data={"file": (io.BytesIO(body), "a.json")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    return int(r.json["id"])


def _post(client: FlaskClient, token: str, act_id: int, body: Any, lang: str = "en") -> Any:
    return client.post(f"/api/v1/acts/{act_id}/scans", headers=_h(token, lang), json=body)


def _journal(app: Flask) -> list[tuple[int | None, str]]:
    with get_db(app).read() as s:
        return [(a, r) for a, r in s.execute(select(Scan.act_id, Scan.raw).order_by(Scan.id))]


def _credited(app: Flask, act_id: int) -> int:
    with get_db(app).read() as s:
        query = select(func.count(ActCode.credited_scan_id)).where(ActCode.act_id == act_id)
        return int(s.execute(query).scalar_one())


# --- item 3: the idempotency key ---------------------------------------------------------------------


def test_a_scan_id_reused_for_another_code_is_refused_and_journals_nothing(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    first = _post(client, token, act_id, {"code": f.codes["pack"][0], "scan_id": "1"})
    assert first.status_code == 200 and first.json["results"][0]["credited"] == 1
    # The terminal's counter restarted: scan 1 again, but of another pack.
    r = _post(client, token, act_id, {"code": f.codes["pack"][1], "scan_id": "1"})
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == "scan_id_reused"
    item = r.json["results"][0]
    assert item["status"] == "refused" and item["reason"] == "scan_id_reused" and item["scan_id"] == "1"
    assert "another code" in item["message"]
    ru = _post(client, token, act_id, {"code": f.codes["pack"][1], "scan_id": "1"}, lang="ru")
    assert ru.status_code == 409 and "другого кода" in ru.json["error"]["message"]
    assert _journal(app) == [(act_id, f.codes["pack"][0])], "a refused reuse journals nothing"
    assert _credited(app, act_id) == 1
    # Inside one batch too: the second use of an id with another code is refused, the rest go in.
    batch = [
        {"code": f.codes["pack"][2], "scan_id": "2"},
        {"code": f.codes["pack"][3], "scan_id": "2"},
        {"code": f.codes["pack"][4], "scan_id": "3"},
    ]
    r = _post(client, token, act_id, {"scans": batch})
    assert r.status_code == 200
    assert [x["status"] for x in r.json["results"]] == ["accepted", "refused", "accepted"]
    assert r.json["results"][1]["reason"] == "scan_id_reused"
    assert r.json["accepted"] == 2 and r.json["refused"] == 1
    assert [raw for _, raw in _journal(app)] == [f.codes["pack"][0], f.codes["pack"][2], f.codes["pack"][4]]


def test_a_true_replay_answers_what_was_credited_the_first_time(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    scans = [{"code": f.codes["box"][0], "scan_id": "b1"}, {"code": f.codes["pack"][0], "scan_id": "p1"}]
    first = _post(client, token, act_id, {"scans": scans}).json["results"]
    assert [(x["class"], x["credited"], x["replayed"]) for x in first] == [
        ("matched", 1 + 2 + 6, False),
        ("duplicate", 0, False),
    ]
    again = _post(client, token, act_id, {"scans": scans})
    assert again.status_code == 200
    replayed = again.json["results"]
    assert [(x["class"], x["credited"], x["replayed"]) for x in replayed] == [
        ("matched", 1 + 2 + 6, True),
        ("duplicate", 0, True),
    ]
    assert [x["journal_id"] for x in replayed] == [x["journal_id"] for x in first]
    assert len(_journal(app)) == 2 and _credited(app, act_id) == 9


def test_the_key_is_scoped_to_the_act(app: Flask, client: FlaskClient) -> None:
    """The same scan id on another act is that act's own scan, not a replay of the first act's."""
    token = _token(app)
    a, b = ActFactory(number="ТА-1"), ActFactory(number="ТА-2", start=1000)
    act_a, act_b = _act(client, token, a), _act(client, token, b)
    _post(client, token, act_a, {"code": a.codes["pack"][0], "scan_id": "1"})
    r = _post(client, token, act_b, {"code": b.codes["pack"][0], "scan_id": "1"})
    assert r.status_code == 200
    item = r.json["results"][0]
    assert item["replayed"] is False and item["class"] == "matched" and item["credited"] == 1
    assert _journal(app) == [(act_a, a.codes["pack"][0]), (act_b, b.codes["pack"][0])]
    assert _credited(app, act_b) == 1
    # and each act still answers its own retries
    assert _post(client, token, act_a, {"code": a.codes["pack"][0], "scan_id": "1"}).json["results"][0]["replayed"]


def test_a_reissued_token_starts_a_new_key_space(app: Flask, client: FlaskClient) -> None:
    old = _token(app)
    f = ActFactory()  # packs 0, 3 and 6 are in three blocks: each credits itself alone
    act_id = _act(client, old, f)
    _post(client, old, act_id, {"code": f.codes["pack"][0], "scan_id": "1"})
    new = _token(app)  # the same device, re-keyed (a new terminal, or its app reinstalled)
    assert _post(client, old, act_id, {"code": f.codes["pack"][3], "scan_id": "1"}).status_code == 401
    r = _post(client, new, act_id, {"code": f.codes["pack"][3], "scan_id": "1"})
    assert r.status_code == 200
    assert r.json["results"][0]["replayed"] is False and r.json["results"][0]["credited"] == 1
    # Another device's ids are its own as well.
    other = _token(app, "TSD-08")
    r = _post(client, other, act_id, {"code": f.codes["pack"][6], "scan_id": "1"})
    assert r.status_code == 200 and r.json["results"][0]["credited"] == 1
    assert len(_journal(app)) == 3 and _credited(app, act_id) == 3


# --- item 4: every item on its own, the limits at the edge --------------------------------------------


def test_a_bad_item_does_not_block_the_batch(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    batch = {
        "scans": [
            {"code": f.codes["pack"][0], "scan_id": "1"},
            {"code": "0104600439931256\ud80021JgXJ5.T", "scan_id": "2"},
            {"code": f.codes["pack"][3], "scan_id": "3"},
        ]
    }
    r = _post(client, token, act_id, batch)
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert [x["status"] for x in results] == ["accepted", "refused", "accepted"]
    assert [x["index"] for x in results] == [0, 1, 2]
    assert results[1]["reason"] == "code_not_text" and results[1]["scan_id"] == "2" and results[1]["message"]
    assert [x.get("credited") for x in results] == [1, None, 1]
    assert [raw for _, raw in _journal(app)] == [f.codes["pack"][0], f.codes["pack"][3]]
    # The terminal retries the whole batch: the good ones are replays, the bad one is refused again.
    again = _post(client, token, act_id, batch)
    assert again.status_code == 200
    assert [(x["status"], x.get("replayed")) for x in again.json["results"]] == [
        ("accepted", True),
        ("refused", None),
        ("accepted", True),
    ]
    # and the terminal goes on scanning
    more = _post(client, token, act_id, {"code": f.codes["pack"][6], "scan_id": "4"})
    assert more.status_code == 200 and more.json["results"][0]["credited"] == 1
    assert len(_journal(app)) == 3 and _credited(app, act_id) == 3


def test_what_the_journal_cannot_hold_is_refused_at_the_edge(app: Flask, client: FlaskClient) -> None:
    """NUL, a lone surrogate, a code over 1 KiB, an unbounded or odd scan_id: each refused with its reason
    (PostgreSQL answered 500 to NUL and to a scan_id over ~75 characters)."""
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    items: list[Any] = [
        {"code": "0104600439\x0093125621JgXJ5.T", "scan_id": "nul"},
        {"code": "\udfff", "scan_id": "surrogate"},
        {"code": "0" * 1025, "scan_id": "long"},
        {"code": "Ж" * 513, "scan_id": "long-bytes"},  # 1026 bytes of UTF-8
        {"code": f.codes["pack"][0], "scan_id": "x" * 100},
        {"code": f.codes["pack"][0], "scan_id": "a b"},
        {"code": f.codes["pack"][0], "scan_id": ""},
        {"code": f.codes["pack"][0], "scan_id": 7},
        {"code": 5, "scan_id": "int"},
        "not an object",
        {"scan_id": "no-code"},
    ]
    r = _post(client, token, act_id, {"scans": items})
    assert r.status_code == 422, r.json
    reasons = [x["reason"] for x in r.json["results"]]
    assert reasons == [
        "code_has_nul",
        "code_not_text",
        "code_too_long",
        "code_too_long",
        "bad_scan_id",
        "bad_scan_id",
        "bad_scan_id",
        "bad_scan_id",
        "bad_scan",
        "bad_scan",
        "bad_scan",
    ]
    assert all(x["status"] == "refused" and x["message"] for x in r.json["results"])
    assert r.json["error"]["code"] == "code_has_nul" and r.json["accepted"] == 0
    assert _journal(app) == []
    # At the limits exactly, they go in.
    ok = [
        {"code": "Ж" * 512, "scan_id": "A" * 64},
        {"code": f.codes["pack"][0], "scan_id": "tsd-07:2026-12-03T06:00:00.123_9"},
        {"code": f.codes["pack"][1]},  # no scan_id: no idempotency, as before
    ]
    r = _post(client, token, act_id, {"scans": ok})
    assert r.status_code == 200 and [x["status"] for x in r.json["results"]] == ["accepted"] * 3, r.json
    assert [x["class"] for x in r.json["results"]] == ["invalid", "matched", "matched"]
    assert len(_journal(app)) == 3


def test_a_body_over_the_limit_is_refused_before_it_is_read(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    code = "0" * (1 << 20)
    body = json.dumps({"scans": [{"code": code, "scan_id": str(i)} for i in range(100)]}).encode()
    url = f"/api/v1/acts/{act_id}/scans"
    t = time.monotonic()
    r = client.post(url, headers=_h(token, "ru"), data=body, content_type="application/json")
    elapsed = time.monotonic() - t
    assert r.status_code == 413, r.json
    assert r.json["error"]["code"] == "body_too_large" and "МиБ" in r.json["error"]["message"]
    assert elapsed < 2, f"refusing took {elapsed:.1f} s"
    # The same refusal when the length is not announced (chunked, the server passing the stream on as it
    # comes): read only up to the limit.
    r = client.post(
        url,
        headers={**_h(token), "Transfer-Encoding": "chunked"},
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413 and r.json["error"]["code"] == "body_too_large"
    assert _journal(app) == []
    # 500 scans of 1 KiB codes, the most the items may hold, are not refused whole.
    big = {"scans": [{"code": "\x1d" * 1024, "scan_id": f"s{i}"} for i in range(500)]}
    r = client.post(url, headers=_h(token), data=json.dumps(big), content_type="application/json")
    assert r.status_code == 200 and r.json["accepted"] == 500


def test_nul_and_a_long_scan_id_are_refused_not_a_server_error(app: Flask, client: FlaskClient) -> None:
    """PostgreSQL's text cannot hold NUL and the key column was 80 characters: both answered 500."""
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    nul = _post(client, token, act_id, {"code": f.codes["pack"][0] + "\x00", "scan_id": "1"})
    assert nul.status_code == 422 and nul.json["error"]["code"] == "code_has_nul", nul.status_code
    long_id = _post(client, token, act_id, {"code": f.codes["pack"][0], "scan_id": "9" * 76})
    assert long_id.status_code == 422 and long_id.json["error"]["code"] == "bad_scan_id", long_id.status_code
    assert _journal(app) == []
    ok = _post(client, token, act_id, {"code": f.codes["pack"][0], "scan_id": "9" * 64})
    assert ok.status_code == 200 and ok.json["results"][0]["credited"] == 1


def test_a_retry_across_the_upgrade_is_still_answered(app: Flask, client: FlaskClient) -> None:
    """Revision 0010 rewrites the keys journaled before it ("<scanner id>:<scan_id>") into the new form."""
    from alembic import command
    from sqlalchemy import text

    from warehouse import migrate

    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    first = _post(client, token, act_id, {"code": f.codes["box"][0], "scan_id": "41"}).json["results"][0]
    db = get_db(app)
    with db.write() as s:  # as revision 0009's code journaled it
        scanner_id = s.execute(select(Scan.scanner_id)).scalar_one()
        s.execute(text("UPDATE scans SET client_scan_id = :k"), {"k": f"{scanner_id}:41"})
    command.downgrade(migrate.alembic_config(db.engine), "0009")
    migrate.upgrade(db.engine)
    again = _post(client, token, act_id, {"code": f.codes["box"][0], "scan_id": "41"}).json["results"][0]
    assert again["replayed"] is True and again["journal_id"] == first["journal_id"] and again["credited"] == 9
    assert len(_journal(app)) == 1


def test_the_items_after_a_scanned_close_are_refused_one_by_one(app: Flask, client: FlaskClient) -> None:
    token = _token(app)
    f = ActFactory()
    act_id = _act(client, token, f)
    batch = [
        {"code": f.codes["pack"][0], "scan_id": "1"},
        {"code": "#WH:CLOSE", "scan_id": "2"},
        {"code": f.codes["pack"][3], "scan_id": "3"},
    ]
    r = _post(client, token, act_id, {"scans": batch})
    assert r.status_code == 200
    assert [(x["status"], x["reason"]) for x in r.json["results"]][2] == ("refused", "act_not_open")
    assert [x["status"] for x in r.json["results"]][:2] == ["accepted", "accepted"]
    assert [raw for _, raw in _journal(app)] == [f.codes["pack"][0], "#WH:CLOSE"]
    # A retry after the close is still answered for what went in; the rest is refused as a whole.
    again = _post(client, token, act_id, {"scans": batch[:2]})
    assert again.status_code == 200 and [x["replayed"] for x in again.json["results"]] == [True, True]
    late = _post(client, token, act_id, {"scans": batch[2:]})
    assert late.status_code == 409 and late.json["error"]["code"] == "act_not_open"
