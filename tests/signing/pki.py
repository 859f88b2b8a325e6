"""Test material: the public NCA RK test keys (../shared/testdata/nca, used in place, never copied) and a
CA of our own with IIN/BIN subjects for what the public keys do not cover (a valid signing key, an
authentication key, a revoked key, PBES2 files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[2]
# The public NCA RK test keys live beside the project (../shared), never inside it; a clean clone elsewhere
# finds them through the environment or the workplace's shared folder.
_NCA_CANDIDATES = [Path(p) for p in (os.environ.get("WAREHOUSE_NCA_TESTDATA"),) if p] + [
    ROOT.parent / "shared" / "testdata" / "nca",
    Path("/work/shared/testdata/nca"),
]
NCA = next((p for p in _NCA_CANDIDATES if p.is_dir()), _NCA_CANDIDATES[0])
RSA_KEY = NCA / "individual_sign_rsa_2004.p12"
RSA_REVOKED_KEY = NCA / "individual_sign_rsa_2004_revoked.p12"
GOST_2004_KEY = NCA / "ceo_sign_gost_2004_revoked.p12"
GOST_2015_KEY = NCA / "individual_gost_2015.p12"
RSA_CA = NCA / "nca_rsa_test.crt"
RSA_CRL = NCA / "nca_rsa_test.crl"
NCA_PASSWORD = "Qwerty12"
GOST_2015_PASSWORD = "Aa123456"
PASSWORD = "Пароль-1"


@dataclass(frozen=True)
class Issued:
    p12: bytes  # legacy-free PKCS#12 (PBES2/AES) protected by PASSWORD
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class Pki:
    ca: x509.Certificate
    ca_pem: Path
    crl_pem: Path
    sign: Issued
    auth: Issued
    revoked: Issued


def _name(cn: str, *, iin: str | None = None, bin_: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]
    if iin:
        attrs += [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
            x509.NameAttribute(NameOID.SURNAME, "ИВАНОВ"),
            x509.NameAttribute(NameOID.GIVEN_NAME, "ПЕТРОВИЧ"),
        ]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if bin_:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    return x509.Name(attrs)


def _issue(ca_key: rsa.RSAPrivateKey, ca: x509.Certificate, subject: x509.Name, *, login: bool, serial: int) -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=not login,
        key_encipherment=login,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH] if login else [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"key", key, cert, [ca], serialization.BestAvailableEncryption(PASSWORD.encode())
    )
    return Issued(p12, cert, key)


def make_pki(folder: Path) -> Pki:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    ca_name = _name("ҰКО ТЕСТ (склад)")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sign = _issue(
        ca_key,
        ca,
        _name("ИВАНОВ ИВАН", iin="900101300123", bin_="123456789021", org="ТОО «Склад & Ко»"),
        login=False,
        serial=1001,
    )
    auth = _issue(ca_key, ca, _name("ИВАНОВ ИВАН", iin="900101300123"), login=True, serial=1002)
    revoked = _issue(ca_key, ca, _name("ПЕТРОВ ПЁТР", iin="850505400456"), login=False, serial=1003)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(1003).revocation_date(now - timedelta(minutes=30)).build()
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    crl_pem = folder / "ca.crl"
    crl_pem.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return Pki(ca, ca_pem, crl_pem, sign, auth, revoked)
