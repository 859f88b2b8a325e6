"""Closing receiving, the lead's discrepancy review and decision, and the act's audit trail."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.services import receiving, review, screens, stock
from warehouse.services.receiving import DECISIONS, REASON_CODES, ReceivingError
from warehouse.station.scanners import scanners_of
from warehouse.vocab import Role
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("review", __name__)
LEADS = (Role.LEAD, Role.ADMIN)


@bp.post("/acts/<int:act_id>/close")
@roles()
def close(act_id: int) -> Response:
    try:
        receiving.close_act(get_db(), act_id, user=g.user)
    except ReceivingError as e:
        flash(e.message(_lang()), "error")
        return redirect(url_for("receive.screen", act_id=act_id))
    scanners = scanners_of(current_app)
    if scanners is not None:  # the station's scanners stop feeding an act that is no longer received
        scanners.router.close_act(str(current_app.config["STATION"]), act_id)
    flash(_("Receiving ended. The act waits for the lead's decision."), "info")
    target = "review.page" if g.user.role in LEADS else "receive.screen"
    return redirect(url_for(target, act_id=act_id))


@bp.get("/acts/<int:act_id>/review")
@roles(*LEADS)
def page(act_id: int) -> str:
    act = _act(act_id)
    shown = screens.review_page(get_db(), act, _lang())
    return render_template(
        "review/page.html",
        act=act,
        lines=shown.lines,
        summary=shown.summary,
        reasons=REASON_CODES,
        decisions=DECISIONS,
        resolutions=review.RESOLUTIONS,
    )


@bp.post("/acts/<int:act_id>/lines")
@roles(*LEADS)
def resolve(act_id: int) -> Response | tuple[str, int]:
    form = request.form
    try:
        review.resolve(
            get_db(),
            act_id,
            resolution=form.get("resolution", ""),
            reason=form.get("reason") or None,
            comment=form.get("comment"),
            user=g.user,
            act_code_id=int(form["act_code_id"]) if form.get("act_code_id") else None,
            scan_id=int(form["scan_id"]) if form.get("scan_id") else None,
        )
    except (ReceivingError, ValueError) as e:
        message = (
            e.message(_lang())
            if isinstance(e, ReceivingError)
            else _("Something went wrong. The action was not carried out.")
        )
        return render_template("review/_saved.html", error=message), 400
    return render_template("review/_saved.html"), 200


@bp.post("/acts/<int:act_id>/found")
@roles(*LEADS)
def found(act_id: int) -> Response:
    raw = request.form.get("code", "")
    try:
        result = receiving.record_scan(
            get_db(),
            act_id,
            receiving.ScanInput(
                raw=raw,
                source="browser",
                station=str(current_app.config["STATION"]),
                user_id=g.user.id,
                client_scan_id=f"web:{request.form.get('scan_id') or uuid.uuid4()}",
            ),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
            found_later=True,
        )
        flash(result.message(_lang()), "info" if not result.scan_class.is_error else "error")
    except ReceivingError as e:
        flash(e.message(_lang()), "error")
    return redirect(url_for("review.page", act_id=act_id))


@bp.post("/acts/<int:act_id>/decide")
@roles(*LEADS)
def decide(act_id: int) -> Response:
    form = request.form
    try:
        receiving.decide(
            get_db(),
            act_id,
            form.get("decision", ""),
            reason=form.get("reason") or None,
            comment=(form.get("comment") or "").strip() or None,
            user=g.user,
        )
        stock.enter_accepted(get_db(), act_id, user=g.user)  # what was accepted is ours now
    except (ReceivingError, stock.StockError) as e:
        flash(e.message(_lang()), "error")
        return redirect(url_for("review.page", act_id=act_id))
    flash(_("Decision recorded."), "info")
    return redirect(url_for("review.page", act_id=act_id))


@bp.get("/acts/<int:act_id>/audit")
@roles(*LEADS)
def audit_trail(act_id: int) -> str:
    act = _act(act_id)
    trail = screens.audit_trail(get_db(), act_id)
    return render_template("review/audit.html", act=act, entries=trail.entries, chain=trail.chain)
