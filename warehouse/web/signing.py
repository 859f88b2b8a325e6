"""Signing a decided act in the browser (the flow itself is web/sign_flow.py), and checking signed documents."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from warehouse.db import get_db
from warehouse.models import Act
from warehouse.services import signing as service
from warehouse.signing import acceptance, errors
from warehouse.signing.cms import Verification
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Signer
from warehouse.signing.trust import SigningSettings
from warehouse.signing.verdict import judge
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Role
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import attachment
from warehouse.web.common import ui_lang as _lang
from warehouse.web.sign_flow import SignFlow
from warehouse.web.sign_flow import settings as _settings

bp = Blueprint("signing", __name__)
LEADS = (Role.LEAD, Role.ADMIN)


class _Decision(SignFlow):
    """The acceptance document of the lead's decision; it carries the time it was prepared."""

    template = "signing/sign.html"
    done_endpoint = "signing.signed"
    dated = True

    def prepare(self, act: Act, settings: SigningSettings) -> service.Prepared:
        return service.prepare(
            get_db(), act.id, signer=service.signer_ref(g.user, None, None), created_at=utcnow(), demo=settings.demo
        )

    def sign(self, act: Act, signer: Signer, settings: SigningSettings) -> service.SigningOutcome:
        return service.sign_act(get_db(), act.id, signer, settings=settings, user=g.user)

    def accept(
        self, act: Act, signatures: list[bytes], created_at: datetime | None, settings: SigningSettings
    ) -> service.SigningOutcome:
        assert created_at is not None  # dated: the flow checked it
        return service.accept_signatures(
            get_db(), act.id, signatures, created_at=created_at, settings=settings, user=g.user
        )

    def signed_message(self) -> str:
        return str(_("The decision is signed."))

    def flashes_warnings(self) -> bool:
        return False  # the signed page shows the verdict, its reasons and the demo mark itself


FLOW = _Decision()


@bp.get("/acts/<int:act_id>/sign")
@roles(*LEADS)
def page(act_id: int) -> Response | tuple[str, int]:
    act = _act(act_id)
    if act.status == ActStatus.SIGNED:
        return redirect(url_for("signing.signed", act_id=act_id))
    return FLOW.page(act)


@bp.post("/acts/<int:act_id>/sign/certificate")
@roles(*LEADS)
def certificate(act_id: int) -> tuple[str, int]:
    _act(act_id)
    return FLOW.certificate()


@bp.post("/acts/<int:act_id>/sign/key")
@roles(*LEADS)
def sign_with_key(act_id: int) -> Response | tuple[str, int]:
    return FLOW.with_key(_act(act_id))


@bp.post("/acts/<int:act_id>/sign/ncalayer")
@roles(*LEADS)
def sign_with_ncalayer(act_id: int) -> Response | tuple[str, int]:
    return FLOW.with_ncalayer(_act(act_id))


def _verification_view(result: Verification) -> dict[str, object]:
    """One verdict (the one `warehouse verify` gives), its reasons, then the warnings."""
    lang = _lang()
    judgement = judge(result.problems)
    return {
        "verdict": judgement.verdict.value,
        "headline": judgement.headline(lang),
        "reasons": judgement.reasons(lang),
        "valid": result.valid,
        "info": result.info,
        "signing_time": result.signing_time,
        "warnings": [errors.message(w, lang) for w in result.warnings],
    }


@bp.get("/acts/<int:act_id>/signed")
@roles(*LEADS)
def signed(act_id: int) -> str:
    """The act's signed documents, each checked again now."""
    act = _act(act_id)
    rows = []
    error = None
    try:
        settings = _settings()
    except SigningError as e:
        settings, error = None, e.message(_lang())
    demo = False
    for doc in service.documents(get_db(), act_id):
        check = _verification_view(service.verify(settings, doc.content, doc.signature)) if settings else None
        summary = acceptance.read_summary(doc.content)
        demo = demo or (summary is not None and summary.demo)
        rows.append({"doc": doc, "check": check, "summary": summary})
    return render_template("signing/signed.html", act=act, rows=rows, error=error, demo_signed=demo)


def _download(document_id: int, what: str) -> Response:
    doc = service.document(get_db(), document_id)
    if doc is None:
        abort(404)
    act = _act(doc.act_id)
    stem = f"act-{act.id}-acceptance" + (f".{doc.part}" if doc.part > 1 or _parts(doc.act_id) > 1 else "")
    data, suffix, mime = (
        (doc.content, "json", "application/json")
        if what == "json"
        else (doc.signature, "p7s", "application/pkcs7-signature")
    )
    return attachment(data, f"{stem}.{suffix}", mime)


def _parts(act_id: int) -> int:
    return len(service.documents(get_db(), act_id))


@bp.get("/signed/<int:document_id>.json")
@roles(*LEADS)
def download_document(document_id: int) -> Response:
    return _download(document_id, "json")


@bp.get("/signed/<int:document_id>.p7s")
@roles(*LEADS)
def download_signature(document_id: int) -> Response:
    return _download(document_id, "p7s")


@bp.route("/verify", methods=["GET", "POST"])
@roles()
def verify() -> tuple[str, int]:
    """Check any document and its detached signature: who signed, and whether it still holds."""
    if request.method == "GET":
        return render_template("signing/verify.html", result=None, error=None), 200
    document, signature = request.files.get("document"), request.files.get("signature")
    if document is None or signature is None or not document.filename or not signature.filename:
        return render_template(
            "signing/verify.html", result=None, error=_("Choose the document and its signature.")
        ), 400
    content = document.read()
    try:
        result = service.verify(_settings(), content, signature.read())
    except SigningError as e:
        return render_template("signing/verify.html", result=None, error=e.message(_lang())), 400
    return render_template(
        "signing/verify.html", result=_verification_view(result), summary=acceptance.read_summary(content), error=None
    ), 200 if result.valid else 422
