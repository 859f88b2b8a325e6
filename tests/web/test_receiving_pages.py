"""The receiving screen, the live stream, closing, the lead's review and decision — through HTTP."""

from __future__ import annotations

import http.client
import re
import sqlite3
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import Auth, LiveServer
from tests.factories import ActFactory
from warehouse import db as db_module
from warehouse.db import get_db
from warehouse.models import Scan
from warehouse.services import importing


def _act(app: Flask, tmp_path: Path, **kw: object) -> tuple[int, ActFactory]:
    f = ActFactory(**kw)  # type: ignore[arg-type]
    act_id = importing.import_act(get_db(app), f.write(tmp_path / "act.json")).act_id
    return act_id, f


def _token(client: FlaskClient, path: str) -> str:
    m = re.search(r'"X-CSRFToken": "([^"]+)"', client.get(path).get_data(as_text=True))
    assert m
    return m.group(1)


def test_screen_escapes_every_code(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    nasty = f.codes["block"][0][:-4] + "<&'\""  # changes the check part only: still the same block identity
    plain = {"X-CSRFToken": token}  # a plain form's scan: redirected to the screen with its banner (PRG)
    r = client.post(f"/acts/{act_id}/scans", data={"code": "<script>x</script>"}, headers=plain, follow_redirects=True)
    assert r.history[0].status_code == 303 and "?scan=" in r.request.url
    assert r.status_code == 200 and 'data-class="invalid"' in r.get_data(as_text=True)
    assert "<script>" not in r.get_data(as_text=True)
    client.post(f"/acts/{act_id}/scans", data={"code": nasty}, headers={"X-CSRFToken": token})
    page = client.get(f"/acts/{act_id}").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "&lt;&amp;&#39;&#34;" in page or "&lt;&amp;&#39;&quot;" in page


def test_scan_needs_csrf_and_login(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path)
    assert client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}).status_code in (302, 400)
    auth.login("staff")
    assert client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}).status_code == 400


def test_live_stream_carries_rows_and_counters(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    """One viewer holds the SSE stream over real HTTP (as `warehouse run` serves it); another station scans."""
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    cookie = client.get_cookie("session")
    assert cookie is not None
    server = LiveServer(app)
    got: list[str] = []
    opened = threading.Event()
    try:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", f"/acts/{act_id}/events", headers={"Cookie": f"session={cookie.value}"})
        response = conn.getresponse()
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")

        def read() -> None:
            for line in response:
                got.append(line.decode())
                opened.set()
                if line.startswith(b"event: counters"):
                    got.extend(next(response).decode() for _ in range(3))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert opened.wait(timeout=10)
        assert got[0].startswith("retry:")
        other = app.test_client()
        Auth(other).login("lead")
        token = _token(other, f"/acts/{act_id}")
        headers = {"X-CSRFToken": token, "HX-Request": "true"}
        posted = other.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}, headers=headers)
        assert posted.status_code == 200
        reader.join(timeout=10)
        conn.close()
    finally:
        server.stop()
    text = "".join(got)
    assert "event: scan" in text and 'class="scan scan-matched"' in text and "lead" in text
    assert "event: counters" in text


