"""Test material: the public NCA RK test keys (../shared/testdata/nca, used in place, never copied) and a
CA of our own with IIN/BIN subjects for what the public keys do not cover (a valid signing key, an
authentication key, a revoked key, PBES2 files)."""

from __future__ import annotations

import functools
import os
import tempfile
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


def _name(
    cn: str, *, iin: str | None = None, bin_: str | None = None, org: str | None = None, given: str = "ПЕТРОВИЧ"
) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]
    if iin:
        attrs += [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
            x509.NameAttribute(NameOID.SURNAME, "ИВАНОВ"),
            x509.NameAttribute(NameOID.GIVEN_NAME, given),
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
        .add_extension(_ca_usage(), critical=True)
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


# ---------------------------------------------------------------------------------------------------
# A chain like NCA RK's, minted with fresh dates: root -> issuing CA -> signing keys, with CRLs of both.


@dataclass(frozen=True)
class Chain:
    root: x509.Certificate
    intermediate: x509.Certificate
    sign: Issued  # valid, "ТЕСТОВ ТЕСТ ТЕСТОВИЧ", IIN 123456789011 (an individual: no BIN)
    expired: Issued
    revoked: Issued
    fake: Issued  # self-signed "ДИРЕКТОР ПОДДЕЛЬНЫЙ"
    store: Path  # root.cer, intermediate.cer, root.crl, intermediate.crl: what `trust update --from` reads
    keys: Path  # sign.p12, expired.p12, revoked.p12, fake.p12 (PASSWORD)
    root_key: rsa.RSAPrivateKey
    intermediate_key: rsa.RSAPrivateKey

    @property
    def sign_key(self) -> Path:
        return self.keys / "sign.p12"


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])


def mint_crl(
    issuer: x509.Certificate,
    key: rsa.RSAPrivateKey,
    revoked: tuple[int, ...] = (),
    *,
    next_update: timedelta = timedelta(days=7),
) -> x509.CertificateRevocationList:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(hours=1)).build()
        )
    return builder.sign(key, hashes.SHA256())


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    serial: int,
    *,
    ca: bool,
    days: tuple[int, int] = (-1, 365),
    crl_url: str | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_ca_usage() if ca else _signing_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    if crl_url:
        builder = builder.add_extension(_cdp(crl_url), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _p12(key: rsa.RSAPrivateKey, cert: x509.Certificate, chain: list[x509.Certificate]) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"key", key, cert, chain or None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )


def make_chain(folder: Path) -> Chain:
    """Root and issuing CA with CRLs (the issuing CA's revokes serial 3003), and four signing keys."""
    root_key, ca_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    root_name = _name("НУЦ РК ТЕСТ (корень)")
    ca_name = _name("ҰКО ТЕСТ (склад)")
    root = _cert(root_name, root_key, root_name, root_key, 1, ca=True, days=(-2, 3650))
    intermediate = _cert(
        ca_name, ca_key, root_name, root_key, 2, ca=True, days=(-2, 1825), crl_url="http://crl.test/root.crl"
    )
    url = "http://crl.test/nca.crl"
    holder = _name("ТЕСТОВ ТЕСТ", iin="123456789011", given="ТЕСТОВИЧ")  # an individual, like NCA's test key

    def issued(name: x509.Name, serial: int, days: tuple[int, int] = (-1, 365)) -> Issued:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = _cert(name, key, ca_name, ca_key, serial, ca=False, days=days, crl_url=url)
        return Issued(_p12(key, cert, [intermediate]), cert, key)

    sign = issued(holder, 3001)
    expired = issued(_name("ИСТЁКШИЙ КЛЮЧ", iin="850505400456"), 3002, days=(-400, -1))
    revoked = issued(_name("ОТОЗВАННЫЙ КЛЮЧ", iin="850505400457"), 3003)
    fake_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake_name = _name("ДИРЕКТОР ПОДДЕЛЬНЫЙ", iin="123456789011", bin_="123456789021")
    fake_cert = _cert(fake_name, fake_key, fake_name, fake_key, 4242, ca=False)
    fake = Issued(_p12(fake_key, fake_cert, []), fake_cert, fake_key)

    store = folder / "store"
    keys = folder / "keys"
    store.mkdir(parents=True, exist_ok=True)
    keys.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    (store / "root.cer").write_bytes(root.public_bytes(serialization.Encoding.DER))
    (store / "intermediate.cer").write_bytes(intermediate.public_bytes(pem))
    (store / "root.crl").write_bytes(mint_crl(root, root_key).public_bytes(serialization.Encoding.DER))
    (store / "intermediate.crl").write_bytes(mint_crl(intermediate, ca_key, (3003,)).public_bytes(pem))
    for name, item in (("sign", sign), ("expired", expired), ("revoked", revoked), ("fake", fake)):
        (keys / f"{name}.p12").write_bytes(item.p12)
    return Chain(root, intermediate, sign, expired, revoked, fake, store, keys, root_key, ca_key)


@functools.cache
def minted() -> Chain:
    """One chain for the whole test session (2048-bit keys take a moment each)."""
    return make_chain(Path(tempfile.mkdtemp(prefix="warehouse-pki-")))
