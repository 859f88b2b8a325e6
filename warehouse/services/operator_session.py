"""The station's session at the operator: its settings, the token kept in the instance folder, the login.

The token (and when it expires, and whose BIN it is) is kept in `operator-session.json` in the instance folder,
owner-only (0600), written atomically; the key and its password never are. A missing or expired token raises
"log in to the operator" (`OperatorServiceError` "login_needed" / "session_expired"). Two ways to log in, one
result: the CLI signs the operator's challenge with a key file (`login_with_signer`), the browser's NCALayer
signs it as an attached CMS and the station hands that on (`challenge` + `login_with_cms`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from warehouse.operator.profile import UnknownProfile, get_profile
from warehouse.operator.types import OperatorAdapter, OperatorError, Session, Signer
from warehouse.services.operator_errors import OperatorServiceError, from_operator
from warehouse.timeutil import utcnow

SESSION_FILE: Final = "operator-session.json"
DEFAULT_PROFILE: Final = "kz_ismet_v3"
# A token this close to its end is taken for expired: a round started with it would stop half-way.
EXPIRY_MARGIN: Final = timedelta(minutes=2)


@dataclass(frozen=True)
class OperatorSettings:
    url: str | None  # base URL with its path prefix; None: no exchange with the operator (quiet)
    profile: str
    company_bin: str | None
    sync_seconds: float = 300.0
    window_days: int = 30
    timeout: float = 30.0
    backoff: float = 0.25  # the first retry's wait (doubled each time)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OperatorSettings:
        return cls(
            url=(config.get("OPERATOR_URL") or None),
            profile=config.get("OPERATOR_PROFILE") or DEFAULT_PROFILE,
            company_bin=config.get("COMPANY_BIN") or None,
            sync_seconds=float(config.get("OPERATOR_SYNC_SECONDS", 300)),
            window_days=int(config.get("OPERATOR_WINDOW_DAYS", 30)),
            timeout=float(config.get("OPERATOR_TIMEOUT_SECONDS", 30)),
            backoff=float(config.get("OPERATOR_BACKOFF_SECONDS", 0.25)),
        )


def _path(instance: Path) -> Path:
    return instance / SESSION_FILE


def save(instance: Path, session: Session, url: str) -> None:
    """Keep the session for `url`, owner-only, atomically (a reader sees the old file or the new one)."""
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = _path(instance)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    data = json.dumps(
        {
            "url": url,
            "token": session.token,
            "bin": session.participant_bin,
            "expires_at": session.expires_at.isoformat(),
        }
    ).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def forget(instance: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        _path(instance).unlink()


def stored(instance: Path, url: str) -> Session | None:
    """The kept session for `url`, expired or not; None when there is none (or it is for another operator)."""
    try:
        data = json.loads(_path(instance).read_text("utf-8"))
        if data.get("url") != url:
            return None
        return Session(str(data["token"]), str(data.get("bin") or ""), datetime.fromisoformat(data["expires_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def current(instance: Path, settings: OperatorSettings, now: datetime | None = None) -> Session:
    """The session to call the operator with. Raises OperatorServiceError: not_configured, login_needed,
    session_expired."""
    url = require_url(settings)
    session = stored(instance, url)
    if session is None:
        raise OperatorServiceError("login_needed")
    if session.expires_at - EXPIRY_MARGIN <= (now or utcnow()):
        raise OperatorServiceError("session_expired")
    return session


def require_url(settings: OperatorSettings) -> str:
    if not settings.url:
        raise OperatorServiceError("not_configured")
    return settings.url


def adapter(settings: OperatorSettings, token: str | None = None) -> OperatorAdapter:
    """The adapter of the configured profile (warehouse.operator.http), with the token when there is one."""
    # Imported here: the HTTP adapter is the wire's (warehouse/operator/http.py).
    http: Any = importlib.import_module("warehouse.operator.http")

    url = require_url(settings).rstrip("/")
    try:
        chosen = get_profile(settings.profile)
    except UnknownProfile as e:
        raise OperatorServiceError("unknown_profile", profile=settings.profile) from e
    made: OperatorAdapter = http.HttpOperatorAdapter(
        url, chosen, token=token, timeout=settings.timeout, backoff=settings.backoff
    )
    return made


def session_adapter(instance: Path, settings: OperatorSettings, now: datetime | None = None) -> OperatorAdapter:
    """An adapter holding the kept session's token (raises "log in to the operator" without one)."""
    return adapter(settings, current(instance, settings, now).token)


def login_with_signer(instance: Path, settings: OperatorSettings, signer: Signer) -> Session:
    """Sign the operator's challenge with a server-side signer (a key file) and keep the token."""
    url = require_url(settings)
    try:
        session = adapter(settings).authenticate(signer, settings.company_bin)
    except OperatorError as e:
        raise _login_error(e) from e
    save(instance, session, url)
    return session


def challenge(settings: OperatorSettings) -> tuple[str, bytes]:
    """The operator's challenge (uuid, data) for the browser to sign as an attached CMS."""
    try:
        return adapter(settings).challenge()
    except OperatorError as e:
        raise from_operator(e) from e


def login_with_cms(instance: Path, settings: OperatorSettings, uuid: str, attached_cms: bytes) -> Session:
    """Hand the browser's attached CMS over the challenge to the operator and keep the token."""
    url = require_url(settings)
    try:
        session = adapter(settings).sign_in(uuid, attached_cms, settings.company_bin)
    except OperatorError as e:
        raise _login_error(e) from e
    save(instance, session, url)
    return session


def _login_error(e: OperatorError) -> OperatorServiceError:
    if e.reason in ("refused", "forbidden", "unauthorized"):
        return OperatorServiceError("login_refused", message=e.message or e.reason)
    return from_operator(e)


def participant_bin(instance: Path, settings: OperatorSettings) -> str:
    """Our BIN at the operator: the setting, else the session's (taken from the certificate at login)."""
    if settings.company_bin:
        return settings.company_bin
    session = stored(instance, settings.url or "")
    if session is not None and session.participant_bin:
        return session.participant_bin
    raise OperatorServiceError("no_bin")
