"""Signing a decided act in the browser, and checking signed documents.

Three paths to one result: a key file (.p12) and its password (RSA locally; GOST through NCANode when
configured), or NCALayer, where the browser signs and the server verifies the posted CMS before it
stores anything. Before a key file signs, its certificate is shown, and the form must carry back the
fingerprint of the certificate the person saw.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from warehouse.factory import get_db
from warehouse.models import Act, Role
from warehouse.services import signing as service
from warehouse.signing import acceptance, errors
from warehouse.signing.certs import assess
from warehouse.signing.cms import Verification
from warehouse.signing.errors import SigningError
from warehouse.signing.pkcs12 import MAX_KEY_FILE
from warehouse.signing.signers import KeyFileView, open_signer, read_key_file
from warehouse.signing.trust import SigningSettings, load_settings
from warehouse.timeutil import utcnow
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("signing", __name__)
LEADS = (Role.LEAD, Role.ADMIN)
_PREVIEW_CHARS = 20_000


def _settings() -> SigningSettings:
    return load_settings(current_app.config)


def key_file_upload() -> bytes:
    upload: FileStorage | None = request.files.get("key")
    if upload is None or not upload.filename:
        raise SigningError("no_key_file")
    data: bytes = upload.read(MAX_KEY_FILE + 1)
    if not data:
        raise SigningError("no_key_file")
    return data


def certificate_card(view: KeyFileView, settings: SigningSettings) -> dict[str, object]:
    """What the certificate card shows: the holder, and what is wrong with it before anyone signs."""
    status = assess(view.certificate, trusted=settings.trusted, crls=settings.crls)
    blocking: list[str] = []
    if not view.info.can_sign:
        blocking.append("auth_key")
    if view.gost and not settings.ncanode_url:
        blocking.append("gost_key")
    if "untrusted" in status.problems:
        blocking.append("untrusted")
    notes = [p for p in status.problems if p not in ("untrusted", "gost_unsupported")] + status.warnings
    if settings.strict:
        blocking += [n for n in notes if n in ("revoked", "expired", "not_yet_valid")]
    lang = _lang()
    return {"info": view.info, "gost": view.gost, "blocking": [errors.message(b, lang) for b in blocking],
            "warnings": [errors.message(w, lang) for w in notes if w not in blocking]}


def _sign_page(act: Act, *, error: str | None = None, card: dict[str, object] | None = None,
               status: int = 200) -> tuple[str, int]:
    """The signing page: what will be signed, the key-file form and the NCALayer button."""
    prepared = None
    settings = None
    problem = error
    try:
        settings = _settings()
        prepared = service.prepare(get_db(), act.id, signer=service.signer_ref(g.user, None, None),
                                   created_at=utcnow())
    except SigningError as e:
        problem = problem or e.message(_lang())
    preview = ""
    if prepared is not None and prepared.documents:
        text = json.dumps(json.loads(prepared.documents[0].content), ensure_ascii=False, indent=1)
        preview = text[:_PREVIEW_CHARS] + ("\n…" if len(text) > _PREVIEW_CHARS else "")
    documents = [base64.b64encode(d.content).decode("ascii") for d in prepared.documents] if prepared else []
    return render_template("signing/sign.html", act=act, prepared=prepared, error=problem, card=card,
                           preview=preview, documents=documents,
                           ncalayer_url=settings.ncalayer_url if settings else "",
                           ncanode=bool(settings and settings.ncanode_url)), status


@bp.get("/acts/<int:act_id>/sign")
@roles(*LEADS)
def page(act_id: int) -> Response | tuple[str, int]:
    act = _act(act_id)
    if act.status == "signed":
        return redirect(url_for("signing.signed", act_id=act_id))
    return _sign_page(act)


@bp.post("/acts/<int:act_id>/sign/certificate")
@roles(*LEADS)
def certificate(act_id: int) -> tuple[str, int]:
    """htmx: read the key file's certificate (nothing is stored) and show it before signing."""
    _act(act_id)
    try:
        view = read_key_file(key_file_upload(), request.form.get("password", ""))
        card = certificate_card(view, _settings())
    except SigningError as e:
        return render_template("signing/_certificate.html", error=e.message(_lang()), card=None), 400
    return render_template("signing/_certificate.html", card=card, error=None), 200


