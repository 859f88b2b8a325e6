"""`warehouse acts import/show/close/decide` and `warehouse scan`, through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import ActFactory

BIN = Path(sys.executable).parent / "warehouse"


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WAREHOUSE_INSTANCE_PATH": str(tmp_path / "inst"), "WAREHOUSE_LANG": "en"}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, input=stdin)


def test_receive_an_act_from_the_shell(tmp_path: Path) -> None:
    f = ActFactory(pallets=1, boxes=2, blocks=2, packs=2)
    path = f.write(tmp_path / "act.json")
    imported = run(tmp_path, "acts", "import", "--quiet", str(path))
    assert imported.returncode == 0, imported.stderr
    act_id = imported.stdout.strip().splitlines()[-1]
    assert act_id.isdigit()

    scanned = run(tmp_path, "scan", act_id, "--json", "--", f.codes["box"][0], f.codes["pack"][0], "junk")
    assert scanned.returncode == 0, scanned.stderr
    lines = [json.loads(x) for x in scanned.stdout.splitlines()]
    assert [x["input"] for x in lines] == [f.codes["box"][0], f.codes["pack"][0], "junk"]
    assert [x["class"] for x in lines] == ["matched", "duplicate", "invalid"]
    assert all(x["message"] for x in lines)

    # stdin lines, as a script would pipe them
    piped = run(tmp_path, "scan", act_id, "--json", stdin=f.codes["box"][1] + "\n")
    assert json.loads(piped.stdout)["class"] == "matched"

    shown = json.loads(run(tmp_path, "acts", "show", act_id, "--json").stdout)
    assert shown["id"] == int(act_id) and shown["status"] == "receiving" and shown["mode"] == "trusted"
    assert shown["expected"] == {"pallet": 1, "box": 2, "block": 4, "pack": 8}
    assert shown["credited"] == {"pallet": 1, "box": 2, "block": 4, "pack": 8}
    assert (shown["surplus"], shown["duplicate"], shown["invalid"]) == (0, 1, 1)

    closed = run(tmp_path, "acts", "close", act_id)
    assert closed.returncode == 0, closed.stderr
    refused = run(tmp_path, "scan", act_id, "--", f.codes["pack"][1])
    assert refused.returncode != 0 and "closed" in refused.stderr
    decided = run(tmp_path, "acts", "decide", act_id, "--decision", "accepted")
    assert decided.returncode == 0, decided.stderr
    assert json.loads(run(tmp_path, "acts", "show", act_id, "--json").stdout)["status"] == "decided"


def test_a_bad_file_imports_nothing_and_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "transfer-act/1", "number": "X"', encoding="utf-8")
    result = run(tmp_path, "acts", "import", "--quiet", str(bad))
    assert result.returncode != 0 and result.stderr.strip()
    assert "not imported" in result.stderr
    shown = run(tmp_path, "acts", "show", "1", "--json")
    assert shown.returncode != 0 and "not found" in shown.stderr.lower()


def test_the_same_act_twice_is_refused_naming_the_first(tmp_path: Path) -> None:
    path = ActFactory(number="ТА-77").write(tmp_path / "act.json")
    first = run(tmp_path, "acts", "import", "--quiet", str(path))
    second = run(tmp_path, "acts", "import", "--quiet", str(path))
    assert second.returncode != 0
    assert "ТА-77" in second.stderr and f"#{first.stdout.split()[-1]}" in second.stderr
