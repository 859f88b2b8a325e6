"""`warehouse operator emulate` as a real process: it prints its base URL and serves the seeded act."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.operator.conftest import RECEIVER, SENDER, signer_for
from warehouse.operator.http import HttpOperatorAdapter
from warehouse.operator.profile import get_profile
from warehouse.transfer_act import generate_act, write_json

BIN = Path(sys.executable).parent / "warehouse"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_INSTANCE_PATH": str(tmp_path / "inst"), "WAREHOUSE_LANG": "en"}


def test_emulate_serves_a_seeded_act(tmp_path: Path) -> None:
    header, lines = generate_act(
        pallets=0, boxes_per_pallet=1, blocks_per_box=2, packs_per_block=2, seed=9001, sender=SENDER, receiver=RECEIVER
    )
    seed = tmp_path / "act.json"
    write_json(seed, header, lines)
    proc = subprocess.Popen(
        [str(BIN), "operator", "emulate", "--port", "0", "--seed", str(seed), "--db", str(tmp_path / "emu.sqlite3")],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v3/true-api")
        with HttpOperatorAdapter(url, get_profile()) as adapter:
            adapter.authenticate(signer_for(RECEIVER.bin))
            acts = adapter.list_incoming_acts(header_date(), header_date(days=2)).items
            assert [a.number for a in acts] == [header.number]
            act = adapter.get_act(acts[0].id)
            assert [line.level for line in act.lines] == ["box", "block", "pack", "pack", "block", "pack", "pack"]
        assert httpx.get(url.replace("/api/v3/true-api", "/_emu/clock")).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def header_date(days: int = 0) -> datetime:
    return datetime(2026, 11, 19, tzinfo=UTC) + timedelta(days=days)


def test_a_public_host_is_refused_in_the_users_language(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN), "operator", "emulate", "--host", "0.0.0.0", "--port", "0"],
        env=_env(tmp_path) | {"WAREHOUSE_LANG": "ru"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "эмулятор оператора не запущен на 0.0.0.0" in done.stderr
