"""Only what verification accepts signs: a chain to a trusted root, valid now, not revoked (issue 15, item 7).

The chain is minted here with fresh dates (tests/signing/pki.py); the trust store is installed the way a
station does it, `warehouse trust update --from DIR` (or downloaded from the configured URLs).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.signing.conftest import decided_act, signing_app
from tests.signing.pki import PASSWORD, mint_crl, minted
from warehouse.cli import trust_cli
from warehouse.cli.sign import sign_cmd, verify_cmd
from warehouse.db import get_db
from warehouse.models import Act
from warehouse.services import signing as service
from warehouse.signing.cms import sign_detached
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Pkcs12Signer
from warehouse.signing.trust import check_for_signing, load_settings


@pytest.fixture
def bare_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A station without a trust store."""
    application = signing_app(sqlite_url, tmp_path, trust=False)
    yield application
    get_db(application).dispose()


def _password(tmp_path: Path) -> str:
    path = tmp_path / "password.txt"
    path.write_text(PASSWORD + "\n", encoding="utf-8")
    return str(path)


def _status(app: Flask, act_id: int) -> tuple[str, int]:
    with get_db(app).read() as s:
        act = s.get(Act, act_id)
        assert act is not None
        return act.status, len(service.documents(get_db(app), act_id))


def _sign(app: Flask, tmp_path: Path, key: Path, act_id: int, lang: str = "en") -> tuple[int, str, str]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    runner = app.test_cli_runner(env={"WAREHOUSE_LANG": lang})
    result = runner.invoke(
        sign_cmd, [str(act_id), "--key", str(key), "--password-file", _password(tmp_path), "--out", str(out / "doc")]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("fake", "The signer's certificate was not issued by a trusted certification authority."),
        ("expired", "The certificate has expired."),
        ("revoked", "The certificate has been revoked by the certification authority."),
    ],
)
def test_untrusted_expired_revoked_keys_do_not_sign(shared_app: Flask, tmp_path: Path, key: str, expected: str) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    code, _out, err = _sign(shared_app, tmp_path, minted().keys / f"{key}.p12", act_id)
    assert code == 1 and err.strip() == expected
    assert _status(shared_app, act_id) == ("decided", 0)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_valid_chain_signs_and_verify_agrees(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    code, out, err = _sign(shared_app, tmp_path, minted().sign_key, act_id)
    assert code == 0, err
    assert "ТЕСТОВ ТЕСТ ТЕСТОВИЧ" in out and err == ""
    assert _status(shared_app, act_id) == ("signed", 1)
    runner = shared_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
    verified = runner.invoke(verify_cmd, [str(tmp_path / "out" / "doc.json"), str(tmp_path / "out" / "doc.p7s")])
    assert verified.exit_code == 0 and "result: valid" in verified.stdout


def test_verify_refuses_what_signing_refuses(shared_app: Flask, tmp_path: Path) -> None:
    """The self-minted "director" signs bytes on its own; the station's verify says invalid, and its
    signing check refuses the same certificate for the same reason."""
    chain = minted()
    doc, p7s = tmp_path / "d.json", tmp_path / "d.p7s"
    doc.write_bytes(b'{"a":1}')
    p7s.write_bytes(sign_detached(doc.read_bytes(), chain.fake.certificate, chain.fake.key))
    runner = shared_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
    verified = runner.invoke(verify_cmd, [str(doc), str(p7s)])
    assert verified.exit_code == 1 and "result: invalid" in verified.stdout
    assert "not issued by a trusted certification authority" in verified.stderr
    with pytest.raises(SigningError, match="untrusted"):
        check_for_signing(chain.fake.certificate, load_settings(shared_app.config))


def test_no_trust_store_refuses_and_names_the_command(bare_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(bare_app, tmp_path)
    code, _out, err = _sign(bare_app, tmp_path, minted().sign_key, act_id, lang="ru")
    assert code == 1 and "warehouse trust update" in err and "доверенных сертификатов" in err, err
    assert _status(bare_app, act_id) == ("decided", 0)
    shown = bare_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"}).invoke(trust_cli, ["show"])
    assert shown.exit_code == 1 and "warehouse trust update" in shown.stderr


def test_trust_update_from_a_folder_then_show(bare_app: Flask, tmp_path: Path) -> None:
    runner = bare_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
    updated = runner.invoke(trust_cli, ["update", "--from", str(minted().store)])
    assert updated.exit_code == 0, updated.output
    shown = runner.invoke(trust_cli, ["show", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    kinds = sorted((r["kind"], r["subject"]) for r in rows)
    assert kinds == [
        ("crl", "C=KZ,CN=НУЦ РК ТЕСТ (корень)"),
        ("crl", "C=KZ,CN=ҰКО ТЕСТ (склад)"),
        ("intermediate", "C=KZ,CN=ҰКО ТЕСТ (склад)"),
        ("root", "C=KZ,CN=НУЦ РК ТЕСТ (корень)"),
    ]
    assert all(r["algorithm"] == "rsa" and r["stale"] is False and r["valid_until"] for r in rows)
    text = runner.invoke(trust_cli, ["show"]).stdout
    assert re.search(r"^crl +rsa +next update 20\d\d-", text, re.M) and "STALE" not in text

    act_id, _f = decided_act(bare_app, tmp_path)
    code, _out, err = _sign(bare_app, tmp_path, minted().sign_key, act_id)
    assert code == 0, err


def test_trust_update_refuses_an_incomplete_set(bare_app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "half"
    folder.mkdir()
    shutil.copy(minted().store / "intermediate.cer", folder)  # no root, no CRL
    runner = bare_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
    refused = runner.invoke(trust_cli, ["update", "--from", str(folder)])
    assert refused.exit_code == 1 and "not a trust store" in refused.stderr
    assert not Path(bare_app.config["TRUST_DIR"]).exists()


def test_a_stale_crl_refuses_until_updated(bare_app: Flask, tmp_path: Path) -> None:
    chain = minted()
    folder = tmp_path / "stale"
    shutil.copytree(chain.store, folder)
    old = mint_crl(chain.intermediate, chain.intermediate_key, (3003,), next_update=-timedelta(hours=1))
    (folder / "intermediate.crl").write_bytes(old.public_bytes(Encoding.DER))
    runner = bare_app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
    assert runner.invoke(trust_cli, ["update", "--from", str(folder)]).exit_code == 0
    shown = runner.invoke(trust_cli, ["show"])
    assert shown.exit_code == 1 and "STALE" in shown.stdout and "warehouse trust update" in shown.stderr
    act_id, _f = decided_act(bare_app, tmp_path)
    code, _out, err = _sign(bare_app, tmp_path, chain.sign_key, act_id)
    assert code == 1 and "out of date" in err and "warehouse trust update" in err
    assert runner.invoke(trust_cli, ["update", "--from", str(chain.store)]).exit_code == 0
    assert _sign(bare_app, tmp_path, chain.sign_key, act_id)[0] == 0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_trust_update_downloads_the_configured_urls(sqlite_url: str, tmp_path: Path) -> None:
    handler = functools.partial(_Quiet, directory=str(minted().store))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        urls = " ".join(f"{base}/{n}" for n in ("root.cer", "intermediate.cer", "root.crl", "intermediate.crl"))
        app = signing_app(sqlite_url, tmp_path, trust=False, TRUST_URLS=urls)
        runner = app.test_cli_runner(env={"WAREHOUSE_LANG": "en"})
        updated = runner.invoke(trust_cli, ["update", "--json"])
        assert updated.exit_code == 0, updated.output
        assert sorted(r["source"] for r in json.loads(updated.stdout)) == sorted(urls.split())
        missing = signing_app(sqlite_url, tmp_path / "b", trust=False, TRUST_URLS=f"{base}/nothing.crl")
        refused = missing.test_cli_runner(env={"WAREHOUSE_LANG": "en"}).invoke(trust_cli, ["update"])
        assert refused.exit_code == 1 and "could not be downloaded" in refused.stderr
        get_db(app).dispose()
        get_db(missing).dispose()
    finally:
        server.shutdown()


def _lead(app: Flask) -> FlaskClient:
    client = app.test_client()
    Auth(client).login("lead")
    client.post("/language", data={"lang": "en", "csrf_token": _token(client, "/acts")})
    return client


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _key_form(client: FlaskClient, act_id: int, key: bytes, **extra: str) -> dict[str, object]:
    return {
        "csrf_token": _token(client, f"/acts/{act_id}/sign"),
        "key": (BytesIO(key), "RSA256_test.p12"),
        "password": PASSWORD,
        **extra,
    }


def test_the_web_flow_refuses_the_fake_director(shared_app: Flask, tmp_path: Path) -> None:
    act_id, _f = decided_act(shared_app, tmp_path)
    lead = _lead(shared_app)
    fake = minted().fake
    card = lead.post(f"/acts/{act_id}/sign/certificate", data=_key_form(lead, act_id, fake.p12))
    text = card.get_data(as_text=True)
    assert "ДИРЕКТОР ПОДДЕЛЬНЫЙ" in text and "not issued by a trusted certification authority" in text
    fingerprint = Pkcs12Signer.open(fake.p12, PASSWORD).info.fingerprint_sha256
    refused = lead.post(f"/acts/{act_id}/sign/key", data=_key_form(lead, act_id, fake.p12, cert_sha256=fingerprint))
    assert refused.status_code == 400
    assert "not issued by a trusted certification authority" in refused.get_data(as_text=True)
    assert _status(shared_app, act_id) == ("decided", 0)
