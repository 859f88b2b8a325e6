"""Logging in with a password or a badge scan (a lead's badge asks for a PIN), logging out, the language.

Failed tries are limited per address by Flask-Limiter (only refusals count, so a busy dock logging in all
day uses up nothing) and per username by `services.logins` (lockout in the database).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from warehouse.config import LANGUAGES
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import logins, users
from warehouse.timeutil import utcnow
from warehouse.web.access import SESSION_KEY, clear_session, login_policy, public, roles
from warehouse.web.handheld import is_handheld_path

bp = Blueprint("auth", __name__)

# One station: counters in memory (RATELIMIT_STORAGE_URI). Keyed on the direct peer's address: behind a
# reverse proxy that is the proxy's, and the per-username lockout is what still holds.
limiter = Limiter(key_func=get_remote_address, strategy="moving-window", headers_enabled=False)
PENDING_KEY = "badge_pending"  # a lead's badge scanned, waiting for the PIN
PENDING_SECONDS = 120
_THROTTLED = "warehouse.login_throttled"  # address -> end of the burst already audited


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.extensions[_THROTTLED] = {}


def badge_key() -> bytes:
    """The instance's key of badge digests (derived from SECRET_KEY once per app)."""
    key = current_app.extensions.get("warehouse.badge_key")
    if key is None:
        key = users.badge_key(current_app.config["SECRET_KEY"])
        current_app.extensions["warehouse.badge_key"] = key
    return bytes(key)


def _lang() -> str:
    return str(get_locale() or "ru")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never let a crafted link send people elsewhere after login.
    if not target:
        return url_for("acts.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("acts.index")
    return target


def _login(user: User) -> Response:
    token = logins.start_session(get_db(), user, request.remote_addr, replaces=session.get(SESSION_KEY))
    clear_session()  # a fresh session on login: no fixation
    session[SESSION_KEY] = token
    return redirect(_safe_next(request.args.get("next")))  # type: ignore[return-value]


def _template() -> str:
    """The login page in the layout of the page that asked for it: a phone's for the handheld page."""
    return "handheld/login.html" if is_handheld_path(_safe_next(request.args.get("next"))) else "login.html"


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_LIMIT"])


def _refused(response: Response) -> bool:
    return response.status_code == 401


def _address_breached(limit: RequestLimit) -> Response:
    until = datetime.fromtimestamp(limit.reset_at, UTC)
    ip = request.remote_addr
    audited: dict[str | None, datetime] = current_app.extensions[_THROTTLED]
    now = utcnow()
    if audited.get(ip, now) <= now or ip not in audited:  # once per burst of the address, not per try
        for stale in [a for a, t in audited.items() if t <= now]:
            del audited[stale]
        audited[ip] = until
        logins.audit_address_limit(get_db(), ip, until)
    flash(logins.MESSAGES.say("address_limited", _lang(), **logins.wait_params(until, now)), "error")
    return Response(render_template(_template()), 429)


def _pending() -> tuple[int, str] | None:
    """The person whose badge was scanned for the PIN step, while the step lasts (the cookie is signed)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return int(pending["user_id"]), str(pending.get("name", ""))


def _pin_step(user: User) -> str:
    name = user.full_name or user.username
    session[PENDING_KEY] = {"user_id": user.id, "name": name, "at": time.time()}
    return render_template(_template(), pin_for=name)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_refused, on_breach=_address_breached)
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template(_template())
    form, db, rules = request.form, get_db(), login_policy()
    badge, pin = form.get("badge", ""), form.get("pin")
    pin_for: str | None = None
    try:
        if badge.strip():
            result = logins.log_in_badge(db, badge, badge_key(), logins.Attempt(request.remote_addr, "badge"), rules)
            session.pop(PENDING_KEY, None)
            if result.complete:
                return _login(result.user)
            if not pin:
                return _pin_step(result.user)
            user = logins.log_in_pin(db, result.user.id, pin, logins.Attempt(request.remote_addr, "pin"), rules)
        elif pin is not None:
            pending = _pending()
            if pending is None:
                session.pop(PENDING_KEY, None)
                raise logins.LoginRefused("pin_expired")
            user_id, pin_for = pending
            user = logins.log_in_pin(db, user_id, pin, logins.Attempt(request.remote_addr, "pin"), rules)
        else:
            user = logins.log_in_password(
                db,
                form.get("username", ""),
                form.get("password", ""),
                logins.Attempt(request.remote_addr, "password"),
                rules,
            )
    except logins.LoginRefused as e:
        flash(e.message(_lang()), "error")
        if e.reason in ("locked", "pin_expired"):
            session.pop(PENDING_KEY, None)
            pin_for = None
        return render_template(_template(), pin_for=pin_for), 429 if e.locked_until else 401
    session.pop(PENDING_KEY, None)
    return _login(user)


@bp.post("/logout")
@roles()
def logout() -> Response:
    token = session.get(SESSION_KEY)
    if token:
        logins.end_session(get_db(), str(token))
    clear_session()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.post("/language")
@public
def language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))  # type: ignore[return-value]
