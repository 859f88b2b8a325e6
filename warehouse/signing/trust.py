"""Whom we trust and how strict we are: CA certificates, CRLs, the signing policy, the NCANode/NCALayer URLs.

Settings come from the Flask config (keys below) or the environment, so the CLI and the web agree:

| config key            | environment                    | meaning                                             |
| --------------------- | ------------------------------ | --------------------------------------------------- |
| SIGNING_TRUSTED_CA    | WAREHOUSE_TRUSTED_CA           | CA certificate files or folders (PEM/DER), `:`-separated |
| SIGNING_CRL           | WAREHOUSE_CRL                  | CRL files or folders                                |
| SIGNING_STRICT        | WAREHOUSE_SIGNING_STRICT=1     | refuse expired, not yet valid, revoked; no CA, no signing |
| NCANODE_URL           | WAREHOUSE_NCANODE_URL          | NCANode base URL (optional backend, GOST checks)    |
| NCALAYER_URL          | WAREHOUSE_NCALAYER_URL         | NCALayer socket (default wss://127.0.0.1:13579)     |
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from warehouse.signing.certs import CertificateInfo, assess, load_certificates, load_crls
from warehouse.signing.errors import SigningError

__all__ = ["NCALAYER_DEFAULT", "SigningSettings", "check_for_signing", "load_settings"]

NCALAYER_DEFAULT = "wss://127.0.0.1:13579"
_SUFFIXES = {".pem", ".crt", ".cer", ".der", ".crl"}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SigningSettings:
    trusted: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    strict: bool = False
    ncanode_url: str | None = None
    ncalayer_url: str = NCALAYER_DEFAULT


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


def load_settings(
    config: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    extra_ca: Sequence[Path] = (),
    extra_crl: Sequence[Path] = (),
) -> SigningSettings:
    """Settings from a Flask config, falling back to the environment. Raises SigningError "trust_file"
    when a configured file cannot be read."""
    env = os.environ if environ is None else environ

    def get(key: str, env_key: str) -> Any:
        value = config.get(key)
        return value if value not in (None, "") else env.get(env_key)

    strict = get("SIGNING_STRICT", "WAREHOUSE_SIGNING_STRICT")
    ca_paths = [*_paths(get("SIGNING_TRUSTED_CA", "WAREHOUSE_TRUSTED_CA")), *extra_ca]
    crl_paths = [*_paths(get("SIGNING_CRL", "WAREHOUSE_CRL")), *extra_crl]
    return SigningSettings(
        trusted=tuple(_read_all(ca_paths, load_certificates)),
        crls=tuple(_read_all(crl_paths, load_crls)),
        strict=strict is True or str(strict).strip().lower() in _TRUE,
        ncanode_url=(get("NCANODE_URL", "WAREHOUSE_NCANODE_URL") or None),
        ncalayer_url=get("NCALAYER_URL", "WAREHOUSE_NCALAYER_URL") or NCALAYER_DEFAULT,
    )


def check_for_signing(
    cert: x509.Certificate, settings: SigningSettings, chain: Sequence[x509.Certificate] = ()
) -> tuple[str, ...]:
    """May this certificate sign a document here? Returns the warnings to show; raises SigningError.

    Always refused: an authentication-only key ("auth_key"); a certificate that does not chain to a
    configured CA ("untrusted"). Refused only in strict mode, otherwise warned: no CA configured
    ("no_trusted_ca"), "revoked", "expired", "not_yet_valid". Warned: revocation not checked, an
    outdated CRL.
    """
    info = CertificateInfo.from_certificate(cert)
    if not info.can_sign:
        raise SigningError("auth_key", certificate=info)
    status = assess(cert, trusted=settings.trusted, crls=settings.crls, intermediates=chain)
    warnings = list(status.warnings)
    for problem in status.problems:
        if problem == "untrusted":
            raise SigningError("untrusted", certificate=info)
        # A GOST issuer's signature cannot be checked in Python; NCANode or the operator will check it.
        warnings.insert(0, "chain_unchecked" if problem == "gost_unsupported" else problem)
    if settings.strict:
        for refused in ("no_trusted_ca", "revoked", "expired", "not_yet_valid"):
            if refused in warnings:
                raise SigningError(refused, certificate=info)
    return tuple(warnings)
