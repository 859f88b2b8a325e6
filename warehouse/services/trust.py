"""Filling the station's trust store (`warehouse trust update`): download or read, check, swap in whole.

The store is read by warehouse.signing.trust on every signature; see warehouse/signing/truststore.py
for its layout. Nothing is changed unless the new set is complete: a root CA certificate, only CA
certificates, and at least one CRL.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from warehouse.signing import truststore
from warehouse.signing.errors import SigningError
from warehouse.signing.truststore import TrustStore

__all__ = ["MAX_FILE", "update_from_folder", "update_from_urls"]

MAX_FILE = 64 * 1024 * 1024  # NCA's full CRLs are a few MB; anything far larger is not one
_TIMEOUT = 60
_SUFFIXES = {".pem", ".crt", ".cer", ".der", ".crl"}


def _download(url: str) -> bytes:
    if not url.startswith(("https://", "http://")):
        raise SigningError("trust_download", f"{url}: not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as answer:  # noqa: S310 (scheme checked above)
            data: bytes = answer.read(MAX_FILE + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise SigningError("trust_download", f"{url}: {e}") from e
    if len(data) > MAX_FILE:
        raise SigningError("trust_download", f"{url}: larger than {MAX_FILE} bytes")
    return data


def update_from_urls(folder: Path, urls: Sequence[str]) -> TrustStore:
    """Download every URL and install what they hold as the trust store in `folder`.
    Raises SigningError "trust_download", "trust_file", "trust_incomplete"; nothing is changed then."""
    return _install(folder, [(url, _download(url)) for url in urls])


def update_from_folder(folder: Path, source: Path) -> TrustStore:
    """Install the certificates and CRLs of the files in `source` (an offline station, tests)."""
    try:
        paths = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
        files = [(str(p), p.read_bytes()) for p in paths]
    except OSError as e:
        raise SigningError("trust_file", f"{source}: {e}") from e
    return _install(folder, files)


def _install(folder: Path, files: list[tuple[str, bytes]]) -> TrustStore:
    items = truststore.parse_files(files)
    truststore.check_complete([item for _source, item in items])
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        sources: dict[str, str] = {}
        for source, item in items:
            name = truststore.file_name(item)
            (staging / name).write_bytes(truststore.der(item))
            sources[name] = source
        (staging / truststore.SOURCES).write_text(json.dumps(sources, indent=1, sort_keys=True), "utf-8")
        truststore.read_store(staging)  # what was written reads back
        # Swap whole: a signature being checked meanwhile reads the old store or the new one.
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(staging, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    return truststore.read_store(folder)
