"""Closing receiving, the lead's discrepancy review and decision, and the act's audit trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse import scan_limits
from warehouse.db import get_db
from warehouse.services import receiving, review, screens, signing, stock
from warehouse.services.receiving import DECISIONS, REASON_CODES, ReceivingError
from warehouse.station.scanners import scanners_of
from warehouse.vocab import ActStatus, Level, Role
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import browser_scan_key
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("review", __name__)
LEADS = (Role.LEAD, Role.ADMIN)
LEVELS = [level.value for level in Level]


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
    wanted = {k: request.args.get(k, "") for k in ("kind", "level", "gtin")}
    return render_template(
        "review/page.html",
        act=act,
        demo_signed=act.status == ActStatus.SIGNED and signing.is_demo_signed(get_db(), act.id),
        lines=review.filter_lines(shown.lines, **wanted),
        every_line=shown.lines,
        wanted=wanted,
        kinds=sorted({line.kind for line in shown.lines}),
        levels=sorted({line.level for line in shown.lines if line.level in LEVELS}, key=LEVELS.index),
        line_key=review.line_key,
        summary=shown.summary,
        reasons=REASON_CODES,
        decisions=DECISIONS,
        resolutions=review.RESOLUTIONS,
    )


def _posted_changes(bulk: bool = False) -> list[review.LineChange]:
    """Every line the review form posted (the lines shown), with what the lead chose for each; `bulk`:
    the one resolution and reason chosen for all of them, each line's comment kept."""
    form = request.form
    changes = []
    for key in form.getlist("line"):
        act_code_id, scan_id = review.parse_key(key)
        if not bulk and f"resolution-{key}" not in form:
            continue  # nothing said of this line
        resolution = form.get("bulk_resolution", "") if bulk else form.get(f"resolution-{key}", "")
        reason = form.get("bulk_reason") if bulk else form.get(f"reason-{key}")
        comment = form.get(f"comment-{key}")
        changes.append(review.LineChange(resolution, reason or None, comment, act_code_id, scan_id))
    return changes


def _back(act_id: int) -> Response:
    wanted = {k: request.form.get(f"filter_{k}", "") for k in ("kind", "level", "gtin")}
    query: dict[str, Any] = {k: v for k, v in wanted.items() if v}
    return redirect(url_for("review.page", act_id=act_id, **query))


@bp.post("/acts/<int:act_id>/lines/save")
@roles(*LEADS)
def save_lines(act_id: int) -> Response:
    """The review form's "Save the lines" and "Apply to every line shown": one transaction for all."""
    bulk = "bulk" in request.form
    try:
        n = review.resolve_lines(get_db(), act_id, _posted_changes(bulk), g.user)
    except ReceivingError as e:
        flash(e.message(_lang()), "error")
        return _back(act_id)
    flash(_("Lines saved: %(n)s.", n=n), "info")
    return _back(act_id)


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
    problem = scan_limits.code_problem(raw)
    if problem is not None:  # what the journal cannot hold: said, nothing written
        flash(ReceivingError(problem, **scan_limits.code_details(raw, problem)).message(_lang()), "error")
        return redirect(url_for("review.page", act_id=act_id))
    try:
        result = receiving.record_scan(
            get_db(),
            act_id,
            receiving.ScanInput(
                raw=raw,
                source="browser",
                station=str(current_app.config["STATION"]),
                user_id=g.user.id,
                client_scan_id=browser_scan_key(request.form.get("scan_id")),
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
        if form.getlist("line"):  # the review form: what the lead changed and did not save goes in first
            review.resolve_lines(get_db(), act_id, _posted_changes(), g.user)
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
