"""Whom we trust and how strict we are: the trust store, CA certificates, CRLs, demo mode, NCANode/NCALayer.

Strict by default: a certificate signs, and a signature verifies, only when `check_certificate` finds
a path to a trusted NCA RK root, valid at the moment in question, not revoked (CRL; OCSP where
configured). Signing and verification call the same function, so they cannot disagree. Only the demo
(`warehouse demo` sets it) signs anyway, and what it signs is marked "demo, not legally valid".

Settings come from the Flask config (keys below) or the environment, so the CLI and the web agree:

| config key            | environment                    | meaning                                             |
| --------------------- | ------------------------------ | --------------------------------------------------- |
| TRUST_DIR             | WAREHOUSE_TRUST_DIR            | the trust store, default <instance>/trust           |
| TRUST_URLS            | WAREHOUSE_TRUST_URLS           | where `trust update` downloads from (space-separated)  |
| SIGNING_TRUSTED_CA    | WAREHOUSE_TRUSTED_CA           | more trusted CAs (files, folders; `:`-separated)    |
| SIGNING_CRL           | WAREHOUSE_CRL                  | more CRL files or folders                           |
| SIGNING_OCSP          | WAREHOUSE_SIGNING_OCSP=1       | also ask the OCSP responders the certificates name  |
| DEMO_MODE             | WAREHOUSE_DEMO_MODE=1 (or `warehouse demo`'s marker) | sign untrusted keys, marked demo |
| NCANODE_URL           | WAREHOUSE_NCANODE_URL          | NCANode base URL (optional backend, GOST checks)    |
| NCALAYER_URL          | WAREHOUSE_NCALAYER_URL         | NCALayer socket (default wss://127.0.0.1:13579)     |
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

from warehouse.signing.certs import CertificateInfo, is_gost_oid, load_certificates, load_crls
from warehouse.signing.errors import SigningError
from warehouse.signing.truststore import TrustStore, read_store

__all__ = [
    "DEFAULT_TRUST_URLS",
    "NCALAYER_DEFAULT",
    "SigningSettings",
    "TrustCheck",
    "check_certificate",
    "check_for_signing",
    "load_settings",
]

T = TypeVar("T")
NCALAYER_DEFAULT = "wss://127.0.0.1:13579"
# What NCA RK publishes (roots, issuing CAs, their CRLs; RSA and GOST). These names are the ones several
# independent NCA RK integrations use (NCANode's defaults among them; docs/signing.md lists the sources);
# this machine cannot reach pki.gov.kz, so none was downloaded here. NCA moves files now and then: a
# station overrides the list with TRUST_URLS, an offline one uses `trust update --from`.
DEFAULT_TRUST_URLS = (
    "https://pki.gov.kz/cert/root_rsa_2020.cer",
    "https://pki.gov.kz/cert/root_gost_2022.cer",
    "https://pki.gov.kz/cert/nca_rsa_2022.cer",
    "https://pki.gov.kz/cert/nca_gost_2022.cer",
    "https://crl.pki.gov.kz/nca_rsa_2022.crl",  # the issuing CAs' own CRLs: the signers' certificates
    "https://crl.pki.gov.kz/nca_gost_2022.crl",
    "http://crl.root.gov.kz/rsa2020.crl",  # the RSA root's CRL: the issuing CA's certificate
)
_SUFFIXES = {".pem", ".crt", ".cer", ".der", ".crl"}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SigningSettings:
    trusted: tuple[x509.Certificate, ...] = ()  # trust anchors: the store's roots and configured CAs
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()  # the store's issuing CAs (path building)
    demo: bool = False
    ocsp: bool = False
    ncanode_url: str | None = None
    ncalayer_url: str = NCALAYER_DEFAULT
    store: TrustStore | None = field(default=None, compare=False)


def _paths(value: Any) -> list[Path]:
    if not value:
        return []
    items = value.split(os.pathsep) if isinstance(value, str) else [str(v) for v in value]
    found: list[Path] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        path = Path(item)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def _read_all(paths: Iterable[Path], loader: Any) -> list[Any]:
    loaded: list[Any] = []
    for path in paths:
        try:
            loaded.extend(loader(path.read_bytes()))
        except (OSError, ValueError) as e:
            raise SigningError("trust_file", f"{path}: {e}") from e
    return loaded


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def trust_dir(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    value = config.get("TRUST_DIR") or env.get("WAREHOUSE_TRUST_DIR")
    return Path(value) if value else None


def trust_urls(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    value = config.get("TRUST_URLS") or env.get("WAREHOUSE_TRUST_URLS")
    if not value:
        return list(DEFAULT_TRUST_URLS)
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def load_settings(
    config: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    extra_ca: Sequence[Path] = (),
    extra_crl: Sequence[Path] = (),
) -> SigningSettings:
    """Settings from a Flask config, falling back to the environment, with the trust store read.
    Raises SigningError "trust_file" when a configured file cannot be read."""
    env = os.environ if environ is None else environ

    def get(key: str, env_key: str) -> Any:
        value = config.get(key)
        return value if value not in (None, "") else env.get(env_key)

    folder = trust_dir(config, env)
    store = read_store(folder) if folder is not None else TrustStore((), (), (), ())
    ca_paths = [*_paths(get("SIGNING_TRUSTED_CA", "WAREHOUSE_TRUSTED_CA")), *extra_ca]
    crl_paths = [*_paths(get("SIGNING_CRL", "WAREHOUSE_CRL")), *extra_crl]
    demo = get("DEMO_MODE", "WAREHOUSE_DEMO_MODE")
    return SigningSettings(
        trusted=(*store.roots, *_read_all(ca_paths, load_certificates)),
        crls=(*store.crls, *_read_all(crl_paths, load_crls)),
        intermediates=store.intermediates,
        demo=_flag(demo),
        ocsp=_flag(get("SIGNING_OCSP", "WAREHOUSE_SIGNING_OCSP")),
        ncanode_url=(get("NCANODE_URL", "WAREHOUSE_NCANODE_URL") or None),
        ncalayer_url=get("NCALAYER_URL", "WAREHOUSE_NCALAYER_URL") or NCALAYER_DEFAULT,
        store=store,
    )


# The signer's certificate must be checked (CRL, or OCSP where configured), whether or not it names a
# distribution point; an issuing CA is checked against the CRLs its certificate declares.
_REVOCATION = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
    )
)


@dataclass(frozen=True)
class TrustCheck:
    """What `check_certificate` found. The certificate is trusted when `problems` is empty."""

    problems: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    detail: str | None = None  # the validator's own words, for logs
    path: tuple[x509.Certificate, ...] = ()  # root first, the certificate last, when a path was validated

    @property
    def issuer_certificate(self) -> x509.Certificate | None:
        return self.path[-2] if len(self.path) >= 2 else None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run the validator's coroutine to its end, also from a thread that already runs an event loop
    (an async server, Playwright's): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _reason(error: Exception) -> str:
    if isinstance(error, pv_errors.RevokedError):
        return "revoked"
    if isinstance(error, pv_errors.ExpiredError):
        return "expired"
    if isinstance(error, pv_errors.NotYetValidError):
        return "not_yet_valid"
    if isinstance(error, pv_errors.StaleRevinfoError):
        return "crl_outdated"
    if isinstance(error, pv_errors.InsufficientRevinfoError):
        return "revocation_unchecked"
    if isinstance(error, pv_errors.InvalidCertificateError) and "usage" in str(error).lower():
        return "auth_key"
    return "untrusted"  # no path to a trusted root, self-signed, a broken signature in the chain


def check_certificate(
    cert: x509.Certificate,
    settings: SigningSettings,
    intermediates: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
) -> TrustCheck:
    """Is `cert` trusted at `at` (default: now)? The one check behind signing and verification.

    pyhanko-certvalidator builds the path to a trusted root (RFC 5280: signatures, validity of every
    certificate at `at`, basic constraints, key usage), and checks every certificate against the
    store's CRLs — the signer's own certificate must be covered by a current CRL of its CA (or an OCSP
    answer), an issuing CA's where its certificate names a CRL; a CRL past its next update refuses
    ("crl_outdated"). With SIGNING_OCSP the validator may also ask the OCSP
    responders named in the certificates (only when checking the present moment).
    Problems: "no_trust_store", "untrusted", "expired", "not_yet_valid", "revoked",
    "revocation_unchecked", "crl_outdated", "gost_unsupported" (Python cannot check a GOST chain).
    """
    now = datetime.now(UTC)
    moment = at or now
    if not settings.trusted:
        return TrustCheck(("no_trust_store",))
    if settings.store is not None and settings.store.stale_crls(now):
        # The station must not vouch for anything with an old revocation list: the fix is an update.
        return TrustCheck(("crl_outdated",))
    if is_gost_oid(cert.signature_algorithm_oid.dotted_string) or is_gost_oid(
        cert.public_key_algorithm_oid.dotted_string
    ):
        problems: tuple[str, ...] = ()
        if moment > cert.not_valid_after_utc:
            problems = ("expired",)
        elif moment < cert.not_valid_before_utc:
            problems = ("not_yet_valid",)
        # Only NCANode checks a GOST chain; without it there is nothing to vouch with.
        if not settings.ncanode_url:
            problems = (*problems, "gost_unsupported")
        return TrustCheck(problems, ("chain_unchecked",))
    fetch = settings.ocsp and at is None
    context = ValidationContext(
        trust_roots=[_asn1(c) for c in settings.trusted],
        other_certs=[_asn1(c) for c in (*settings.intermediates, *intermediates)],
        crls=[c.public_bytes(Encoding.DER) for c in settings.crls],
        moment=None if fetch else moment,
        allow_fetching=fetch,
        revinfo_policy=_REVOCATION,
        # A CRL issued after the signature still says whether the key was revoked before it.
        retroactive_revinfo=True,
    )
    validator = CertificateValidator(_asn1(cert), validation_context=context)
    try:
        path = _run(validator.async_validate_usage(set()))  # type: ignore[no-untyped-call]
    except (pv_errors.PathBuildingError, pv_errors.ValidationError) as e:
        return TrustCheck((_reason(e),), detail=str(e))
    chain = tuple(x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True))
    return TrustCheck((), path=chain)


def check_for_signing(
    cert: x509.Certificate, settings: SigningSettings, chain: Sequence[x509.Certificate] = ()
) -> tuple[str, ...]:
    """May this certificate sign a document here, now? Returns the warnings to show; raises SigningError.

    Always refused: an authentication-only key ("auth_key"). Refused unless the station is in demo
    mode: whatever `check_certificate` finds wrong. In demo mode those become warnings, with "demo"
    first: what is signed then is not legally valid.
    """
    info = CertificateInfo.from_certificate(cert)
    if not info.can_sign:
        raise SigningError("auth_key", certificate=info)
    found = check_certificate(cert, settings, chain)
    if settings.demo:
        # "no trust store, nothing can be signed" would contradict the signature being made.
        problems = tuple("demo_unchecked" if p == "no_trust_store" else p for p in found.problems)
        return ("demo", *problems, *found.warnings)
    if found.problems:
        raise SigningError(found.problems[0], found.detail, certificate=info)
    return found.warnings
