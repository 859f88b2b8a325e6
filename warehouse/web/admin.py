"""People and their roles (administrators only)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.services import users
from warehouse.vocab import Role
from warehouse.web.access import roles
from warehouse.web.auth import badge_key

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user_error(reason: str) -> str:
    messages: dict[str, str] = {
        "bad_username": _("The username is empty or too long."),
        "short_password": _("The password is too short (at least 4 characters)."),
        "username_taken": _("This username is already taken."),
    }
    return str(messages.get(reason, _("The user was not created.")))


@bp.route("/users", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_list() -> str | Response | tuple[str, int]:
    db = get_db()
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            users.add_user(
                db,
                form.get("username", ""),
                form.get("password", ""),
                Role(form.get("role", "staff")),
                full_name=form.get("full_name", ""),
                badge=form.get("badge") or None,
                badge_key=badge_key(),
                by=g.user,
            )
        except users.UserError as e:
            flash(_user_error(e.reason), "error")
            status = 400
        except ValueError:
            flash(_("Unknown role."), "error")
            status = 400
        else:
            flash(_("User created."), "info")
            return redirect(url_for("admin.user_list"))
    page = render_template("admin/users.html", people=users.people(db), roles=list(Role))
    return page, status
