"""Detached CMS (PKCS#7 SignedData) signatures: make one over exact bytes, check one against exact bytes.

Making: `cryptography`'s PKCS7SignatureBuilder (detached, binary, SHA-256, DER), the form the operator's
API and `openssl cms -verify -binary` expect. Checking: `cryptography` has no CMS verification, so the
SignedData is walked with `der` and each step done explicitly — find the signer's certificate, compare
the messageDigest attribute with the hash of the content, check the signature over the DER of the
signed attributes, then hand the certificate to `certs.assess` for chain, CRL and validity.
GOST signatures (NCALayer with a GOST key) cannot be checked here: they are reported as
"gost_unsupported" with the signer's certificate, and the service may ask NCANode instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization.pkcs7 import PKCS7Options, PKCS7SignatureBuilder

from warehouse.signing import der
from warehouse.signing.certs import CertificateInfo, assess, is_gost_oid

__all__ = ["Verification", "attach", "decode_signature", "sign_detached", "verify_attached", "verify_detached"]

_SIGNED_DATA = "1.2.840.113549.1.7.2"
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_HASH_CLASSES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_RSA_PKCS1 = {
    "1.2.840.113549.1.1.1",
    "1.2.840.113549.1.1.5",
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
    "1.2.840.113549.1.1.14",
}
_RSA_PSS = "1.2.840.113549.1.1.10"
_ECDSA_PREFIX = "1.2.840.10045.4."
_MAX_SIGNATURE = 1024 * 1024


def sign_detached(
    content: bytes,
    certificate: x509.Certificate,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    chain: Sequence[x509.Certificate] = (),
) -> bytes:
    """A detached CMS over `content` (SHA-256, signed attributes with signing time), DER-encoded.

    Binary: the bytes are signed as they are (no MIME canonicalisation of line ends). No S/MIME
    capabilities attribute: it means nothing outside e-mail.
    """
    builder = PKCS7SignatureBuilder().set_data(content).add_signer(certificate, key, hashes.SHA256())
    for extra in chain:
        if extra != certificate:
            builder = builder.add_certificate(extra)
    options = [PKCS7Options.DetachedSignature, PKCS7Options.Binary, PKCS7Options.NoCapabilities]
    return builder.sign(Encoding.DER, options)


def decode_signature(data: bytes) -> bytes:
    """DER from what people hand us: DER itself, PEM (`-----BEGIN CMS/PKCS7-----`) or bare base64 text
    (NCALayer returns base64). Anything else is returned unchanged and fails later as "not_cms"."""
    stripped = data.strip()
    if stripped.startswith(b"0"):  # 0x30: a DER SEQUENCE
        return data
    if stripped.startswith(b"-----BEGIN"):
        stripped = b"".join(line for line in stripped.splitlines() if not line.startswith(b"-----"))
    try:
        return base64.b64decode(re.sub(rb"\s+", b"", stripped), validate=True)
    except (binascii.Error, ValueError):
        return data


@dataclass(frozen=True)
class Verification:
    """The outcome of checking one detached signature. Valid when `problems` is empty.

    `problems` and `warnings` hold reasons of `errors.SigningError.phrasebook`. `certificate` is the signer's, when
    the CMS carries it, so a page can say who signed even when the signature is refused.
    """

    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    certificate: x509.Certificate | None = None
    info: CertificateInfo | None = None
    signing_time: datetime | None = None
    digest_algorithm: str | None = None
    status: Any = field(default=None, compare=False)  # the certificate check's own result
    gost: bool = False  # a GOST signature: only NCANode can check it

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _SignerInfo:
    sid_issuer: bytes | None
    sid_serial: int | None
    sid_key_id: bytes | None
    digest_oid: str
    signed_attrs: der.Node | None
    signature_algorithm: der.Node
    signature: bytes


@dataclass(frozen=True)
class _SignedData:
    content: bytes | None  # encapsulated content, when the CMS is not detached
    certificates: list[x509.Certificate]
    signers: list[_SignerInfo]


def _parse(cms: bytes) -> _SignedData:
    info = der.parse(cms).expect(der.SEQUENCE)
    if info.child(0).oid() != _SIGNED_DATA:
        raise der.DerError("not SignedData")
    parts = info.child(1).expect(0, der.CONTEXT).child(0).expect(der.SEQUENCE).children()
    encap = parts[2].expect(der.SEQUENCE).children()
    content = encap[1].expect(0, der.CONTEXT).child(0).octets() if len(encap) > 1 else None
    certificates: list[x509.Certificate] = []
    signer_set: der.Node | None = None
    for node in parts[3:]:
        if node.is_(0, der.CONTEXT):
            for choice in node.children():
                if choice.is_(der.SEQUENCE):  # other choices (attribute certificates…) are not ours
                    try:
                        certificates.append(x509.load_der_x509_certificate(choice.raw))
                    except ValueError:
                        continue
        elif node.is_(der.SET):
            signer_set = node
    if signer_set is None:
        raise der.DerError("no signerInfos")
    return _SignedData(content, certificates, [_signer_info(n) for n in signer_set.children()])


def _signer_info(node: der.Node) -> _SignerInfo:
    parts = node.expect(der.SEQUENCE).children()
    sid = parts[1]
    issuer = serial = key_id = None
    if sid.is_(der.SEQUENCE):
        issuer, serial = sid.child(0).raw, sid.child(1).integer()
    elif sid.is_(0, der.CONTEXT):
        key_id = sid.content
    else:
        raise der.DerError("bad signer identifier")
    pos = 3
    signed_attrs = None
    if parts[pos].is_(0, der.CONTEXT):
        signed_attrs = parts[pos]
        pos += 1
    return _SignerInfo(
        issuer,
        serial,
        key_id,
        parts[2].child(0).oid(),
        signed_attrs,
        parts[pos],
        parts[pos + 1].expect(der.OCTET_STRING).octets(),
    )


def _issuer_raw(cert: x509.Certificate) -> bytes:
    tbs = der.parse(cert.tbs_certificate_bytes).children()
    offset = 1 if tbs[0].is_(0, der.CONTEXT) else 0  # [0] version is optional
    return tbs[offset + 2].raw


def _find_certificate(signer: _SignerInfo, certificates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for cert in certificates:
        if signer.sid_serial is not None:
            if cert.serial_number == signer.sid_serial and _issuer_raw(cert) == signer.sid_issuer:
                return cert
        else:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == signer.sid_key_id:
                return cert
    return None


def _attributes(signed_attrs: der.Node) -> dict[str, list[der.Node]]:
    found: dict[str, list[der.Node]] = {}
    for attribute in signed_attrs.children():
        oid = attribute.child(0).oid()
        if oid in found:
            raise der.DerError(f"attribute {oid} appears twice")
        found[oid] = attribute.child(1).expect(der.SET).children()
    return found


def _check_signature(cert: x509.Certificate, signer: _SignerInfo, hash_name: str, signed: bytes) -> bool:
    algorithm = signer.signature_algorithm.child(0).oid()
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    chosen = _HASH_CLASSES[hash_name]()
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm in _RSA_PKCS1:
            key.verify(signer.signature, signed, padding.PKCS1v15(), chosen)
        elif isinstance(key, rsa.RSAPublicKey) and algorithm == _RSA_PSS:
            key.verify(signer.signature, signed, padding.PSS(padding.MGF1(chosen), padding.PSS.AUTO), chosen)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm.startswith(_ECDSA_PREFIX):
            key.verify(signer.signature, signed, ec.ECDSA(chosen))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify_detached(
    content: bytes,
    cms: bytes,
    *,
    trusted: Sequence[x509.Certificate] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    at: datetime | None = None,
    check: Callable[[x509.Certificate, Sequence[x509.Certificate], datetime | None], Any] | None = None,
) -> Verification:
    """Check a detached CMS `cms` over exactly `content`, and its signer against `trusted` and `crls`.

    `check(certificate, intermediates, at)` judges the certificate instead (the station passes
    `trust.check_certificate`, the same check signing makes); it returns `.problems` and `.warnings`.

    One signer is expected. Problems: "not_cms", "multiple_signers", "signer_not_found",
    "content_mismatch" (the signature is of other bytes), "bad_signature", "unsupported_algorithm",
    "gost_unsupported", plus the certificate problems of `certs.assess` ("untrusted", "revoked", …).
    The certificate's validity is judged at `at`, else at the signing time the signature states, else now.

    >>> verify_detached(b"{}", b"junk").problems
    ('not_cms',)
    """
    if len(cms) > _MAX_SIGNATURE:
        return Verification(("not_cms",))
    try:
        signed_data = _parse(decode_signature(cms))
    except (der.DerError, IndexError, ValueError):
        return Verification(("not_cms",))
    if len(signed_data.signers) != 1:
        return Verification(("multiple_signers" if signed_data.signers else "not_cms",))
    signer = signed_data.signers[0]
    cert = _find_certificate(signer, signed_data.certificates)
    if cert is None:
        return Verification(("signer_not_found",))
    info = CertificateInfo.from_certificate(cert)
    intermediates = [c for c in signed_data.certificates if c != cert]

    def outcome(
        *problems: str, signing_time: datetime | None = None, digest: str | None = None, gost: bool = False
    ) -> Verification:
        return Verification(tuple(problems), (), cert, info, signing_time, digest, None, gost)

    if signed_data.content is not None and signed_data.content != content:
        return outcome("content_mismatch")
    sig_oid = signer.signature_algorithm.child(0).oid()
    if is_gost_oid(signer.digest_oid) or is_gost_oid(sig_oid) or info.key_algorithm == "gost":
        return outcome("gost_unsupported", gost=True)
    hash_name = _DIGESTS.get(signer.digest_oid)
    if hash_name is None or hash_name == "sha1":  # SHA-1 signatures are not accepted any more
        return outcome("unsupported_algorithm")

    digest = hashlib.new(hash_name, content).digest()
    signing_time = None
    if signer.signed_attrs is not None:
        try:
            attributes = _attributes(signer.signed_attrs)
            digest_values = attributes.get(_MESSAGE_DIGEST, [])
            if len(digest_values) != 1 or _CONTENT_TYPE not in attributes:
                return outcome("not_cms", digest=hash_name)
            if _SIGNING_TIME in attributes:
                signing_time = attributes[_SIGNING_TIME][0].time()
            stated = digest_values[0].expect(der.OCTET_STRING).content
        except (der.DerError, IndexError):
            return outcome("not_cms", digest=hash_name)
        if stated != digest:
            return outcome("content_mismatch", signing_time=signing_time, digest=hash_name)
        # The signature covers the DER of the attributes as a SET (tag 0x31), not as the [0] in the CMS.
        signed = b"\x31" + signer.signed_attrs.raw[1:]
    else:
        signed = content
    if not _check_signature(cert, signer, hash_name, signed):
        return outcome("bad_signature", signing_time=signing_time, digest=hash_name)

    status: Any
    if check is not None:
        status = check(cert, intermediates, at or signing_time)
    else:
        status = assess(cert, trusted=trusted, crls=crls, at=at or signing_time, intermediates=intermediates)
    return Verification(tuple(status.problems), tuple(status.warnings), cert, info, signing_time, hash_name, status)


def attach(detached: bytes, content: bytes) -> bytes:
    """The same SignedData with `content` put inside as eContent: the attached CMS a login needs.

    The signed attributes hold the content's digest, not the content, so the signature stays valid:
    nothing is re-signed, any signer that makes a detached CMS (a key file, NCANode) serves the login too.
    Raises der.DerError when `detached` is not a detached SignedData.
    """
    info = der.parse(decode_signature(detached)).expect(der.SEQUENCE)
    if info.child(0).oid() != _SIGNED_DATA:
        raise der.DerError("not SignedData")
    parts = info.child(1).expect(0, der.CONTEXT).child(0).expect(der.SEQUENCE).children()
    encap = parts[2].expect(der.SEQUENCE).children()
    if len(encap) > 1:
        raise der.DerError("the CMS already carries its content")
    econtent = der.encode(0, der.encode(der.OCTET_STRING, content), cls=der.CONTEXT, constructed=True)
    new_encap = der.encode(der.SEQUENCE, encap[0].raw + econtent)
    signed_data = der.encode(
        der.SEQUENCE, b"".join([parts[0].raw, parts[1].raw, new_encap, *(p.raw for p in parts[3:])])
    )
    wrapped = der.encode(0, signed_data, cls=der.CONTEXT, constructed=True)
    return der.encode(der.SEQUENCE, info.child(0).raw + wrapped)


def verify_attached(cms: bytes, **kwargs: Any) -> tuple[bytes | None, Verification]:
    """The content an attached CMS carries and the check of its signature over it (`verify_detached`'s
    keywords). (None, "not_cms") when there is no content inside."""
    if len(cms) > _MAX_SIGNATURE:
        return None, Verification(("not_cms",))
    try:
        content = _parse(decode_signature(cms)).content
    except (der.DerError, IndexError, ValueError):
        return None, Verification(("not_cms",))
    if content is None:
        return None, Verification(("not_cms",))
    return content, verify_detached(content, cms, **kwargs)
