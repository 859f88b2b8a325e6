"""Who makes the signature: one `Signer` interface, several backends.

- `Pkcs12Signer`: an RSA (or EC) key file opened with `cryptography`. The password is used once, to
  open the file, and is not kept; the key lives only as long as the signer object.
- `NcaNodeSigner`: NCANode's `POST /cms/sign` (https://github.com/ncanode-kz/NCANode), for keys Python
  cannot use (GOST). The key file and password travel to NCANode in that one request: configure only
  an NCANode on this machine or a trusted network.
- NCALayer: the browser signs (static/js/ncalayer.js) and posts the CMS; there is no server-side
  signer, the server only verifies what comes back (`cms.verify_detached`).

Every backend hands back DER of a detached CMS over the exact bytes given.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from warehouse.signing import cms, pkcs12
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.errors import SigningError

__all__ = ["KeyFileView", "NcaNodeClient", "NcaNodeSigner", "Pkcs12Signer", "Signer", "open_signer", "read_key_file"]


class Signer(Protocol):
    """Signs exact bytes with one certificate's key; returns DER of a detached CMS."""

    backend: str

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]: ...

    def sign(self, content: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeyFileView:
    """What a key file shows before signing: its certificate, and whether Python can sign with it."""

    certificate: x509.Certificate
    info: CertificateInfo
    gost: bool


def read_key_file(data: bytes, password: str) -> KeyFileView:
    """The certificate of a key file, for the person to check before signing (RSA and GOST alike).

    Raises SigningError: "not_a_key_file", "wrong_password", "no_key".
    """
    contents = pkcs12.inspect(data, password)
    cert = contents.key_certificate()
    if cert is None:
        raise SigningError("no_key")
    return KeyFileView(cert, CertificateInfo.from_certificate(cert), contents.has_gost_key)


class Pkcs12Signer:
    backend = "pkcs12"

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        self._key = key
        self._certificate = certificate
        self._chain = tuple(chain)
        self.info = CertificateInfo.from_certificate(certificate)

    @classmethod
    def open(cls, data: bytes, password: str) -> Pkcs12Signer:
        """Open a PKCS#12 key file for signing.

        Raises SigningError: "not_a_key_file", "wrong_password", "gost_key" (with the certificate, so
        the page can say whose key it is), "unsupported_key", "no_key", "auth_key".
        """
        if len(data) > pkcs12.MAX_KEY_FILE:
            raise SigningError("not_a_key_file", "larger than any key file")
        try:
            key, cert, extra = crypto_pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
        except ValueError:
            # cryptography says "invalid password" for a GOST key too: find out which it is.
            view = read_key_file(data, password)
            if view.gost:
                raise SigningError("gost_key", certificate=view.info) from None
            raise SigningError("unsupported_key", certificate=view.info) from None
        if key is None or cert is None:
            raise SigningError("no_key")
        info = CertificateInfo.from_certificate(cert)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningError("gost_key" if info.key_algorithm == "gost" else "unsupported_key", certificate=info)
        if not info.can_sign:
            raise SigningError("auth_key", certificate=info)
        return cls(key, cert, extra)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def sign(self, content: bytes) -> bytes:
        return cms.sign_detached(content, self._certificate, self._key, self._chain)


class NcaNodeClient:
    """NCANode 3.x over HTTP: `/cms/sign` and `/cms/verify` with base64 JSON bodies."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise SigningError("ncanode_unavailable", f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url + path,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read(16 * 1024 * 1024))
        except urllib.error.HTTPError as e:
            raise SigningError("ncanode_error", _ncanode_message(e)) from None
        except (urllib.error.URLError, OSError) as e:
            raise SigningError("ncanode_unavailable", str(getattr(e, "reason", e))) from None
        except ValueError as e:
            raise SigningError("ncanode_error", f"not JSON: {e}") from None
        if not isinstance(answer, dict) or answer.get("status", 200) != 200:
            raise SigningError("ncanode_error", str(answer.get("message") if isinstance(answer, dict) else answer))
        return answer

    def sign(self, content: bytes, key_file: bytes, password: str) -> bytes:
        answer = self._post(
            "/cms/sign",
            {
                "data": base64.b64encode(content).decode("ascii"),
                "signers": [
                    {"key": base64.b64encode(key_file).decode("ascii"), "password": password, "keyAlias": None}
                ],
                "withTsp": False,
                "detached": True,
            },
        )
        try:
            return base64.b64decode(answer["cms"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise SigningError("ncanode_error", "no CMS in the answer") from None

    def verify(self, content: bytes, signature: bytes) -> bool:
        answer = self._post(
            "/cms/verify",
            {
                "cms": base64.b64encode(signature).decode("ascii"),
                "data": base64.b64encode(content).decode("ascii"),
                "revocationCheck": ["CRL"],
            },
        )
        return answer.get("valid") is True


def _ncanode_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read(64 * 1024))
        return f"HTTP {error.code}: {body.get('message', '')}"
    except (ValueError, AttributeError):
        return f"HTTP {error.code}"


class NcaNodeSigner:
    """Signs through NCANode with a key file; holds the file and its password until `sign` is done."""

    backend = "ncanode"

    def __init__(self, client: NcaNodeClient, key_file: bytes, password: str, view: KeyFileView) -> None:
        self._client = client
        self._key_file = key_file
        self._password: str | None = password
        self._view = view
        self.info = view.info

    @classmethod
    def open(cls, url: str, data: bytes, password: str) -> NcaNodeSigner:
        """Check the password and the certificate locally first (an AUTH key never leaves the station)."""
        view = read_key_file(data, password)
        if not view.info.can_sign:
            raise SigningError("auth_key", certificate=view.info)
        return cls(NcaNodeClient(url), data, password, view)

    @property
    def certificate(self) -> x509.Certificate:
        return self._view.certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return ()

    def sign(self, content: bytes) -> bytes:
        if self._password is None:
            raise SigningError("ncanode_error", "signer already closed")
        return self._client.sign(content, self._key_file, self._password)

    def close(self) -> None:
        """Forget the password (Python cannot wipe the string itself, only drop the reference)."""
        self._password = None
        self._key_file = b""


def open_signer(data: bytes, password: str, *, ncanode_url: str | None = None) -> Signer:
    """The signer for a key file: local for RSA; NCANode for GOST when configured.

    Without NCANode a GOST key raises SigningError "gost_key", whose message points to NCALayer.
    """
    try:
        return Pkcs12Signer.open(data, password)
    except SigningError as e:
        if e.reason == "gost_key" and ncanode_url:
            return NcaNodeSigner.open(ncanode_url, data, password)
        raise
