"""kill -9 of a real `warehouse run` while several handhelds send scans (issue 15): every acknowledged scan
is journaled, nothing is credited twice, and after the restart the retried unacknowledged scans go in once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import ActFactory
from warehouse.db import get_db
from warehouse.models import ActCode, Scan
from warehouse.services import devices, importing
from warehouse.services.users import authenticate

CLIENTS = 3
BATCH = 4


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "warehouse"), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the server did not start")


def _post(url: str, token: str, scans: list[dict[str, str]]) -> dict[str, Any] | None:
    """The answer, or None when none came (the server died): the scans are then unacknowledged."""
    request = urllib.request.Request(
        url,
        data=json.dumps({"scans": scans}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            answer: dict[str, Any] = json.loads(r.read())
            assert r.status == 200
            return answer
    except (OSError, urllib.error.URLError, ValueError):
        return None


def test_kill_9_during_api_scans_loses_nothing_acknowledged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    instance = tmp_path / "instance"
    app = make_app(url, tmp_path)
    db = get_db(app)
    f = ActFactory(pallets=2, boxes=5, blocks=5, packs=8)
    act_id = importing.import_act(db, f.write(tmp_path / "act.json")).act_id
    with db.write() as s:
        staff = authenticate(s, "staff", "staff")
        tokens = [
            devices.issue_token(s, f"TSD-{k}", "dock-2", staff, may_import=True, may_read=True) for k in range(CLIENTS)
        ]
    packs = f.codes["pack"]
    env = {
        **os.environ,
        "WAREHOUSE_DATABASE_URL": url,
        "WAREHOUSE_INSTANCE_PATH": str(instance),
        "WAREHOUSE_SECRET_KEY": "test",
        "WAREHOUSE_BACKUP_DIR": "off",
    }
    port = _port()
    scans_url = f"http://127.0.0.1:{port}/api/v1/acts/{act_id}/scans"
    server = _serve(env, port)
    acknowledged: dict[tuple[int, str], dict[str, Any]] = {}
    unacknowledged: list[tuple[int, list[dict[str, str]]]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def handheld(k: int) -> None:
        i = 0
        while not stop.is_set():
            # The clients overlap: the same pack comes from two of them, under their own scan ids.
            batch = [
                {"code": packs[(i + j) * 2 % len(packs) if k else (i + j) % len(packs)], "scan_id": f"{k}-{i + j}"}
                for j in range(BATCH)
            ]
            i += BATCH
            answer = _post(scans_url, tokens[k], batch)
            with lock:
                if answer is None:
                    unacknowledged.append((k, batch))
                    return
                for scan, item in zip(batch, answer["results"], strict=True):
                    assert item["status"] == "accepted" and not item["replayed"]
                    acknowledged[(k, scan["scan_id"])] = item

    threads = [threading.Thread(target=handheld, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 120 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acknowledged) >= 120, "killed before the handhelds had sent much"
    assert len(unacknowledged) == CLIENTS, "each handheld is left with one batch unanswered"

    def journal() -> dict[int, tuple[str, int]]:
        with db.read() as s:
            return {i: (raw, n) for i, raw, n in s.execute(select(Scan.id, Scan.raw, Scan.credited))}

    def credits_are_owned() -> None:
        with db.read() as s:
            owned = s.execute(select(func.coalesce(func.sum(Scan.credited), 0))).scalar_one()
            credited = s.execute(select(func.count(ActCode.credited_scan_id))).scalar_one()
        assert owned == credited, "a code credited twice, or a credit without its scan"

    rows = journal()
    assert {item["journal_id"] for item in acknowledged.values()} <= set(rows), "an acknowledged scan was lost"
    assert all(rows[item["journal_id"]][1] == item["credited"] for item in acknowledged.values())
    in_flight = sum(len(batch) for _, batch in unacknowledged)
    assert len(acknowledged) <= len(rows) <= len(acknowledged) + in_flight
    credits_are_owned()

    # Restart; each handheld sends its unacknowledged batch again, under the same scan ids.
    server = _serve(env, port)
    try:
        for k, batch in unacknowledged:
            answer = _post(scans_url, tokens[k], batch)
            assert answer is not None
            for scan, item in zip(batch, answer["results"], strict=True):
                assert item["status"] == "accepted"
                acknowledged[(k, scan["scan_id"])] = item
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
    replayed = sum(item["replayed"] for item in acknowledged.values())
    print(f"scans journaled: {len(acknowledged)}; in flight at the kill: {in_flight}; replayed after it: {replayed}")
    rows = journal()
    assert sorted(item["journal_id"] for item in acknowledged.values()) == sorted(rows), (
        "every scan sent is journaled exactly once"
    )
    credits_are_owned()
    db.dispose()
