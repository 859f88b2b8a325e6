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
from tests.operator.conftest import RECEIVER, Emulator
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
