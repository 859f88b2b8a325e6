"""What a person must see about a certificate before signing, and whether it can be trusted.

NCA RK (НУЦ РК) certificates put the holder in the subject like this (see ../shared/testdata/nca):
CN = "SURNAME NAME", SURNAME (2.5.4.4) = surname, GIVENNAME (2.5.4.42) = patronymic (отчество),
SERIALNUMBER (2.5.4.5) = "IIN" + 12 digits, OU = "BIN" + 12 digits for an organisation's employee,
O = the organisation's name. Any of them may be missing; nothing here fails on a missing field.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertificateInfo",
    "CertificateStatus",
    "KeyAlgorithm",
    "assess",
    "is_gost_oid",
    "load_certificates",
    "load_crls",
]

KeyAlgorithm = Literal["rsa", "ec", "gost", "other"]

# Kazakhstan's GOST 34.310-2004 / 34.10-2015 (1.2.398.3.10…) and Russia's GOST R 34.10 (1.2.643…).
_GOST_PREFIXES = ("1.2.398.3.10.", "1.2.643.")
_RSA_OIDS = frozenset({"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"})
_EC_OID = "1.2.840.10045.2.1"
_TWELVE_DIGITS = re.compile(r"\d{12}")


@contextmanager
def _long_names_allowed() -> Iterator[None]:
    """NCA's GOST 2015 CA has a 69-character CN, beyond X.520's 64: cryptography warns each time it
    parses that name; we read it as it is."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
        yield


def is_gost_oid(oid: str) -> bool:
    return oid.startswith(_GOST_PREFIXES)


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return text.strip() or None


def _prefixed(value: str | None, prefix: str) -> str | None:
    """ "IIN123456789011" -> "123456789011"; anything that is not prefix + 12 digits -> None."""
    if value is None or not value.upper().startswith(prefix):
        return None
    digits = value[len(prefix) :]
    return digits if _TWELVE_DIGITS.fullmatch(digits) else None


def _key_algorithm(cert: x509.Certificate) -> KeyAlgorithm:
    oid = cert.public_key_algorithm_oid.dotted_string
    if oid in _RSA_OIDS:
        return "rsa"
    if oid == _EC_OID:
        return "ec"
    return "gost" if is_gost_oid(oid) else "other"


def _can_sign(cert: x509.Certificate) -> bool:
    """False for an authentication-only certificate (NCA's AUTH_… keys).

    NCA signing certificates carry keyUsage digitalSignature + nonRepudiation and EKU emailProtection;
    authentication certificates carry digitalSignature + keyEncipherment and EKU clientAuth. The file
    name (AUTH_RSA256_…) is not evidence: people rename files. nonRepudiation (contentCommitment)
    marks a signing key; without it, an EKU that allows client authentication only marks a login key.
    """
    try:
        usage: x509.KeyUsage | None = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    try:
        purposes = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        purposes = None
    if usage is not None:
        if usage.content_commitment:
            return True
        if not usage.digital_signature:
            return False
    if purposes is not None:
        signing = {
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
            ExtendedKeyUsageOID.CODE_SIGNING,
        }
        if ExtendedKeyUsageOID.CLIENT_AUTH in purposes and not purposes & signing:
            return False
    return True


