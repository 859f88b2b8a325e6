"""`warehouse sign` and `warehouse verify`: files that openssl accepts, and nothing at all on failure."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.signing.conftest import decided_act
from tests.signing.pki import GOST_2004_KEY, NCA_PASSWORD, PASSWORD, Pki, minted
from warehouse.cli.sign import sign_cmd, verify_cmd
from warehouse.db import get_db
from warehouse.services import signing as service


@pytest.fixture
def runner(shared_app: Flask) -> FlaskCliRunner:
    return shared_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})


def _password(tmp_path: Path, password: str = PASSWORD) -> str:
    path = tmp_path / "password.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def _status(app: Flask, act_id: int) -> tuple[str, int]:
    with get_db(app).read() as s:
        from warehouse.models import Act

        act = s.get(Act, act_id)
        assert act is not None
        return act.status, len(service.documents(get_db(app), act_id))


def test_sign_then_verify_with_openssl(shared_app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    act_id, f = decided_act(shared_app, tmp_path)
    out = tmp_path / "out" / "acceptance"
    out.parent.mkdir()
    result = runner.invoke(
        sign_cmd, [f.number, "--key", str(minted().sign_key), "--password-file", _password(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" in result.stdout and "IIN 123456789011" in result.stdout
    assert result.stderr == ""  # a trusted, current, unrevoked key: no warnings
    doc, p7s = out.with_suffix(".json"), out.with_suffix(".p7s")
    assert sorted(p.name for p in out.parent.iterdir()) == ["acceptance.json", "acceptance.p7s"]
    assert _status(shared_app, act_id) == ("signed", 1)
    [stored] = service.documents(get_db(shared_app), act_id)
    assert stored.content == doc.read_bytes() and stored.signature == p7s.read_bytes()

    openssl = shutil.which("openssl")
    assert openssl
    ca_file = tmp_path / "root.pem"
    ca_file.write_bytes(minted().root.public_bytes(Encoding.PEM))
    check = subprocess.run(
        [
            openssl,
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(p7s),
            "-content",
            str(doc),
            "-CAfile",
            str(ca_file),
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr

    verified = runner.invoke(verify_cmd, [str(doc), str(p7s)])
    assert verified.exit_code == 0, verified.output
    assert "result: valid" in verified.stdout and "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" in verified.stdout
    assert f"act {f.number}" in verified.stdout

    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(doc.read_bytes().replace(b'"accepted":true', b'"accepted":false', 1))
    refused = runner.invoke(verify_cmd, [str(tampered), str(p7s)])
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "invalid: The signature belongs to another document: the content does not match."
    ]

    again = runner.invoke(
        sign_cmd,
        [
            str(act_id),
            "--key",
            str(minted().sign_key),
            "--password-file",
            _password(tmp_path),
            "--out",
            str(tmp_path / "again"),
        ],
    )
    assert again.exit_code == 1 and "already signed" in again.stderr
    assert not list(tmp_path.glob("again*"))


@pytest.mark.parametrize(
    ("key", "password", "expected"),
    [
        (minted().sign_key, "Secr3t-Wr0ng", "Wrong password for the key file"),
        (GOST_2004_KEY, NCA_PASSWORD, "This is a GOST key: it can only sign through NCALayer"),
    ],
)
def test_refusals_write_nothing(
    shared_app: Flask, runner: FlaskCliRunner, tmp_path: Path, key: Path, password: str, expected: str
) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(
        sign_cmd,
        [
            str(act_id),
            "--key",
            str(key),
            "--password-file",
            _password(tmp_path, password),
            "--out",
            str(folder / "doc"),
        ],
    )
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr
    assert "Secr3t-Wr0ng" not in result.output
    assert list(folder.iterdir()) == []
    assert _status(shared_app, act_id) == ("decided", 0)


def test_auth_key_and_existing_files(shared_app: Flask, runner: FlaskCliRunner, tmp_path: Path, pki: Pki) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    auth = tmp_path / "AUTH_RSA256_test.p12"
    auth.write_bytes(pki.auth.p12)
    result = runner.invoke(
        sign_cmd,
        [
            str(act_id),
            "--key",
            str(auth),
            "--password-file",
            _password(tmp_path, PASSWORD),
            "--out",
            str(tmp_path / "doc"),
        ],
    )
    assert result.exit_code == 1 and "login key (AUTH_" in result.stderr

    existing = tmp_path / "doc.json"
    existing.write_text("keep me")
    result = runner.invoke(
        sign_cmd,
        [
            str(act_id),
            "--key",
            str(minted().sign_key),
            "--password-file",
            _password(tmp_path),
            "--out",
            str(tmp_path / "doc"),
        ],
    )
    assert result.exit_code == 1 and "--force" in result.stderr
    assert existing.read_text() == "keep me" and not (tmp_path / "doc.p7s").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".doc")]
    assert _status(shared_app, act_id) == ("decided", 0)


def test_verify_needs_a_trusted_ca(shared_app: Flask, tmp_path: Path, pki: Pki) -> None:
    from warehouse.signing.cms import sign_detached

    doc = tmp_path / "d.json"
    doc.write_bytes(b'{"a":1}')
    p7s = tmp_path / "d.p7s"
    p7s.write_bytes(sign_detached(doc.read_bytes(), pki.sign.certificate, pki.sign.key))
    runner = shared_app.test_cli_runner(env={"WAREHOUSE_LANG": "ru"})
    refused = runner.invoke(verify_cmd, [str(doc), str(p7s)])  # the app trusts the minted chain only
    assert refused.exit_code == 1 and "не доверенным" in refused.stderr
    accepted = runner.invoke(verify_cmd, [str(doc), str(p7s), "--ca", str(pki.ca_pem), "--crl", str(pki.crl_pem)])
    assert accepted.exit_code == 0, accepted.output
    assert "IIN 900101300123" in accepted.stdout and "BIN 123456789021" in accepted.stdout
