"""The round trip from the shell: `warehouse ship …`, `warehouse stock …`, and the receiver's `acts …`/`sign`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click import Command
from flask import Flask

from tests.shipping.conftest import SHOP_BIN, Stations, stocked
from tests.signing.pki import PASSWORD, minted
from warehouse.cli.acts import acts_cli, scan_cmd
from warehouse.cli.ship import ship_cli
from warehouse.cli.sign import sign_cmd
from warehouse.cli.stock import stock_cli


def run(app: Flask, command: Command, *args: str, ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(command, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    else:
        assert result.exit_code != 0, result.output
    return str(result.output)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_round_trip_from_the_shell(stations: Stations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_LANG", "en")
    a, b = stations.wholesaler, stations.shop
    f = stocked(stations.a, tmp_path, pallets=1, boxes=3, blocks=2, packs=2)
    box, block = f.codes["box"], f.codes["block"]
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")

    refused = run(a, ship_cli, "new", "--receiver", "123456789012", "--name", "Магазин", ok=False)
    assert "is not valid" in refused
    created = run(a, ship_cli, "new", "--receiver", SHOP_BIN, "--name", "ТОО Магазин", "--basis", "ESF:KZ-9")
    act = created.strip().splitlines()[-1]
    assert act.isdigit()
    added = run(a, ship_cli, "add", act, "--json", "--", box[0], "junk")
    lines = [json.loads(x) for x in added.splitlines()]
    assert [(x["input"], x["class"]) for x in lines] == [(box[0], "refused"), ("junk", "refused")]
    assert all(x["message"] for x in lines) and "open it first" in lines[0]["message"]
    assert "opened" in run(a, stock_cli, "open", f.codes["pallet"][0])
    added = run(a, ship_cli, "add", act, "--json", "--", box[0], box[1], box[0])
    assert [json.loads(x)["class"] for x in added.splitlines()] == ["added", "added", "refused"]
    run(a, ship_cli, "price", act, block[0][2:16], "block", "112000")
    shown = json.loads(run(a, ship_cli, "show", act, "--json"))
    assert shown["status"] == "draft" and shown["levels"] == {"pallet": 0, "box": 2, "block": 4, "pack": 8}
    held = json.loads(run(a, stock_cli, "show", "--json"))
    assert held["levels"]["box"] == {"in_stock": 1, "reserved": 2}

    assert "signed by" in run(
        a, ship_cli, "sign", act, "--key", str(minted().sign_key), "--password-file", str(password)
    )
    written = run(a, ship_cli, "export", act, str(tmp_path / "out.json")).split()
    assert [Path(p).name for p in written] == ["out.json", "out.p7s"]
    assert json.loads(run(a, ship_cli, "show", act, "--json"))["status"] == "sent"

    # The shop, from its own shell: import, receive (block 3 of box 1 missing), decide, sign.
    imported = run(b, acts_cli, "import", "--quiet", written[0]).strip().splitlines()[-1]
    run(b, scan_cmd, imported, "--", box[0], block[2])
    run(b, acts_cli, "close", imported)
    assert "entered into stock" in run(
        b, acts_cli, "decide", imported, "--decision", "accepted_with_discrepancies", "--reason", "shortage"
    )
    run(
        b,
        sign_cmd,
        imported,
        "--key",
        str(minted().sign_key),
        "--password-file",
        str(password),
        "--out",
        str(tmp_path / "answer"),
    )
    assert json.loads(run(b, stock_cli, "show", "--json"))["codes"] == 7 + 3

    applied = json.loads(
        run(a, ship_cli, "apply-acceptance", act, str(tmp_path / "answer.json"), str(tmp_path / "answer.p7s"), "--json")
    )
    assert (applied["status"], applied["returned"], applied["returned_codes"]) == ("discrepancies", 3, [block[3]])
    assert "already been applied" in run(
        a, ship_cli, "apply-acceptance", act, str(tmp_path / "answer.json"), str(tmp_path / "answer.p7s"), ok=False
    )
    found = json.loads(run(a, stock_cli, "find", block[3], "--json"))
    assert found["status"] == "in_stock" and [m["kind"] for m in found["moves"]][:2] == ["returned", "shipped"]
    assert "in stock" in run(a, stock_cli, "show") and "returned" in run(a, stock_cli, "find", block[3])
    assert "acceptance of part 1 (1/1): accepted_with_discrepancies" in run(a, ship_cli, "show", act)
    after = json.loads(run(a, stock_cli, "show", "--json"))
    assert after["levels"] == {
        "pallet": {"in_stock": 0, "reserved": 0},
        "box": {"in_stock": 1, "reserved": 0},
        "block": {"in_stock": 3, "reserved": 0},
        "pack": {"in_stock": 6, "reserved": 0},
    }
