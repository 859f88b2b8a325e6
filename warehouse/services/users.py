"""People and their credentials: passwords and PINs under scrypt, badges as a keyed digest for lookup."""

from __future__ import annotations

import functools
import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from warehouse.db import Database
from warehouse.layouts import from_layout, likely_layouts
from warehouse.models import Station, User
from warehouse.services import audit
from warehouse.vocab import Role

# Passwords and PINs: werkzeug's scrypt (N=2^15, ~90 ms a hash). The test suite lowers the cost (tests/conftest.py):
# it hashes and logs in thousands of times; a stored hash names its own parameters, so either verifies.
HASH_METHOD = "scrypt"


@functools.cache
def _dummy_hash(method: str) -> str:
    """Verified against when the user does not exist, so a wrong username costs the same time as a wrong
    password and names cannot be probed. Made on first use, not at import: 90 ms of every process's start."""
    return generate_password_hash("not a password", method=method)


def dummy_check(secret: str) -> None:
    """Spend on `secret` the time a real check takes (someone unknown or gone: no name can be probed)."""
    check_password_hash(_dummy_hash(HASH_METHOD), secret)


class UserError(ValueError):
    """A user cannot be created or changed as asked; `reason` is a stable key for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def badge_key(secret: str) -> bytes:
    """The key of badge digests, derived from the instance secret (never the secret itself).

    Changing the secret makes every badge unknown: re-issue them with `warehouse users set-badge`.
    """
    return hmac.new(secret.encode(), b"warehouse badge digest/1", hashlib.sha256).digest()


def badge_digest(badge: str, key: bytes) -> str:
    # Badges are scanned, so they must be found by value: a keyed digest (HMAC-SHA256), not a salted KDF.
    # Keyed, a copy of the database alone cannot test guesses of badge numbers (often short and printed).
    return hmac.new(key, badge.strip().encode(), hashlib.sha256).hexdigest()


def printed_badge(badge: str) -> str:
    """The badge as printed (Latin letters and digits), also when a scanner typed it through a Russian or
    Kazakh layout: what is stored, so that the badge logs in whatever layout is active then."""
    layouts = likely_layouts(badge.strip())
    return from_layout(badge.strip(), layouts[0]) if layouts else badge.strip()


def legacy_badge_digest(badge: str) -> str:
    """The unkeyed digest stored before revision 0009; replaced by the keyed one at the badge's next login."""
    return hashlib.sha256(b"warehouse-badge\x00" + badge.strip().encode()).hexdigest()


PIN_LENGTHS = range(4, 13)


def check_pin(pin: str) -> str:
    """The PIN as stored: 4 to 12 digits. Raises UserError "bad_pin"."""
    pin = pin.strip()
    if not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise UserError("bad_pin")
    return pin


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str = "",
    badge: str | None = None,
    badge_key: bytes | None = None,
    pin: str | None = None,
    language: str | None = None,
    by: User | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("bad_username")
    if len(password) < 4:
        raise UserError("short_password")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise UserError("username_taken")
    if badge and badge_key is None:
        raise ValueError("a badge needs the instance's badge key")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=generate_password_hash(password, method=HASH_METHOD),
        badge_digest=badge_digest(printed_badge(badge), badge_key) if badge and badge_key else None,
        pin_hash=generate_password_hash(check_pin(pin), method=HASH_METHOD) if pin else None,
        role=Role(role).value,
        language=language,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.created", user=by, details={"username": username, "role": user.role})
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None:
        dummy_check(password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def authenticate_badge(session: Session, badge: str, key: bytes) -> User | None:
    """The active person whose badge this is. An unkeyed digest of the badge (stored before revision 0009)
    is found too and replaced by the keyed one in the caller's transaction."""
    if not badge.strip():
        return None
    # A badge is printed in Latin letters and digits: typed through a Russian or Kazakh layout, it arrived as
    # Cyrillic, and the scan field's repair applies (a badge never holds Cyrillic of its own).
    # A badge stored as typed under a layout (before this repair) is still found by its raw reading.
    readings = [badge, *(from_layout(badge, layout) for layout in likely_layouts(badge.strip()))]
    keyed = [badge_digest(reading, key) for reading in readings]
    legacy = [legacy_badge_digest(reading) for reading in readings]
    stmt = select(User).where(User.badge_digest.in_(keyed + legacy), User.active.is_(True))
    user = session.execute(stmt).scalars().first()
    if user is not None and user.badge_digest in legacy:
        user.badge_digest = keyed[legacy.index(user.badge_digest)]
        audit.record(session, "user.badge_rekeyed", user=user)
    return user


def check_second_factor(user: User, secret: str) -> bool:
    """A lead's or an administrator's PIN, or their password, after their badge."""
    if user.pin_hash is not None and secret.strip().isdigit() and check_password_hash(user.pin_hash, secret.strip()):
        return True
    return check_password_hash(user.password_hash, secret)


def needs_second_factor(user: User) -> bool:
    """A badge alone may log in staff; a lost lead's or administrator's badge must not open their rights."""
    return Role(user.role) is not Role.STAFF


def find_user(session: Session, username: str) -> User:
    """Raises UserError "no_such_user"."""
    user = session.execute(select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None:
        raise UserError("no_such_user")
    return user


def set_pin(db: Database, username: str, pin: str, *, actor: str) -> None:
    """Set (or replace) a person's PIN. Raises UserError "bad_pin", "no_such_user"."""
    pin = check_pin(pin)
    with db.write() as s:
        user = find_user(s, username)
        user.pin_hash = generate_password_hash(pin, method=HASH_METHOD)
        audit.record(s, "user.pin_set", actor=actor, details={"username": user.username})


def set_badge(db: Database, username: str, badge: str, key: bytes, *, actor: str) -> None:
    """Give a person a badge (replacing the old one). Raises UserError "no_such_user", "badge_taken", "bad_badge"."""
    if not badge.strip():
        raise UserError("bad_badge")
    digest = badge_digest(printed_badge(badge), key)
    with db.write() as s:
        user = find_user(s, username)
        other = s.execute(select(User.id).where(User.badge_digest == digest, User.id != user.id)).first()
        if other is not None:
            raise UserError("badge_taken")
        user.badge_digest = digest
        audit.record(s, "user.badge_set", actor=actor, details={"username": user.username})


def ensure_station(session: Session, name: str) -> Station:
    station = session.execute(select(Station).where(Station.name == name)).scalar_one_or_none()
    if station is None:
        station = Station(name=name)
        session.add(station)
        session.flush()
    return station


# --- one transaction each, for the web layer ---------------------------------------------------------------


def add_user(
    db: Database,
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str = "",
    badge: str | None = None,
    badge_key: bytes | None = None,
    by: User | None = None,
) -> User:
    """`create_user` in its own transaction. Raises UserError."""
    with db.write() as s:
        return create_user(s, username, password, role, full_name=full_name, badge=badge, badge_key=badge_key, by=by)


def active_user(db: Database, user_id: int) -> User | None:
    """The person of a session, None when unknown or deactivated since."""
    with db.read() as s:
        user = s.get(User, user_id)
    return user if user is not None and user.active else None


def people(db: Database, *, active_only: bool = False) -> list[User]:
    """Everyone (or only active people) by username."""
    stmt = select(User).order_by(User.username)
    if active_only:
        stmt = stmt.where(User.active.is_(True))
    with db.read() as s:
        return list(s.execute(stmt).scalars())
