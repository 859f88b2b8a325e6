"""The PKCS#12 backend with the real NCA keys, and the NCANode backend against a small fake NCANode."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.signing.pki import (
    GOST_2004_KEY,
    GOST_2015_KEY,
    GOST_2015_PASSWORD,
    NCA_PASSWORD,
    PASSWORD,
    RSA_KEY,
    Pki,
)
from warehouse.signing.cms import verify_detached
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import NcaNodeClient, NcaNodeSigner, Pkcs12Signer, open_signer, read_key_file


def test_rsa_key_opens_and_signs() -> None:
    signer = Pkcs12Signer.open(RSA_KEY.read_bytes(), NCA_PASSWORD)
    assert signer.info.iin == "123456789011" and signer.backend == "pkcs12"
    assert verify_detached(b"x", signer.sign(b"x")).problems == ("no_trusted_ca",)  # signature itself is fine


def test_wrong_password_is_a_clear_error() -> None:
    with pytest.raises(SigningError) as e:
        Pkcs12Signer.open(RSA_KEY.read_bytes(), "qwerty12")
    assert e.value.reason == "wrong_password"
    assert "password" in e.value.message("en") and "Caps Lock" in e.value.message("en")
    assert "Неверный пароль" in e.value.message("ru") and "құпиясөзі қате" in e.value.message("kk")
    assert "qwerty12" not in str(e.value)


@pytest.mark.parametrize(("path", "password"), [(GOST_2004_KEY, NCA_PASSWORD), (GOST_2015_KEY, GOST_2015_PASSWORD)])
def test_gost_key_points_to_ncalayer(path: Any, password: str) -> None:
    with pytest.raises(SigningError) as e:
        Pkcs12Signer.open(path.read_bytes(), password)
    assert e.value.reason == "gost_key"
    for lang in ("ru", "kk", "en"):
        assert "NCALayer" in e.value.message(lang)
    assert e.value.certificate is not None and e.value.certificate.key_algorithm == "gost"


def test_gost_key_with_a_wrong_password_is_a_wrong_password() -> None:
    with pytest.raises(SigningError, match="wrong_password"):
        Pkcs12Signer.open(GOST_2004_KEY.read_bytes(), "Qwerty13")


def test_auth_key_is_refused(pki: Pki) -> None:
    with pytest.raises(SigningError) as e:
        Pkcs12Signer.open(pki.auth.p12, PASSWORD)
    assert e.value.reason == "auth_key" and "AUTH_" in e.value.message("en")


def test_read_key_file_shows_gost_certificates() -> None:
    view = read_key_file(GOST_2004_KEY.read_bytes(), NCA_PASSWORD)
    assert view.gost and view.info.bin == "123456789021" and view.info.iin == "123456789011"


class FakeNcaNode(BaseHTTPRequestHandler):
    """NCANode 3's /cms/sign and /cms/verify, signing RSA keys with our own backend."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, **body})
        if self.path == "/cms/sign":
            signer = body["signers"][0]
            try:
                key = Pkcs12Signer.open(base64.b64decode(signer["key"]), signer["password"])
            except SigningError as e:
                return self._answer(500, {"status": 500, "message": e.reason})
            cms = key.sign(base64.b64decode(body["data"]))
            return self._answer(200, {"status": 200, "message": "", "cms": base64.b64encode(cms).decode()})
        if self.path == "/cms/verify":
            result = verify_detached(base64.b64decode(body["data"]), base64.b64decode(body["cms"]))
            return self._answer(
                200,
                {
                    "status": 200,
                    "message": "",
                    "valid": "bad_signature" not in result.problems and "content_mismatch" not in result.problems,
                    "signers": [],
                },
            )
        return self._answer(404, {"status": 404, "message": "not found"})

    def _answer(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ncanode() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeNcaNode)
    FakeNcaNode.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_ncanode_signs_detached_cms(ncanode: str) -> None:
    signer = NcaNodeSigner.open(ncanode, RSA_KEY.read_bytes(), NCA_PASSWORD)
    assert signer.info.iin == "123456789011"
    signature = signer.sign(b'{"a":1}')
    assert verify_detached(b'{"a":1}', signature).problems == ("no_trusted_ca",)
    sent = FakeNcaNode.requests[-1]
    assert sent["path"] == "/cms/sign" and sent["detached"] is True and sent["withTsp"] is False
    assert base64.b64decode(sent["data"]) == b'{"a":1}'
    signer.close()
    with pytest.raises(SigningError):
        signer.sign(b"again")


def test_ncanode_is_the_backend_for_gost_when_configured(ncanode: str) -> None:
    signer = open_signer(GOST_2004_KEY.read_bytes(), NCA_PASSWORD, ncanode_url=ncanode)
    assert signer.backend == "ncanode"
    # our fake NCANode cannot sign GOST either: its error comes back as a SigningError
    with pytest.raises(SigningError, match="ncanode_error"):
        signer.sign(b"x")
    with pytest.raises(SigningError, match="gost_key"):
        open_signer(GOST_2004_KEY.read_bytes(), NCA_PASSWORD)


def test_ncanode_unreachable_and_verify(ncanode: str) -> None:
    with pytest.raises(SigningError, match="ncanode_unavailable"):
        NcaNodeClient("http://127.0.0.1:9", timeout=2).verify(b"x", b"y")
    with pytest.raises(SigningError, match="ncanode_unavailable"):
        NcaNodeClient("file:///etc/passwd")
    signature = Pkcs12Signer.open(RSA_KEY.read_bytes(), NCA_PASSWORD).sign(b"x")
    client = NcaNodeClient(ncanode)
    assert client.verify(b"x", signature) is True
    assert client.verify(b"y", signature) is False
