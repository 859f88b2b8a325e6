"""Detached CMS: what we make verifies with openssl against the issuing CA; altered bytes never verify."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.signing.pki import NCA_PASSWORD, RSA_CA, RSA_CRL, RSA_KEY, Pki
from warehouse import canonical
from warehouse.signing.certs import load_certificates, load_crls
from warehouse.signing.cms import decode_signature, sign_detached, verify_detached
from warehouse.signing.signers import Pkcs12Signer

OPENSSL = shutil.which("openssl")
DOC = canonical.dumps(
    {
        "format": "transfer-act-acceptance/1",
        "name": "ТОО «Склад & Ко» <опт>",
        "code": "0104870000010017218f%&'()*\x1d8005112000\x1d93Ab1+",
    }
)


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    assert OPENSSL, "openssl is needed"
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=30)


def _write(folder: Path, content: bytes, signature: bytes) -> tuple[Path, Path]:
    doc, p7s = folder / "DOC.json", folder / "DOC.p7s"
    doc.write_bytes(content)
    p7s.write_bytes(signature)
    return doc, p7s


def test_own_ca_signature_verifies_with_plain_openssl(pki: Pki, tmp_path: Path) -> None:
    signature = sign_detached(DOC, pki.sign.certificate, pki.sign.key)
    doc, p7s = _write(tmp_path, DOC, signature)
    # exactly the command of the project's brief: the CA is a root, the certificate valid today
    result = _openssl(
        "cms",
        "-verify",
        "-binary",
        "-content",
        str(doc),
        "-inform",
        "DER",
        "-in",
        str(p7s),
        "-CAfile",
        str(pki.ca_pem),
        "-out",
        "/dev/null",
    )
    assert result.returncode == 0, result.stderr
    check = verify_detached(DOC, signature, trusted=[pki.ca], crls=load_crls(pki.crl_pem.read_bytes()))
    assert check.valid and check.warnings == () and check.digest_algorithm == "sha256"
    assert check.info is not None and check.info.iin == "900101300123"


def test_nca_key_signature_verifies_with_openssl_partial_chain(tmp_path: Path) -> None:
    signer = Pkcs12Signer.open(RSA_KEY.read_bytes(), NCA_PASSWORD)
    signature = signer.sign(DOC)
    doc, p7s = _write(tmp_path, DOC, signature)
    # NCA's issuing CA is itself issued by a root not published with the test data; the key expired in 2022
    result = _openssl(
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
        str(RSA_CA),
        "-partial_chain",
        "-no_check_time",
        "-out",
        "/dev/null",
    )
    assert result.returncode == 0, result.stderr
    check = verify_detached(
        DOC, signature, trusted=load_certificates(RSA_CA.read_bytes()), crls=load_crls(RSA_CRL.read_bytes())
    )
    assert check.valid, check.problems
    assert "expired" in check.warnings and check.signing_time is not None


def test_tampered_document_fails_here_and_in_openssl(pki: Pki, tmp_path: Path) -> None:
    signature = sign_detached(DOC, pki.sign.certificate, pki.sign.key)
    tampered = DOC.replace(b"112000", b"112001")
    assert verify_detached(tampered, signature, trusted=[pki.ca]).problems == ("content_mismatch",)
    assert verify_detached(DOC + b"\n", signature, trusted=[pki.ca]).problems == ("content_mismatch",)
    doc, p7s = _write(tmp_path, tampered, signature)
    result = _openssl(
        "cms",
        "-verify",
        "-binary",
        "-content",
        str(doc),
        "-inform",
        "DER",
        "-in",
        str(p7s),
        "-CAfile",
        str(pki.ca_pem),
        "-out",
        "/dev/null",
    )
    assert result.returncode != 0


def test_tampered_signature_fails(pki: Pki) -> None:
    signature = bytearray(sign_detached(DOC, pki.sign.certificate, pki.sign.key))
    signature[-3] ^= 0x01  # inside the RSA signature value
    assert verify_detached(DOC, bytes(signature), trusted=[pki.ca]).problems == ("bad_signature",)
    assert verify_detached(DOC, b"junk", trusted=[pki.ca]).problems == ("not_cms",)
    assert verify_detached(DOC, bytes(signature[:200]), trusted=[pki.ca]).problems == ("not_cms",)


def test_trust_problems(pki: Pki) -> None:
    signature = sign_detached(DOC, pki.sign.certificate, pki.sign.key)
    assert verify_detached(DOC, signature).problems == ("no_trusted_ca",)
    assert verify_detached(DOC, signature, trusted=load_certificates(RSA_CA.read_bytes())).problems == ("untrusted",)
    revoked = sign_detached(DOC, pki.revoked.certificate, pki.revoked.key)
    check = verify_detached(DOC, revoked, trusted=[pki.ca], crls=load_crls(pki.crl_pem.read_bytes()))
    assert check.problems == ("revoked",)


@pytest.mark.parametrize("form", ["base64", "pem"])
def test_signature_as_text_is_accepted(pki: Pki, form: str) -> None:
    signature = sign_detached(DOC, pki.sign.certificate, pki.sign.key)
    text = base64.encodebytes(signature)
    if form == "pem":
        text = b"-----BEGIN CMS-----\n" + text + b"-----END CMS-----\n"
    assert decode_signature(text) == signature
    assert verify_detached(DOC, text, trusted=[pki.ca]).valid
