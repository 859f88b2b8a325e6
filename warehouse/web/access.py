"""Who may open which view. Deny by default: a view without a declared policy answers 403.

Every view is marked `@public` or `@roles(...)`; `enforce()` runs before each request, so a view that
forgets its decorator is closed rather than open, and a test lists any endpoint without a policy.

The signed cookie names a server-side session (`services.logins`); every request checks it, so a
session ended at logout or by idling stays ended whatever cookie is replayed. Activity is a request,
except a live stream's own (an open tab alone keeps no one logged in): a stream server calls
`LiveSession.touch()` when it shows this station's scans, and `LiveSession.alive()` to close a stream
whose session has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_htmx import make_response

from warehouse.db import Database, get_db
from warehouse.models import SessionEnd
from warehouse.services import logins
from warehouse.vocab import Role
from warehouse.web.common import refusal

SESSION_KEY = "sid"  # the session token in the signed cookie

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "_warehouse_access"
ANY_ROLE = frozenset(Role)
TOKEN = "token"  # noqa: S105  # the name of an access policy, not a secret


def public(view: F) -> F:
    setattr(view, ACCESS_ATTR, None)
    return view


def token_auth(view: F) -> F:
    """The view authenticates by itself (API bearer tokens), not by the browser session."""
    setattr(view, ACCESS_ATTR, TOKEN)
    return view


def roles(*allowed: Role) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(allowed) or ANY_ROLE)
        return view

    return mark


def policy_of(endpoint: str) -> frozenset[Role] | bool | str | None:
    """The endpoint's policy: None for public, a role set, or False when undeclared."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    result: frozenset[Role] | bool | str | None = getattr(view, ACCESS_ATTR, False)
    return result


def login_policy(app: Flask | None = None) -> logins.LoginPolicy:
    """The login and session rules from the configuration."""
    config = (app or current_app).config
    return logins.LoginPolicy(
        max_failures=int(config["LOGIN_MAX_FAILURES"]),
        lockout=timedelta(seconds=float(config["LOGIN_LOCKOUT_SECONDS"])),
        max_lockout=timedelta(seconds=float(config["LOGIN_LOCKOUT_MAX_SECONDS"])),
        idle_staff=timedelta(seconds=float(config["SESSION_IDLE_SECONDS"])),
        idle_lead=timedelta(seconds=float(config["SESSION_IDLE_SECONDS_LEAD"])),
        longest=timedelta(seconds=float(config["SESSION_MAX_SECONDS"])),
    )


def counts_as_activity() -> bool:
    """A request is activity, a live stream's is not: the stream stays open while nobody looks."""
    return request.accept_mimetypes.best != "text/event-stream"


def clear_session() -> None:
    """Forget everything of the cookie but its language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _say_ended(check: logins.SessionCheck) -> None:
    lang = str(get_locale() or "ru")
    if check.ended is SessionEnd.IDLE and check.idle is not None:
        minutes = max(1, int(check.idle.total_seconds() // 60))
        flash(logins.MESSAGES.say("idle", lang, minutes=minutes), "info")
    elif check.ended is SessionEnd.EXPIRED:
        hours = max(1, int(login_policy().longest.total_seconds() // 3600))
        flash(logins.MESSAGES.say("expired", lang, hours=hours), "info")


def load_user() -> None:
    token = session.get(SESSION_KEY)
    g.user = None
    if token is None:
        return
    check = logins.check_session(get_db(), str(token), login_policy(), activity=counts_as_activity())
    g.user = check.user
    if check.user is None:
        clear_session()
        _say_ended(check)


@dataclass(frozen=True)
class LiveSession:
    """The session of a long request (a live stream), usable after the request context is gone."""

    db: Database
    token: str
    rules: logins.LoginPolicy

    def alive(self) -> bool:
        """Still logged in (checked without counting as activity)."""
        return logins.check_session(self.db, self.token, self.rules, activity=False).user is not None

    def touch(self) -> None:
        """The screen is in use (it shows scans of its station): the idle time starts again."""
        logins.touch_session(self.db, self.token)


def live_session() -> LiveSession | None:
    """The current request's session, for a stream to check and touch later; None when logged out."""
    token = session.get(SESSION_KEY)
    return LiveSession(get_db(), str(token), login_policy()) if token and g.get("user") is not None else None


def enforce() -> Response | None:
    load_user()
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    policy = policy_of(endpoint)
    if policy is None or policy == TOKEN:
        return None
    if policy is False:
        abort(403)
    if g.user is None:
        target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
        if request.headers.get("HX-Request") and request.method != "GET":
            # A scan or a form sent after the session ended: navigating away would lose it without a word.
            # Say where it was sent that it was not recorded and how to go on; the page stays.
            message = _("Your session has ended: this was not recorded. Sign in again (reload the page) and repeat.")
            body, status = refusal(401, message)
            return Response(body, status)
        if request.headers.get("HX-Request"):
            # htmx would swap the login page into a fragment; make the browser navigate instead.
            response: Response = make_response("", 401, redirect=target)
            return response
        return redirect(target)  # type: ignore[return-value]
    assert isinstance(policy, frozenset)
    if Role(g.user.role) not in policy:
        abort(403)
    return None
