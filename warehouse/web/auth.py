"""Logging in with a password or a badge scan, logging out, switching the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from warehouse.config import LANGUAGES
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import users
from warehouse.web.access import public, roles

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never let a crafted link send people elsewhere after login.
    if not target:
        return url_for("acts.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("acts.index")
    return target


def _login(user: User) -> Response:
    lang = session.get("lang")
    session.clear()  # a fresh session on login: no fixation
    session["user_id"] = user.id
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.args.get("next")))  # type: ignore[return-value]


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if request.method == "POST":
        badge = request.form.get("badge", "")
        user = users.log_in(
            get_db(),
            username=request.form.get("username", ""),
            password=request.form.get("password", ""),
            badge=badge,
            ip=request.remote_addr,
        )
        if user is not None:
            return _login(user)
        flash(_("Badge not recognised.") if badge else _("Wrong username or password."), "error")
        return render_template("login.html"), 401
    return render_template("login.html")


@bp.post("/logout")
@roles()
def logout() -> Response:
    users.log_out(get_db(), g.user)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


@bp.post("/language")
@public
def language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))  # type: ignore[return-value]
