"""Configuration from the environment, with safe defaults.

Everything a station needs comes from `WAREHOUSE_*` variables; nothing secret lives in the repository.
The secret key, when not given, is generated once into the instance folder so sessions survive restarts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

ENV_PREFIX = "WAREHOUSE_"
LANGUAGES = ("ru", "kk", "en")
DEFAULT_LANGUAGE = "ru"
DEMO_MARKER = "demo-mode"  # in the instance folder: written by `warehouse demo`


def instance_path() -> Path:
    return Path(os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH", "instance")).resolve()


def _secret_key(folder: Path) -> str:
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not end up with different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def load(folder: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the Flask configuration for an instance folder; `overrides` win over the environment."""
    env = os.environ
    overrides = dict(overrides or {})
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(PermissionError):  # the station's secret, database and uploads: owner only
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
    config: dict[str, Any] = {
        "DATABASE_URL": env.get(f"{ENV_PREFIX}DATABASE_URL") or f"sqlite:///{folder / 'warehouse.sqlite3'}",
        "SECRET_KEY": env.get(f"{ENV_PREFIX}SECRET_KEY") or None,
        "AUTO_MIGRATE": env.get(f"{ENV_PREFIX}AUTO_MIGRATE", "1") != "0",
        "STATION": env.get(f"{ENV_PREFIX}STATION", "station-1"),
        # Stop mode: after a scan that needs attention, the station's next scan is refused until confirmed.
        "STOP_MODE": env.get(f"{ENV_PREFIX}STOP_MODE", "0").lower() in ("1", "true", "yes", "on"),
        # A scanner in keyboard mode cannot type GS; these stand-ins are turned back into GS.
        "GS_SUBSTITUTES": tuple(s for s in env.get(f"{ENV_PREFIX}GS_SUBSTITUTES", "<GS>|{GS}|~").split("|") if s),
        "MAX_CONTENT_LENGTH": int(env.get(f"{ENV_PREFIX}MAX_UPLOAD_MB", "512")) * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies: always over TLS (request.is_secure); WAREHOUSE_SECURE_COOKIES=1 forces them behind
        # a proxy that ends TLS and forwards plain HTTP.
        "SESSION_COOKIE_SECURE": env.get(f"{ENV_PREFIX}SECURE_COOKIES", "0") == "1",
        # Sessions end after this long without a request (staff; leads and administrators), and after a shift.
        "SESSION_IDLE_SECONDS": int(env.get(f"{ENV_PREFIX}SESSION_IDLE_MINUTES", "30")) * 60,
        "SESSION_IDLE_SECONDS_LEAD": int(env.get(f"{ENV_PREFIX}SESSION_IDLE_MINUTES_LEAD", "15")) * 60,
        "SESSION_MAX_SECONDS": int(env.get(f"{ENV_PREFIX}SESSION_MAX_HOURS", "12")) * 3600,
        # Failed logins: per address (Flask-Limiter syntax, failures only), per username (lockout).
        "LOGIN_ADDRESS_LIMIT": env.get(f"{ENV_PREFIX}LOGIN_ADDRESS_LIMIT", "20 per minute;100 per hour"),
        "LOGIN_MAX_FAILURES": int(env.get(f"{ENV_PREFIX}LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCKOUT_SECONDS": int(env.get(f"{ENV_PREFIX}LOGIN_LOCKOUT_SECONDS", "60")),
        "LOGIN_LOCKOUT_MAX_SECONDS": int(env.get(f"{ENV_PREFIX}LOGIN_LOCKOUT_MAX_SECONDS", "3600")),
        # One station: counters in memory. Many stations behind one address need a shared store
        # (redis://…); the per-username lockout is in the database and shared already.
        "RATELIMIT_STORAGE_URI": env.get(f"{ENV_PREFIX}RATELIMIT_STORAGE_URI", "memory://"),
        # The running station's own backups (docs/backup.md): a folder ("off": none), hourly, 48 kept.
        # A live screen's stream sends a comment this often (docs/architecture.md, serving): proxies keep it
        # open, and a client gone without a word shows on the write (tests make it short).
        "LIVE_KEEPALIVE_SECONDS": float(env.get(f"{ENV_PREFIX}LIVE_KEEPALIVE_SECONDS", "15")),
        "BACKUP_DIR": env.get(f"{ENV_PREFIX}BACKUP_DIR") or str(folder / "backups"),
        "BACKUP_EVERY_MINUTES": int(env.get(f"{ENV_PREFIX}BACKUP_EVERY_MINUTES", "60")),
        "BACKUP_KEEP": int(env.get(f"{ENV_PREFIX}BACKUP_KEEP", "48")),
        "BACKUP_AFTER_DECISION": env.get(f"{ENV_PREFIX}BACKUP_AFTER_DECISION", "1") != "0",
        # Signing (docs/signing.md): the NCA RK trust store `warehouse trust update` fills, and the demo's
        # non-strict mode, which only `warehouse demo` turns on (the marker file) — never a default.
        "TRUST_DIR": env.get(f"{ENV_PREFIX}TRUST_DIR") or str(folder / "trust"),
        "DEMO_MODE": env.get(f"{ENV_PREFIX}DEMO_MODE", "0") == "1" or (folder / DEMO_MARKER).is_file(),
        # The exchange with the operator (docs/operator.md): none unless a URL is given. The BIN is ours at the
        # operator; without it, the one of the certificate that logged in.
        "OPERATOR_URL": env.get(f"{ENV_PREFIX}OPERATOR_URL") or None,
        "OPERATOR_PROFILE": env.get(f"{ENV_PREFIX}OPERATOR_PROFILE") or "kz_ismet_v3",
        "COMPANY_BIN": env.get(f"{ENV_PREFIX}COMPANY_BIN") or None,
        "OPERATOR_SYNC_SECONDS": float(env.get(f"{ENV_PREFIX}OPERATOR_SYNC_SECONDS", "300")),
        "OPERATOR_WINDOW_DAYS": int(env.get(f"{ENV_PREFIX}OPERATOR_WINDOW_DAYS", "30")),
        "OPERATOR_TIMEOUT_SECONDS": float(env.get(f"{ENV_PREFIX}OPERATOR_TIMEOUT_SECONDS", "30")),
        "OPERATOR_BACKOFF_SECONDS": float(env.get(f"{ENV_PREFIX}OPERATOR_BACKOFF_SECONDS", "0.25")),
        "WTF_CSRF_TIME_LIMIT": None,  # a shift is long; the token is bound to the session anyway
        "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
        "LANGUAGES": LANGUAGES,
    }
    config.update(overrides)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(folder)
    return config
