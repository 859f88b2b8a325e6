"""The station's trust store: NCA RK root and intermediate certificates and their CRLs, in the instance folder.

`warehouse trust update` fills it (downloaded from the URLs NCA publishes, or read from a folder);
signing and verification read it. Its lifetime is the next update of each CRL: after that the store is
stale and the station refuses to sign until it is updated. Pure: files in, facts out.

Layout: ``<instance>/trust/`` holds one DER file a certificate (``*.cer``) or CRL (``*.crl``), named
after its SHA-256, and ``sources.json`` (where each file came from). An update writes a new folder and
swaps it in whole, so a reader sees the old store or the new one, never half of each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from warehouse.signing.certs import _long_names_allowed, is_gost_oid, load_certificates, load_crls
from warehouse.signing.errors import SigningError

__all__ = ["Entry", "TrustStore", "describe", "parse_files", "read_store"]

Kind = Literal["root", "intermediate", "crl"]
SOURCES = "sources.json"


@dataclass(frozen=True)
class Entry:
    """One file of the store, as `warehouse trust show` lists it."""

    kind: Kind
    subject: str  # a certificate's subject, a CRL's issuer (RFC 4514)
    algorithm: Literal["rsa", "gost", "other"]
    valid_until: datetime | None  # a certificate's notAfter; a CRL's nextUpdate
    file: str
    source: str | None = None

    def stale(self, now: datetime) -> bool:
        return self.valid_until is not None and self.valid_until < now


@dataclass(frozen=True)
class TrustStore:
    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...]
    entries: tuple[Entry, ...]

    @property
    def empty(self) -> bool:
        return not self.roots

    def stale_crls(self, now: datetime | None = None) -> list[Entry]:
        moment = now or datetime.now(UTC)
        return [e for e in self.entries if e.kind == "crl" and e.stale(moment)]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _algorithm(oid: str) -> Literal["rsa", "gost", "other"]:
    if is_gost_oid(oid):
        return "gost"
    return "rsa" if oid.startswith("1.2.840.113549.1.1.") else "other"


def _parse(data: bytes) -> list[x509.Certificate | x509.CertificateRevocationList]:
    """Certificates or CRLs in one file, PEM or DER. Raises ValueError when it is neither."""
    try:
        return list(load_certificates(data))
    except ValueError:
        return list(load_crls(data))


Item = x509.Certificate | x509.CertificateRevocationList


def parse_files(files: Iterable[tuple[str, bytes]]) -> list[tuple[str, Item]]:
    """(source, object) for every certificate and CRL in the given (source, bytes). Raises SigningError
    "trust_file" naming the first file that is neither."""
    found: list[tuple[str, Item]] = []
    with _long_names_allowed():
        for source, data in files:
            try:
                found.extend((source, item) for item in _parse(data))
            except ValueError as e:
                raise SigningError("trust_file", f"{source}: {e}") from e
    return found


def entry(item: x509.Certificate | x509.CertificateRevocationList, file: str, source: str | None) -> Entry:
    with _long_names_allowed():
        if isinstance(item, x509.CertificateRevocationList):
            return Entry(
                "crl",
                item.issuer.rfc4514_string(),
                _algorithm(item.signature_algorithm_oid.dotted_string),
                item.next_update_utc,
                file,
                source,
            )
        kind: Kind = "root" if item.issuer == item.subject else "intermediate"
        return Entry(
            kind,
            item.subject.rfc4514_string(),
            _algorithm(item.public_key_algorithm_oid.dotted_string),
            item.not_valid_after_utc,
            file,
            source,
        )


def der(item: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return item.public_bytes(Encoding.DER)


def file_name(item: x509.Certificate | x509.CertificateRevocationList) -> str:
    suffix = "crl" if isinstance(item, x509.CertificateRevocationList) else "cer"
    return f"{hashlib.sha256(der(item)).hexdigest()[:16]}.{suffix}"


def check_complete(items: Sequence[x509.Certificate | x509.CertificateRevocationList]) -> None:
    """A store is worth installing when it holds a root CA certificate and only CA certificates.
    Raises SigningError "trust_incomplete"."""
    certs = [i for i in items if isinstance(i, x509.Certificate)]
    if not any(c.issuer == c.subject and _is_ca(c) for c in certs):
        raise SigningError("trust_incomplete", "no root CA certificate")
    if not any(isinstance(i, x509.CertificateRevocationList) for i in items):
        raise SigningError("trust_incomplete", "no CRL")
    not_ca = [c for c in certs if not _is_ca(c)]
    if not_ca:
        raise SigningError("trust_incomplete", f"not a CA: {not_ca[0].subject.rfc4514_string()}")


def read_store(folder: Path) -> TrustStore:
    """The store in `folder` (empty when there is none). Raises SigningError "trust_file" for a damaged file."""
    if not folder.is_dir():
        return TrustStore((), (), (), ())
    try:
        sources: dict[str, str] = json.loads((folder / SOURCES).read_text("utf-8"))
    except (OSError, ValueError):
        sources = {}
    roots: list[x509.Certificate] = []
    intermediates: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    entries: list[Entry] = []
    paths = sorted(p for p in folder.iterdir() if p.suffix in (".cer", ".crl") and p.is_file())
    for path, item in parse_files((p.name, p.read_bytes()) for p in paths):
        e = entry(item, path, sources.get(path))
        entries.append(e)
        if isinstance(item, x509.CertificateRevocationList):
            crls.append(item)
        elif e.kind == "root":
            roots.append(item)
        else:
            intermediates.append(item)
    order = {"root": 0, "intermediate": 1, "crl": 2}
    entries.sort(key=lambda e: (order[e.kind], e.subject))
    return TrustStore(tuple(roots), tuple(intermediates), tuple(crls), tuple(entries))


def describe(store: TrustStore, now: datetime | None = None) -> list[dict[str, object]]:
    """One row per file for `warehouse trust show --json`."""
    moment = now or datetime.now(UTC)
    return [
        {
            "kind": e.kind,
            "subject": e.subject,
            "algorithm": e.algorithm,
            "valid_until": e.valid_until.strftime("%Y-%m-%dT%H:%M:%SZ") if e.valid_until else None,
            "stale": e.stale(moment),
            "file": e.file,
            "source": e.source,
        }
        for e in store.entries
    ]
