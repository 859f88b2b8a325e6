"""Reading key files: the password checked against the MAC, GOST keys recognised, RC2 per RFC 2268."""

from __future__ import annotations

import pytest

from tests.signing.pki import GOST_2004_KEY, GOST_2015_KEY, GOST_2015_PASSWORD, NCA_PASSWORD, PASSWORD, RSA_KEY, Pki
from warehouse.signing import pkcs12
from warehouse.signing.errors import SigningError

# RFC 2268 section 5: (key, effective bits, plaintext, ciphertext)
RC2_VECTORS = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
]


@pytest.mark.parametrize(("key", "bits", "plain", "cipher"), RC2_VECTORS)
def test_rc2_decrypts_the_rfc_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    # one block with a zero IV is plain ECB
    got = pkcs12.rc2_cbc_decrypt(bytes.fromhex(key), bits, bytes(8), bytes.fromhex(cipher))
    assert got.hex() == plain


def test_nca_rsa_file_is_read_with_its_certificate() -> None:
    found = pkcs12.inspect(RSA_KEY.read_bytes(), NCA_PASSWORD)
    assert found.password_checked and not found.has_gost_key
    assert found.key_algorithms == ["1.2.840.113549.1.1.1"]
    cert = found.key_certificate()
    assert cert is not None and "IIN123456789011" in cert.subject.rfc4514_string()


@pytest.mark.parametrize(
    ("path", "password", "iin"),
    [(GOST_2004_KEY, NCA_PASSWORD, "IIN123456789011"), (GOST_2015_KEY, GOST_2015_PASSWORD, "IIN123456789012")],
)
def test_gost_files_are_recognised(path: object, password: str, iin: str) -> None:
    found = pkcs12.inspect(path.read_bytes(), password)  # type: ignore[attr-defined]
    assert found.has_gost_key and found.password_checked
    cert = found.key_certificate()
    assert cert is not None and iin in cert.subject.rfc4514_string()


@pytest.mark.parametrize("path", [RSA_KEY, GOST_2004_KEY])
def test_wrong_password_is_told_apart(path: object) -> None:
    with pytest.raises(SigningError) as e:
        pkcs12.inspect(path.read_bytes(), "Qwerty13")  # type: ignore[attr-defined]
    assert e.value.reason == "wrong_password"


def test_modern_pbes2_files_are_read(pki: Pki) -> None:
    found = pkcs12.inspect(pki.sign.p12, PASSWORD)
    assert found.password_checked and found.key_algorithms == ["1.2.840.113549.1.1.1"]
    assert found.key_certificate() == pki.sign.certificate  # the end-entity one, not the CA beside it
    with pytest.raises(SigningError, match="wrong_password"):
        pkcs12.inspect(pki.sign.p12, PASSWORD + "x")


@pytest.mark.parametrize("data", [b"", b"not a key", b"0\x03\x02\x01\x05", b"\x30\x80" + b"\x30" * 100])
def test_garbage_is_not_a_key_file(data: bytes) -> None:
    with pytest.raises(SigningError, match="not_a_key_file"):
        pkcs12.inspect(data, "x")
