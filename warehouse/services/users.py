"""People and their credentials: passwords under scrypt, badges as a digest for lookup."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from warehouse.db import Database
from warehouse.models import Station, User
from warehouse.services import audit
from warehouse.vocab import Role

# Verified against when the user does not exist, so a wrong username costs the same time as a wrong
# password and names cannot be probed.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


class UserError(ValueError):
    """A user cannot be created or changed as asked; `reason` is a stable key for the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def badge_digest(badge: str) -> str:
    # Badges are scanned, so they must be found by value: a fixed-context digest, not a salted KDF.
    return hashlib.sha256(b"warehouse-badge\x00" + badge.strip().encode()).hexdigest()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    full_name: str = "",
    badge: str | None = None,
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
    user = User(
        username=username,
        full_name=full_name,
        password_hash=generate_password_hash(password, method="scrypt"),
        badge_digest=badge_digest(badge) if badge else None,
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
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def authenticate_badge(session: Session, badge: str) -> User | None:
    if not badge.strip():
        return None
    stmt = select(User).where(User.badge_digest == badge_digest(badge), User.active.is_(True))
    return session.execute(stmt).scalar_one_or_none()


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
    by: User | None = None,
) -> User:
    """`create_user` in its own transaction. Raises UserError."""
    with db.write() as s:
        return create_user(s, username, password, role, full_name=full_name, badge=badge, by=by)


def log_in(
    db: Database, *, username: str = "", password: str = "", badge: str = "", ip: str | None = None
) -> User | None:
    """The person a badge (when given) or a username and password names, else None; the attempt is audited."""
    method = "badge" if badge else "password"
    with db.read() as s:
        user = authenticate_badge(s, badge) if badge else authenticate(s, username, password)
    with db.write() as s:
        if user is not None:
            audit.record(s, "user.login", user=user, details={"method": method, "ip": ip})
        else:
            audit.record(
                s, "user.login_failed", actor="anonymous", details={"method": method, "username": username[:64]}
            )
    return user


def log_out(db: Database, user: User) -> None:
    with db.write() as s:
        audit.record(s, "user.logout", user=user)


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
