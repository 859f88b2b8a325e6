"""The attached CMS a login needs, made from a detached one: it verifies here and with openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.signing.pki import NCA_PASSWORD, RSA_KEY, Pki
from warehouse.signing.cms import attach, sign_detached, verify_attached, verify_detached
from warehouse.signing.signers import Pkcs12Signer

CHALLENGE = b"QWERTYUIOPASDFGHJKLZXCVBNMQWER"


def test_attaching_keeps_the_signature_valid(pki: Pki) -> None:
    detached = sign_detached(CHALLENGE, pki.sign.certificate, pki.sign.key, [pki.ca])
    attached = attach(detached, CHALLENGE)
    content, check = verify_attached(attached, trusted=[pki.ca])
    assert content == CHALLENGE
    assert check.valid, check.problems
    assert check.info is not None and check.info.bin == "123456789021"
    assert verify_detached(CHALLENGE, attached, trusted=[pki.ca]).valid


def test_other_content_or_a_detached_cms_is_refused(pki: Pki) -> None:
    detached = sign_detached(CHALLENGE, pki.sign.certificate, pki.sign.key)
    assert verify_attached(detached)[1].problems == ("not_cms",)
    content, check = verify_attached(attach(detached, b"OTHER"), trusted=[pki.ca])
    assert content == b"OTHER" and check.problems == ("content_mismatch",)
    assert verify_attached(b"junk")[1].problems == ("not_cms",)


def test_the_nca_test_key_signs_a_login() -> None:
    signer = Pkcs12Signer.open(RSA_KEY.read_bytes(), NCA_PASSWORD)
    content, check = verify_attached(attach(signer.sign(CHALLENGE), CHALLENGE))
    assert content == CHALLENGE
    assert "bad_signature" not in check.problems and "content_mismatch" not in check.problems


def test_openssl_reads_the_attached_cms(pki: Pki, tmp_path: Path) -> None:
    path = tmp_path / "login.p7s"
    path.write_bytes(attach(sign_detached(CHALLENGE, pki.sign.certificate, pki.sign.key), CHALLENGE))
    out = tmp_path / "out.bin"
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-noverify", "-inform", "DER", "-in", str(path), "-out", str(out)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == CHALLENGE
