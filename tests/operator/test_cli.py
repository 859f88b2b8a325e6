"""`warehouse operator login | sync --json | status --json | send` against the emulator over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from flask import Flask

from tests.conftest import make_app
from tests.operator.conftest import RECEIVER, SENDER, Emulator
from tests.signing.pki import minted
from warehouse import transfer_act
from warehouse.cli.acts import scan_cmd
from warehouse.cli.operator import operator_cli
from warehouse.cli.sign import sign_cmd
from warehouse.db import get_db
from warehouse.services import receiving
from warehouse.services import trust as trust_service
from warehouse.signing.signers import Pkcs12Signer
from warehouse.vocab import Level


@pytest.fixture
def station(sqlite_url: str, tmp_path: Path, emulator: Emulator) -> Iterator[Flask]:
    application = make_app(sqlite_url, tmp_path, OPERATOR_URL=emulator.url, OPERATOR_TIMEOUT_SECONDS=2.0)
    trust_service.update_from_folder(Path(application.config["TRUST_DIR"]), minted().store)
    yield application
    get_db(application).dispose()


def _key_file(tmp_path: Path, signer: Pkcs12Signer) -> tuple[Path, Path]:
    data = pkcs12.serialize_key_and_certificates(
        b"key", signer._key, signer.certificate, list(signer.chain), BestAvailableEncryption(b"secret-1")
    )
    key, password = tmp_path / "receiver.p12", tmp_path / "password.txt"
    key.write_bytes(data)
    password.write_text("secret-1\n")
    return key, password


def _run(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(operator_cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_login_sync_send_and_status_from_the_command_line(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer, tmp_path: Path
) -> None:
    key, password = _key_file(tmp_path, receiver_key)
    no_session = station.test_cli_runner().invoke(operator_cli, ["sync"])
    assert no_session.exit_code != 0 and "log in to the operator" in no_session.output.lower()

    seeded = emulator.seed()
    assert RECEIVER.bin in _run(station, "login", "--key", str(key), "--password-file", str(password))
    lines = [json.loads(line) for line in _run(station, "sync", "--json").splitlines()]
    mine = [line for line in lines if line["number"] == seeded["number"]]
    assert [(m["direction"], m["state"]) for m in mine] == [("incoming", "imported")]
    act_id = mine[0]["act_id"]
    assert all(json.loads(line)["number"] != seeded["number"] for line in _run(station, "sync", "--json").splitlines())

    seed = int(str(seeded["number"]).rsplit("-", 1)[1])
    pallets = [
        line.code
        for line in transfer_act.read_act(emulator.tmp / f"act-{seed}.json").lines()
        if line.level is Level.PALLET
    ]
    assert station.test_cli_runner().invoke(scan_cmd, [str(act_id), *pallets]).exit_code == 0
    receiving.close_act(get_db(station), act_id)
    receiving.decide(get_db(station), act_id, "accepted")
    signed = station.test_cli_runner().invoke(
        sign_cmd, [str(act_id), "--key", str(key), "--password-file", str(password), "--out", str(tmp_path / "acc")]
    )
    assert signed.exit_code == 0, signed.output
    assert "queued" in _run(station, "send", str(act_id), "--key", str(key), "--password-file", str(password))

    for _ in range(20):
        for line in _run(station, "sync", "--json").splitlines():
            assert {"number", "direction", "state"} <= set(json.loads(line))
        status = json.loads(_run(station, "status", "--json"))
        if status["documents"][0]["state"] == "accepted":
            break
        time.sleep(0.1)
    doc = status["documents"][0]
    assert (doc["direction"], doc["kind"], doc["state"], doc["act_id"]) == (
        "incoming",
        "acceptance",
        "accepted",
        act_id,
    )
    assert status["last_sync"]["ok"] and status["session"]["bin"] == RECEIVER.bin
    refused = station.test_cli_runner().invoke(
        operator_cli, ["send", str(act_id), "--key", str(key), "--password-file", str(password)]
    )
    assert refused.exit_code != 0  # once sent, never again


def _refused_act(tmp_path: Path, number: str) -> Path:
    """An act the emulator takes but the station's importer refuses: a block straight under the pallet
    beside the boxes (a box went missing from the file: `level_skipped`)."""
    header, lines = transfer_act.generate_act(
        seed=4242,
        number=number,
        sender=SENDER,
        receiver=RECEIVER,
        pallets=1,
        boxes_per_pallet=2,
        blocks_per_box=1,
        packs_per_block=1,
    )
    path = tmp_path / "refused.json"
    transfer_act.write_json(path, header, lines)
    act = json.loads(path.read_text())
    pallet = act["products"][0]
    pallet["children"][1] = pallet["children"][1]["children"][0]
    path.write_text(json.dumps(act, ensure_ascii=False))
    return path


def test_a_refused_act_is_told_once_and_not_downloaded_again_until_it_changes(
    station: Flask, emulator: Emulator, receiver_key: Pkcs12Signer, tmp_path: Path
) -> None:
    path = _refused_act(tmp_path, "ТА-ОТКАЗ-1")
    doc_id = emulator.seed_file(path)["doc_id"]
    key, password = _key_file(tmp_path, receiver_key)
    _run(station, "login", "--key", str(key), "--password-file", str(password))
    before = len(emulator.log())

    def round_() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in _run(station, "sync", "--json").splitlines()]
        return [line for line in lines if line["number"] == "ТА-ОТКАЗ-1"]

    first = round_()
    assert [(t["direction"], t["state"]) for t in first] == [("incoming", "refused")]
    assert any("level" in str(m) for m in first[0]["messages"])  # type: ignore[union-attr]
    assert round_() == []  # told once
    downloads = [e for e in emulator.log(before) if e["path"].endswith(f"/doc/{doc_id}/info")]
    assert len(downloads) == 1
    status = json.loads(_run(station, "status", "--json"))
    assert [(r["doc_id"], r["number"]) for r in status["refused"]] == [(doc_id, "ТА-ОТКАЗ-1")]
    assert status["refused"][0]["problem"]

    emulator.control(f"docs/{doc_id}", {"received_at": "now"})  # the operator's document changed
    again = round_()
    assert [(t["direction"], t["state"]) for t in again] == [("incoming", "refused")]
    downloads = [e for e in emulator.log(before) if e["path"].endswith(f"/doc/{doc_id}/info")]
    assert len(downloads) == 2