def _full_name(subject: x509.Name) -> str | None:
    common = _attr(subject, NameOID.COMMON_NAME)
    surname = _attr(subject, NameOID.SURNAME)
    given = _attr(subject, NameOID.GIVEN_NAME)  # NCA: the patronymic
    if common:
        if given and given.casefold() not in common.casefold().split():
            return f"{common} {given}"
        return common
    parts = [p for p in (surname, given) if p]
    return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The facts about a certificate a signer and a verifier look at. Build with `from_certificate`."""

    name: str | None  # holder's full name: CN (+ patronymic), or SURNAME + GIVENNAME
    iin: str | None  # 12 digits, from SERIALNUMBER "IIN…"
    bin: str | None  # 12 digits, from OU "BIN…" (or SERIALNUMBER "BIN…")
    organization: str | None  # O
    issuer: str | None  # the issuing CA's CN
    not_before: datetime  # aware, UTC
    not_after: datetime
    serial: str  # lowercase hex, as NCA prints it
    fingerprint_sha256: str  # lowercase hex of SHA-256 over the DER certificate
    key_algorithm: KeyAlgorithm
    can_sign: bool  # False for authentication-only (AUTH_…) certificates
    subject: str = field(default="", compare=False)  # RFC 4514, for logs and support

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> CertificateInfo:
        with _long_names_allowed():
            return cls._read(cert)

    @classmethod
    def _read(cls, cert: x509.Certificate) -> CertificateInfo:
        subject = cert.subject
        serial_number = _attr(subject, NameOID.SERIAL_NUMBER)
        bin_ = _prefixed(_attr(subject, NameOID.ORGANIZATIONAL_UNIT_NAME), "BIN") or _prefixed(serial_number, "BIN")
        return cls(
            name=_full_name(subject),
            iin=_prefixed(serial_number, "IIN"),
            bin=bin_,
            organization=_attr(subject, NameOID.ORGANIZATION_NAME),
            issuer=_attr(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string() or None,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            serial=format(cert.serial_number, "x"),
            fingerprint_sha256=hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(),
            key_algorithm=_key_algorithm(cert),
            can_sign=_can_sign(cert),
            subject=subject.rfc4514_string(),
        )

    def summary(self) -> dict[str, str | None]:
        """The signer as written into a signed document (strings only, canonical-JSON friendly)."""
        return {
            "name": self.name,
            "iin": self.iin,
            "bin": self.bin,
            "organization": self.organization,
            "issuer": self.issuer,
            "serial": self.serial,
            "certificate_sha256": self.fingerprint_sha256,
        }

    def to_json(self) -> dict[str, object]:
        return {
            **self.summary(),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "key_algorithm": self.key_algorithm,
            "can_sign": self.can_sign,
            "subject": self.subject,
        }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------------
# Trust: issuer, revocation, validity


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """`problems` make a signature worthless; `warnings` are shown but do not fail it."""

    chain_ok: bool
    revoked: bool
    revoked_at: datetime | None
    expired: bool
    not_yet_valid: bool
    issuer_certificate: x509.Certificate | None
    problems: list[str]
    warnings: list[str]


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    if cert.issuer != ca.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _chain(
    cert: x509.Certificate, trusted: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate]
) -> tuple[bool, x509.Certificate | None]:
    """(chains to a trusted certificate, the certificate that issued `cert` if found).

    A trusted certificate is an anchor wherever it sits (OpenSSL's -partial_chain): NCA's issuing
    CAs are configured directly, their root is not needed. Intermediates come from the CMS itself
    and must be CA certificates; three of them is more than any NCA chain has.
    """
    if cert in trusted:
        return True, None
    current, direct_issuer = cert, None
    for _ in range(4):
        anchor = next((ca for ca in trusted if _issued_by(current, ca)), None)
        if anchor is not None:
            return True, direct_issuer or anchor
        step = next((c for c in intermediates if c != current and _is_ca(c) and _issued_by(current, c)), None)
        if step is None:
            return False, direct_issuer
        direct_issuer = direct_issuer or step
        current = step
    return False, direct_issuer


def _crl_signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def assess(
    cert: x509.Certificate,
    *,
    trusted: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    at: datetime | None = None,
    intermediates: Sequence[x509.Certificate] = (),
) -> CertificateStatus:
    """Check `cert` against trust anchors and CRLs at time `at` (default: now).

    Problems: "no_trusted_ca", "untrusted", "revoked", "gost_unsupported" (a GOST issuer signature
    cannot be checked in Python). Warnings: "expired", "not_yet_valid", "revocation_unchecked",
    "crl_outdated", "crl_invalid". A CRL counts only when its issuer is the certificate's issuer and,
    when that CA's certificate is known, its signature verifies.
    """
    with _long_names_allowed():
        return _assess(cert, trusted, crls, at or datetime.now(UTC), intermediates)


def _assess(
    cert: x509.Certificate,
    trusted: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    when: datetime,
    intermediates: Sequence[x509.Certificate],
) -> CertificateStatus:
    problems: list[str] = []
    warnings: list[str] = []
    chain_ok, issuer = _chain(cert, trusted, intermediates)
    if not chain_ok:
        if is_gost_oid(cert.signature_algorithm_oid.dotted_string):
            problems.append("gost_unsupported")
        else:
            problems.append("untrusted" if trusted else "no_trusted_ca")

    revoked, revoked_at, checked = False, None, False
    issuers = [c for c in (*trusted, *intermediates) if c.subject == cert.issuer]
    for crl in crls:
        if crl.issuer != cert.issuer:
            continue
        if issuers and not any(_crl_signed_by(crl, ca) for ca in issuers):
            warnings.append("crl_invalid")
            continue
        checked = True
        next_update = crl.next_update_utc
        if next_update is not None and next_update < datetime.now(UTC) and "crl_outdated" not in warnings:
            warnings.append("crl_outdated")
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            revoked, revoked_at = True, entry.revocation_date_utc
    if revoked:
        problems.append("revoked")
    elif not checked:
        warnings.append("revocation_unchecked")

    expired = when > cert.not_valid_after_utc
    not_yet_valid = when < cert.not_valid_before_utc
    if expired:
        warnings.append("expired")
    if not_yet_valid:
        warnings.append("not_yet_valid")
    return CertificateStatus(
        chain_ok=chain_ok,
        revoked=revoked,
        revoked_at=revoked_at,
        expired=expired,
        not_yet_valid=not_yet_valid,
        issuer_certificate=issuer,
        problems=problems,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------------------------------
# Files


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the one certificate of a DER file."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    if b"-----BEGIN" in data:
        return [x509.load_pem_x509_crl(block) for block in _pem_blocks(data, b"X509 CRL")]
    return [x509.load_der_x509_crl(data)]


def _pem_blocks(data: bytes, label: bytes) -> list[bytes]:
    begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
    blocks, pos = [], 0
    while (start := data.find(begin, pos)) >= 0:
        stop = data.find(end, start)
        if stop < 0:
            break
        blocks.append(data[start : stop + len(end)])
        pos = stop + len(end)
    return blocks
