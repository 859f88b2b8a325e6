"""The lead's page of the exchange with the operator: the session (log in with NCALayer), sync now, the outbox;
and sending a signed act's document (signed with NCALayer in the browser, checked here before it is queued)."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.operator.types import OperatorError
from warehouse.services import operator_incoming, operator_outbox, operator_session, operator_sync
from warehouse.services.operator_errors import OperatorServiceError, from_operator
from warehouse.services.operator_session import OperatorSettings
from warehouse.signing.trust import load_settings
from warehouse.timeutil import utcnow
from warehouse.vocab import Direction, Role
from warehouse.web.access import roles
from warehouse.web.common import act_or_404
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("operator", __name__)
LEADS = (Role.LEAD, Role.ADMIN)


def _settings() -> OperatorSettings:
    return OperatorSettings.from_config(current_app.config)


def _instance() -> Path:
    return Path(current_app.instance_path)


def _ncalayer_url() -> str:
    return load_settings(current_app.config).ncalayer_url


@bp.get("/operator")
@roles(*LEADS)
def page() -> str | tuple[str, int]:
    settings = _settings()
    view = operator_sync.overview(get_db(), _instance(), settings)
    challenge: tuple[str, str] | None = None
    error = None
    if settings.url and view.session != "active":
        try:
            uuid, data = operator_session.challenge(settings)
            challenge = (uuid, base64.b64encode(data).decode())
        except OperatorServiceError as e:
            error = e.message(_lang())
    return render_template(
        "operator/page.html", view=view, challenge=challenge, error=error, ncalayer_url=_ncalayer_url()
    )


@bp.post("/operator/login")
@roles(*LEADS)
def login() -> Response:
    """The browser's attached CMS over the operator's challenge, handed to the operator."""
    lang = _lang()
    uuid = request.form.get("uuid", "").strip()
    cms = request.form.getlist("cms")
    try:
        signature = base64.b64decode((cms[0] if cms else "").strip(), validate=True)
    except ValueError:
        signature = b""
    if not uuid or not signature:
        flash(OperatorServiceError("login_refused", message="CMS").message(lang), "error")
        return redirect(url_for("operator.page"))
    try:
        session = operator_session.login_with_cms(_instance(), _settings(), uuid, signature)
    except OperatorServiceError as e:
        flash(e.message(lang), "error")
    else:
        flash(_("Logged in to the operator as %(bin)s.", bin=session.participant_bin or "?"), "info")
    return redirect(url_for("operator.page"))


@bp.post("/operator/sync")
@roles(*LEADS)
def sync_now() -> Response:
    lang = _lang()
    try:
        done = operator_sync.sync_round(get_db(), _instance(), _settings(), force=True)
    except OperatorServiceError as e:
        flash(e.message(lang), "error")
    else:
        flash(
            _("Synced: %(imported)s acts received, %(sent)s documents sent.", imported=done.imported, sent=done.sent),
            "info",
        )
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("operator.page"))


@bp.get("/acts/<int:act_id>/operator")
@roles(*LEADS)
def act_page(act_id: int) -> str | tuple[str, int]:
    """An act's documents at the operator, and — for a signed act — its document to sign and queue."""
    act = act_or_404(act_id)
    settings = _settings()
    view = operator_sync.overview(get_db(), _instance(), settings, act.id)
    draft, error = None, None
    if settings.url:
        try:
            build = (
                operator_outbox.acceptance_draft
                if act.direction == Direction.INCOMING
                else operator_outbox.shipment_draft
            )
            draft = build(get_db(), act.id, operator_session.adapter(settings), when=utcnow().replace(microsecond=0))
        except OperatorServiceError as e:
            if e.reason not in ("already_queued", "not_signed", "not_from_operator", "no_outgoing"):
                error = e.message(_lang())
    return render_template(
        "operator/act.html",
        act=act,
        view=view,
        draft=draft,
        documents=[base64.b64encode(draft.body).decode()] if draft else [],
        error=error,
        ncalayer_url=_ncalayer_url(),
    )


@bp.post("/acts/<int:act_id>/operator/ncalayer")
@roles(*LEADS)
def queue_signed(act_id: int) -> Response:
    """The NCALayer signature of the document `act_page` showed: rebuilt for the same moment, checked, queued."""
    lang = _lang()
    act = act_or_404(act_id)
    settings = _settings()
    try:
        when = datetime.fromisoformat(request.form.get("when", ""))
        signature = base64.b64decode((request.form.getlist("cms") or [""])[0].strip(), validate=True)
    except ValueError:
        flash(OperatorServiceError("signature_refused", problem="not_cms").message(lang), "error")
        return redirect(url_for("operator.act_page", act_id=act_id))
    try:
        build = (
            operator_outbox.acceptance_draft if act.direction == Direction.INCOMING else operator_outbox.shipment_draft
        )
        draft = build(get_db(), act.id, operator_session.adapter(settings), when=when)
        operator_outbox.checked_signature(load_settings(current_app.config), draft.body, signature, None)
        operator_outbox.enqueue(get_db(), draft, signature, user=g.user)
    except OperatorServiceError as e:
        flash(e.message(lang), "error")
    except OperatorError as e:
        flash(from_operator(e).message(lang), "error")
    else:
        flash(_("The document is queued for the operator."), "info")
    return redirect(url_for("operator.act_page", act_id=act_id))


@bp.post("/acts/<int:act_id>/operator/check")
@roles(*LEADS)
def check_codes(act_id: int) -> Response:
    """Ask the operator about every code of an incoming act; what is not right becomes review lines."""
    lang = _lang()
    act = act_or_404(act_id)
    if act.direction != Direction.INCOMING:
        flash(OperatorServiceError("not_incoming").message(lang), "error")
        return redirect(url_for("operator.act_page", act_id=act_id))
    try:
        adapter = operator_session.session_adapter(_instance(), _settings())
        result = operator_incoming.check_codes(get_db(), adapter, act.id, user=g.user)
    except OperatorServiceError as e:
        flash(e.message(lang), "error")
    except OperatorError as e:
        flash(from_operator(e).message(lang), "error")
    else:
        flash(
            _(
                "Checked %(codes)s codes: not owned by the sender %(not_owned)s, not in circulation %(gone)s.",
                codes=result.codes,
                not_owned=result.not_owned,
                gone=result.not_in_circulation,
            ),
            "info",
        )
    return redirect(url_for("operator.act_page", act_id=act_id))