@bp.post("/acts/<int:act_id>/sign/key")
@roles(*LEADS)
def sign_with_key(act_id: int) -> Response | tuple[str, int]:
    """Sign with a key file. The password is used for this request only and is never stored."""
    act = _act(act_id)
    lang = _lang()
    card = None
    try:
        settings = _settings()
        data = key_file_upload()
        password = request.form.get("password", "")
        view = read_key_file(data, password)
        card = certificate_card(view, settings)
        if request.form.get("cert_sha256") != view.info.fingerprint_sha256:
            raise SigningError("certificate_not_shown")
        signer = open_signer(data, password, ncanode_url=settings.ncanode_url)
        del password
        outcome = service.sign_act(get_db(), act_id, signer, settings=settings, user=g.user)
    except SigningError as e:
        return _sign_page(act, error=e.message(lang), card=card, status=400)
    _flash_signed(outcome.warnings)
    return redirect(url_for("signing.signed", act_id=act_id))


@bp.post("/acts/<int:act_id>/sign/ncalayer")
@roles(*LEADS)
def sign_with_ncalayer(act_id: int) -> Response | tuple[str, int]:
    """The CMS NCALayer made in the browser: verified against the rebuilt document before it is stored."""
    act = _act(act_id)
    try:
        created_at = datetime.fromisoformat(request.form.get("created_at", ""))
    except ValueError:
        return _sign_page(act, error=errors.message("stale_document", _lang()), status=400)
    if created_at.tzinfo is None:
        return _sign_page(act, error=errors.message("stale_document", _lang()), status=400)
    signatures = []
    for text in request.form.getlist("cms"):
        try:
            signatures.append(base64.b64decode(text.strip(), validate=True))
        except ValueError:
            return _sign_page(act, error=errors.message("not_cms", _lang()), status=400)
    try:
        outcome = service.accept_signatures(get_db(), act_id, signatures, created_at=created_at,
                                            settings=_settings(), user=g.user)
    except SigningError as e:
        return _sign_page(act, error=e.message(_lang()), status=400)
    _flash_signed(outcome.warnings)
    return redirect(url_for("signing.signed", act_id=act_id))


def _flash_signed(warnings: tuple[str, ...]) -> None:
    flash(_("The decision is signed."), "info")
    lang = _lang()
    for warning in warnings:
        flash(errors.message(warning, lang), "warn")


def _verification_view(result: Verification) -> dict[str, object]:
    lang = _lang()
    return {"valid": result.valid, "info": result.info, "signing_time": result.signing_time,
            "problems": [errors.message(p, lang) for p in result.problems],
            "warnings": [errors.message(w, lang) for w in result.warnings]}


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
    for doc in service.documents(get_db(), act_id):
        check = _verification_view(service.verify(settings, doc.content, doc.signature)) if settings else None
        rows.append({"doc": doc, "check": check, "summary": acceptance.read_summary(doc.content)})
    return render_template("signing/signed.html", act=act, rows=rows, error=error)


def _download(document_id: int, what: str) -> Response:
    doc = service.document(get_db(), document_id)
    if doc is None:
        abort(404)
    act = _act(doc.act_id)
    stem = f"act-{act.id}-acceptance" + (f".{doc.part}" if doc.part > 1 or _parts(doc.act_id) > 1 else "")
    data, suffix, mime = ((doc.content, "json", "application/json") if what == "json"
                          else (doc.signature, "p7s", "application/pkcs7-signature"))
    response = current_app.response_class(data, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{suffix}"'
    return response


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
        return render_template("signing/verify.html", result=None,
                               error=_("Choose the document and its signature.")), 400
    content = document.read()
    try:
        result = service.verify(_settings(), content, signature.read())
    except SigningError as e:
        return render_template("signing/verify.html", result=None, error=e.message(_lang())), 400
    return render_template("signing/verify.html", result=_verification_view(result),
                           summary=acceptance.read_summary(content), error=None), 200 if result.valid else 422
