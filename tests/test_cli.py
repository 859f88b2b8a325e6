"""The `warehouse` console script, run as a real process the way `make run` and scripts use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent / "warehouse"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_INSTANCE_PATH": str(tmp_path / "inst")}


def _warehouse(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=_env(tmp_path), capture_output=True, text=True, timeout=120)


def test_db_upgrade_and_demo_are_idempotent(tmp_path: Path) -> None:
    first = _warehouse(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "schema at" in first.stdout
    demo = _warehouse(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "staff/staff" in demo.stdout and "lead/lead" in demo.stdout
    assert "ДЕМО-000001: 225 codes" in demo.stdout
    again = _warehouse(tmp_path, "demo")
    assert again.returncode == 0 and "staff/staff" not in again.stdout
    assert "already loaded" in again.stdout
    shown = _warehouse(tmp_path, "acts", "show", "ДЕМО-000001", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["expected"] == {"pallet": 1, "box": 4, "block": 20, "pack": 200}
    assert (tmp_path / "inst" / "warehouse.sqlite3").exists()
    assert (tmp_path / "inst" / "secret_key").exists()
    # The demo signs in its explicit, marked demo mode (issue 15, item 7): `make run` can sign without NCA's root.
    assert (tmp_path / "inst" / "demo-mode").is_file() and "demo mode: on" in demo.stdout


def test_unknown_command_fails_with_a_reason(tmp_path: Path) -> None:
    result = _warehouse(tmp_path, "no-such-command")
    assert result.returncode != 0 and "no-such-command" in result.stderr


def test_run_serves_the_login_page_on_loopback(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(BIN), "run", "--port", str(port)], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        body = ""
        deadline = time.monotonic() + 30  # a station starting on a busy machine (CI) takes a few seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert 'name="username"' in body and "htmx.min.js" in body
        # Bound to loopback only: the port is not open on another address of this machine.
        with socket.socket() as probe:
            probe.settimeout(0.5)
            other = socket.gethostbyname(socket.gethostname())
            if other != "127.0.0.1":
                assert probe.connect_ex((other, port)) != 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
