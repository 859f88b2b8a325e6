"""Logging in: who may, how often, and the sessions that follow.

Guessing is bounded twice. Per address, the web layer's rate limit (Flask-Limiter) counts failed tries.
Per username — known or not, so a lockout tells nothing about who exists — this module counts failures
in the database (`LoginThrottle`, shared by every station on one PostgreSQL): `max_failures` in a burst
lock the name for `lockout`, doubling with each lockout of the burst up to `max_lockout`. While locked,
even the right password or PIN is refused, without being checked. A staff badge is not a guessable
secret and is not locked by password failures; a lead's PIN step is.

The audit gets one entry when a burst begins (`user.login_failed`) and one per lockout
(`user.login_locked`), never one per try: a flood cannot fill the audit chain or hold its lock.

A session is a row (`LoginSession`) the cookie names by a random token; it ends at logout, after the idle
time of the person's role and after the longest session, and is checked on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.messages import N_, Phrasebook, WarehouseError
from warehouse.models import LoginSession, LoginThrottle, SessionEnd, User
from warehouse.services import audit
from warehouse.services.users import (
    authenticate,
    authenticate_badge,
    check_second_factor,
    dummy_check,
    needs_second_factor,
)
from warehouse.timeutil import utcnow
from warehouse.vocab import Role

MESSAGES = Phrasebook(
    "logins",
    {
        "wrong_password": N_("Wrong username or password."),
        "unknown_badge": N_("Badge not recognised."),
        "wrong_pin": N_("Wrong PIN or password."),
        "pin_expired": N_("Scan your badge again: the PIN step has expired."),
        "locked": N_(
            "Too many failed attempts: logging in as this user is paused. Try again in {minutes} min (at {time})."
        ),
        "address_limited": N_("Too many failed attempts from this computer. Try again in {minutes} min (at {time})."),
        "idle": N_("You were logged out after {minutes} min without activity. Log in again."),
        "expired": N_("Your session has ended after {hours} h. Log in again."),
    },
)


class LoginRefused(WarehouseError):
    """A login refused; `locked_until` is set when trying again now would be refused too."""

    phrasebook = MESSAGES

    def __init__(self, reason: str, /, locked_until: datetime | None = None, **params: object) -> None:
        super().__init__(reason, **params)
        self.locked_until = locked_until


def wait_params(until: datetime, now: datetime) -> dict[str, object]:
    """`minutes` (rounded up) and the local `time` of a lockout's end, for the messages above."""
    seconds = max(0.0, (until - now).total_seconds())
    return {"minutes": max(1, int(-(-seconds // 60))), "time": until.astimezone().strftime("%H:%M")}


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=1)
    max_lockout: timedelta = timedelta(hours=1)
    # Failures further apart than this start a new burst (audited again, lockouts from the first length).
    burst_window: timedelta = timedelta(minutes=15)
    idle_staff: timedelta = timedelta(minutes=30)
    idle_lead: timedelta = timedelta(minutes=15)  # leads and administrators: more rights, shorter
    longest: timedelta = timedelta(hours=12)  # a shift

    def idle_for(self, role: Role) -> timedelta:
        return self.idle_staff if role is Role.STAFF else self.idle_lead


@dataclass(frozen=True)
class Attempt:
    """Where a login comes from, for the audit."""

    ip: str | None
    method: str  # password | badge | pin


def _key(username: str) -> str:
    return username.strip().casefold()[:64]


def _locked_until(s: Session, key: str, now: datetime) -> datetime | None:
    row = s.get(LoginThrottle, key)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        row.total += 1
        return row.locked_until
    return None


def _fail(s: Session, key: str, attempt: Attempt, policy: LoginPolicy, now: datetime) -> datetime | None:
    """Count one failure of `key`; returns the end of the lockout it starts, if it does."""
    row = s.get(LoginThrottle, key)
    quiet = row is not None and (row.locked_until is None or row.locked_until <= now)
    if row is None or (quiet and now - row.last_at > policy.burst_window):
        if row is not None:
            s.delete(row)
            s.flush()
        row = LoginThrottle(username=key, failures=0, total=0, lockouts=0, first_at=now, last_at=now)
        s.add(row)
        audit.record(
            s,
            "user.login_failed",
            actor="anonymous",
            details={"username": key, "method": attempt.method, "ip": attempt.ip},
        )
    row.failures += 1
    row.total += 1
    row.last_at = now
    if row.failures < policy.max_failures:
        return None
    length = min(policy.lockout * (2**row.lockouts), policy.max_lockout)
    row.locked_until = now + length
    row.lockouts += 1
    row.failures = 0
    audit.record(
        s,
        "user.login_locked",
        actor="anonymous",
        details={
            "username": key,
            "ip": attempt.ip,
            "tries": row.total,
            "lockout": row.lockouts,
            "seconds": int(length.total_seconds()),
            "until": row.locked_until.isoformat(),
        },
    )
    return row.locked_until


def _succeed(s: Session, user: User, attempt: Attempt) -> None:
    row = s.get(LoginThrottle, _key(user.username))
    details: dict[str, object] = {"method": attempt.method, "ip": attempt.ip}
    if row is not None:
        details["failed_before"] = row.total
        s.delete(row)
    audit.record(s, "user.login", user=user, details=details)


def _refuse_locked(until: datetime, now: datetime) -> LoginRefused:
    return LoginRefused("locked", locked_until=until, **wait_params(until, now))


def log_in_password(
    db: Database, username: str, password: str, attempt: Attempt, policy: LoginPolicy, now: datetime | None = None
) -> User:
    """The person a username and password name. Raises LoginRefused "wrong_password" or "locked"."""
    now = now or utcnow()
    key = _key(username)
    with db.write() as s:
        until = _locked_until(s, key, now)
    if until is not None:
        raise _refuse_locked(until, now)
    with db.read() as s:
        user = authenticate(s, username, password)  # scrypt outside the write lock: scans never wait on it
    with db.write() as s:
        if user is None:
            until = _fail(s, key, attempt, policy, now)
        else:
            _succeed(s, user, attempt)
    if user is None:
        raise _refuse_locked(until, now) if until is not None else LoginRefused("wrong_password")
    return user


@dataclass(frozen=True)
class BadgeResult:
    """A badge's person: logged in (`complete`), or a lead or administrator who must give a PIN next."""

    user: User
    complete: bool


def log_in_badge(
    db: Database, badge: str, key: bytes, attempt: Attempt, policy: LoginPolicy, now: datetime | None = None
) -> BadgeResult:
    """Raises LoginRefused "unknown_badge", or "locked" when this address scanned unknown badges `max_failures`
    times in a burst (badge guessing is counted per address, as badges name no one until found)."""
    now = now or utcnow()
    guess_key = f"badge@{attempt.ip or '-'}"[:64]
    with db.write() as s:  # no raise inside: a refusal must commit its count
        until = _locked_until(s, guess_key, now)
        user = authenticate_badge(s, badge, key) if until is None else None
        if user is not None and not needs_second_factor(user):
            _succeed(s, user, attempt)
        elif user is None and until is None:
            until = _fail(s, guess_key, attempt, policy, now)
    if until is not None:
        raise _refuse_locked(until, now)
    if user is None:
        raise LoginRefused("unknown_badge")
    return BadgeResult(user, complete=not needs_second_factor(user))


def log_in_pin(
    db: Database, user_id: int, secret: str, attempt: Attempt, policy: LoginPolicy, now: datetime | None = None
) -> User:
    """The second step after a lead's badge: their PIN or password. Raises LoginRefused "wrong_pin", "locked",
    "pin_expired" (the person is gone or deactivated)."""
    now = now or utcnow()
    with db.read() as s:
        user = s.get(User, user_id)
    if user is None or not user.active:
        dummy_check(secret)
        raise LoginRefused("pin_expired")
    key = _key(user.username)
    with db.write() as s:
        until = _locked_until(s, key, now)
    if until is not None:
        raise _refuse_locked(until, now)
    ok = check_second_factor(user, secret)
    with db.write() as s:
        if not ok:
            until = _fail(s, key, attempt, policy, now)
        else:
            _succeed(s, user, attempt)
    if not ok:
        raise _refuse_locked(until, now) if until is not None else LoginRefused("wrong_pin")
    return user


def unlock(db: Database, username: str, *, actor: str) -> bool:
    """Lift a username's lockout and forget its failures; False when it had none."""
    with db.write() as s:
        row = s.get(LoginThrottle, _key(username))
        gone = row is not None
        if row is not None:
            s.delete(row)
            audit.record(s, "user.unlocked", actor=actor, details={"username": _key(username)})
    return bool(gone)


def audit_address_limit(db: Database, ip: str | None, until: datetime) -> None:
    """One entry for an address that hit the rate limit (the caller calls it once per burst)."""
    with db.write() as s:
        audit.record(s, "user.login_throttled", actor="anonymous", details={"ip": ip, "until": until.isoformat()})


# --- sessions ----------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, user: User, ip: str | None, replaces: str | None = None) -> str:
    """A new session of `user`; returns the token the cookie carries. The session it `replaces` ends."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.write() as s:
        if replaces:
            _end(s, replaces, SessionEnd.LOGOUT, now)
        s.add(LoginSession(token_digest=_digest(token), user_id=user.id, started_at=now, seen_at=now, ip=ip))
    return token


def _end(s: Session, token: str, reason: SessionEnd, now: datetime) -> LoginSession | None:
    row = s.execute(select(LoginSession).where(LoginSession.token_digest == _digest(token))).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason
    return row


def end_session(db: Database, token: str) -> None:
    """Logout: the session ends and its cookie opens nothing again."""
    now = utcnow()
    with db.write() as s:
        row = _end(s, token, SessionEnd.LOGOUT, now)
        user = s.get(User, row.user_id) if row is not None else None
        if user is not None:
            audit.record(s, "user.logout", user=user)


@dataclass(frozen=True)
class SessionCheck:
    """A session's state at a request: its person while it lives, else why it ended."""

    user: User | None
    ended: SessionEnd | None = None
    idle: timedelta | None = None


def check_session(
    db: Database, token: str, policy: LoginPolicy, *, activity: bool, now: datetime | None = None
) -> SessionCheck:
    """The person of a live session. Ends a session found idle or too old; marks activity when `activity`
    (written at most every few seconds of a session, not at every request)."""
    now = now or utcnow()
    with db.read() as s:
        row = s.execute(select(LoginSession).where(LoginSession.token_digest == _digest(token))).scalar_one_or_none()
        user = s.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        return SessionCheck(None)
    if row.ended_at is not None:
        return SessionCheck(None, row.end_reason)
    idle = policy.idle_for(Role(user.role))
    reason: SessionEnd | None = None
    if not user.active:
        reason = SessionEnd.DEACTIVATED
    elif now - row.started_at > policy.longest:
        reason = SessionEnd.EXPIRED
    elif now - row.seen_at > idle:
        reason = SessionEnd.IDLE
    if reason is not None:
        with db.write() as s:
            _end(s, token, reason, now)
        return SessionCheck(None, reason, idle)
    # At most one write per session every min(60 s, idle/4): a scan screen's requests cost no extra fsync.
    if activity and now - row.seen_at > min(timedelta(seconds=60), idle / 4):
        with db.write() as s:
            live = s.get(LoginSession, row.id)
            if live is not None and live.ended_at is None:
                live.seen_at = now
    return SessionCheck(user, None, idle)


def touch_session(db: Database, token: str, now: datetime | None = None) -> None:
    """Mark a live session as in use without a request (a live screen showing this station's scans)."""
    now = now or utcnow()
    with db.write() as s:
        row = s.execute(select(LoginSession).where(LoginSession.token_digest == _digest(token))).scalar_one_or_none()
        if row is not None and row.ended_at is None:
            row.seen_at = max(row.seen_at, now)
