"""The acts page: incoming and outgoing acts, filtered."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.services.acts import ActFilter, listed
from warehouse.vocab import ActStatus, Direction
from warehouse.web.access import roles

bp = Blueprint("acts", __name__)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/")
@roles()
def home() -> Response:
    return redirect(url_for("acts.index"))


@bp.get("/acts")
@roles()
def index() -> str:
    args = request.args
    f = ActFilter(
        direction=args.get("direction") if args.get("direction") in set(Direction) else None,
        status=args.get("status") if args.get("status") in set(ActStatus) else None,
        partner=args.get("partner") or None,
        date_from=_date(args.get("from")),
        date_to=_date(args.get("to")),
    )
    acts = listed(get_db(), f)
    template = "acts/index.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "act-rows":
        return render_template("acts/_rows.html", acts=acts)
    return render_template(template, acts=acts, f=f, statuses=list(ActStatus), directions=list(Direction))