def test_staff_closes_but_only_a_lead_decides(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path, boxes=2)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}, headers={"X-CSRFToken": token})
    client.post(f"/acts/{act_id}/scans", data={"code": "00" + "048700000099990"}, headers={"X-CSRFToken": token})
    assert client.post(f"/acts/{act_id}/close", headers={"X-CSRFToken": token}).status_code == 302
    assert client.get(f"/acts/{act_id}/review").status_code == 403
    assert (
        client.post(f"/acts/{act_id}/decide", data={"decision": "rejected"}, headers={"X-CSRFToken": token}).status_code
        == 403
    )

    auth.login("lead")
    token = _token(client, f"/acts/{act_id}/review")
    page = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    assert f.codes["box"][1] in page  # the missing box, listed as the box
    assert "Недостача · Короб" in page and "· box" not in page  # the level in the reader's language
    code_id = re.search(r'name="line" value="c(\d+)"', page)
    assert code_id
    r = client.post(
        f"/acts/{act_id}/lines",
        data={
            "act_code_id": code_id.group(1),
            "resolution": "reject",
            "reason": "shortage",
            "comment": "box <not> delivered",
        },
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 200
    assert "box &lt;not&gt; delivered" in client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    r = client.post(f"/acts/{act_id}/decide", data={"decision": "accepted"}, headers={"X-CSRFToken": token})
    assert r.status_code == 302  # refused with a message: there are discrepancies
    assert client.get(f"/acts/{act_id}/review").get_data(as_text=True).count("status-closed") >= 1
    r = client.post(
        f"/acts/{act_id}/decide",
        data={"decision": "accepted_with_discrepancies", "reason": "shortage"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 302
    page = client.get(f"/acts/{act_id}/review").get_data(as_text=True)
    assert "status-decided" in page
    audit_page = client.get(f"/acts/{act_id}/audit").get_data(as_text=True)
    # each action in the reader's language (issue 16, item 4), not its key ("act.decided")
    assert "Решение записано" in audit_page and "Приёмка завершена" in audit_page and "act.decided" not in audit_page
    assert "Принято решение по строке расхождения" in audit_page
    # read as text, escaped, not as JSON; the key and a closed set's value in the reader's language
    assert 'комментарий: <span class="code">box &lt;not&gt; delivered</span>' in audit_page
    assert 'решение: <span class="code">Принят с расхождениями</span>' in audit_page


def test_resolving_a_line_of_another_act_is_refused(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    act_id, _f = _act(app, tmp_path)
    other_id = importing.import_act(get_db(app), ActFactory(number="B", start=500).write(tmp_path / "b.json")).act_id
    from warehouse.services import receiving

    receiving.close_act(get_db(app), act_id)
    auth.login("lead")
    token = _token(client, f"/acts/{act_id}/review")
    from sqlalchemy import select

    from warehouse.models import ActCode

    with get_db(app).read() as s:
        foreign_code = s.execute(select(ActCode.id).where(ActCode.act_id == other_id).limit(1)).scalar()
    r = client.post(
        f"/acts/{act_id}/lines",
        data={"act_code_id": str(foreign_code), "resolution": "accept"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 400


def test_tree_shows_what_each_aggregate_holds(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    act_id, f = _act(app, tmp_path, boxes=2, blocks=2, packs=3)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}, headers={"X-CSRFToken": token})
    top = client.get(f"/acts/{act_id}/tree").get_data(as_text=True)
    # one pallet: 2 boxes + 4 blocks + 12 packs inside; the first box and its 2 blocks and 6 packs credited
    assert top.count('class="node ') == 1 and f.codes["pallet"][0] in top
    assert "9 of 18" in top or "9 из 18" in top
    pallet_id = re.search(r"parent=(\d+)", top)
    assert pallet_id
    boxes = client.get(f"/acts/{act_id}/tree?parent={pallet_id.group(1)}").get_data(as_text=True)
    assert boxes.count('class="node ') == 2
    assert boxes.count("node-credited") == 1 and boxes.count("node-open") == 1
    first_box = re.search(r"parent=(\d+)", boxes)
    assert first_box
    blocks = client.get(f"/acts/{act_id}/tree?parent={first_box.group(1)}").get_data(as_text=True)
    # block codes hold < > & " ': escaped in the tree like everywhere
    assert "&lt;" in blocks or "&amp;" in blocks or "&#39;" in blocks or "&#34;" in blocks
    assert "<script" not in blocks


def test_printed_command_codes_read_back_and_work(app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> None:
    import io

    import zxingcpp
    from PIL import Image

    act_id, f = _act(app, tmp_path, boxes=2)
    auth.login("staff")
    sheet = client.get("/commands").get_data(as_text=True)
    urls = re.findall(r'src="(/commands/[A-Z_]+\.png)"', sheet)
    assert len(urls) == 8 and ("Undo my last scan" in sheet or "Отменить" in sheet)
    read = {zxingcpp.read_barcode(Image.open(io.BytesIO(client.get(u).data))).text for u in urls}
    receiving_sheet = {"#WH:UNDO", "#WH:FULL_CHECK", "#WH:TRUSTED", "#WH:OPEN", "#WH:CLOSE", "#WH:CONFIRM"}
    assert read == receiving_sheet | {"#WH:REMOVE_LAST", "#WH:REMOVE_NEXT"}  # and the outgoing screen's
    token = _token(client, f"/acts/{act_id}")
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0]}, headers=headers)
    undone = client.post(f"/acts/{act_id}/scans", data={"code": "#WH:UNDO"}, headers=headers)
    assert undone.status_code == 200 and "banner-reversed" in undone.get_data(as_text=True)
    counters = client.get(f"/acts/{act_id}/counters").get_data(as_text=True)
    assert 'data-testid="credited-box">0<' in counters


def test_a_crafted_scan_form_gets_a_message_not_a_500(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    """A NUL in the code, or a scan_id longer than the journal's key, from a crafted form (on PostgreSQL both
    gave 500): the code is refused with its reason, the long id only loses its retry safety."""
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    headers = {"X-CSRFToken": token, "Accept-Language": "en", "HX-Request": "true"}
    r = client.post(f"/acts/{act_id}/scans", data={"code": "0104\x0012"}, headers=headers)
    assert r.status_code == 422 and "null character" in r.get_data(as_text=True)
    # the plain form (no scripts): redirected to the screen, the refusal flashed there in the reader's language
    plain = {"X-CSRFToken": token, "Accept-Language": "ru"}
    r = client.post(f"/acts/{act_id}/scans", data={"code": "0104\x0012"}, headers=plain, follow_redirects=True)
    assert r.history[0].status_code == 303 and r.request.path == f"/acts/{act_id}"
    flashed = re.search(r'class="flash flash-error"[^>]*>([^<]+)<', r.get_data(as_text=True))
    assert flashed and re.search("[а-я]", flashed.group(1)), flashed
    r = client.post(f"/acts/{act_id}/scans", data={"code": f.codes["box"][0], "scan_id": "x" * 300}, headers=headers)
    assert r.status_code == 200 and "Counted" in r.get_data(as_text=True)
    with get_db(app).read() as s:
        assert [len(k or "") <= 80 for (k,) in s.execute(select(Scan.client_scan_id))] == [True]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_that_cannot_be_written_gets_a_503_in_the_readers_language(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock past the busy timeout (an import of old, a backup tool): the
    scan is refused with a translated 503 that says nothing was recorded — the banner for htmx, the error page
    for the plain form — not a 500 traceback; the same scan is recorded once the lock is gone."""
    act_id, f = _act(app, tmp_path)
    auth.login("staff")
    token = _token(client, f"/acts/{act_id}")
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 150)  # the station's 30 s, shortened for the test
    holder = sqlite3.connect(tmp_path / "warehouse.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        scan = {"code": f.codes["box"][0], "scan_id": "7d1f0e0c-0000-4000-8000-000000000001"}
        banner = client.post(f"/acts/{act_id}/scans", data=scan, headers={"X-CSRFToken": token, "HX-Request": "true"})
        text = banner.get_data(as_text=True)
        assert banner.status_code == 503 and "<html" not in text and "Ничего не изменено" in text
        page = client.post(f"/acts/{act_id}/scans", data=scan, headers={"X-CSRFToken": token})
        assert page.status_code == 503 and "<html" in page.get_data(as_text=True)
        assert "Ничего не изменено" in page.get_data(as_text=True)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    done = client.post(f"/acts/{act_id}/scans", data=scan, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert done.status_code == 200
    with get_db(app).read() as s:
        assert len(s.execute(select(Scan).where(Scan.act_id == act_id)).all()) == 1
