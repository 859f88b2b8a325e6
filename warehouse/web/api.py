"""JSON API for handheld terminals and integrations: `/api/v1`, token per device.

Authentication is a bearer token per device (no cookies), so CSRF does not apply here; every other
state change in the app goes through a CSRF-checked form or htmx request.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from warehouse.db import get_db
from warehouse.messages import N_, Phrasebook
from warehouse.services import devices, importing, receiving
from warehouse.vocab import Scope
from warehouse.web.access import token_auth
from warehouse.web.extensions import csrf
from warehouse.web.imports import saved_upload
from warehouse.web.openapi import SPEC

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
F = TypeVar("F", bound=Callable[..., Any])
MAX_BATCH = 500
LANGS = ("ru", "kk", "en")
# What the API says when it refuses a request itself (the services word their own refusals).
REFUSALS = Phrasebook(
    "api",
    {
        "no_file": N_("Send the act as the multipart form field 'file' (.json, .csv or .xlsx)."),
        "bad_format": N_("The act file must be .json, .csv or .xlsx."),
        "bad_json": N_('The body must be a JSON object: {"scans": [{"code": …, "scan_id": …}]}.'),
        "no_scans": N_('Give \'scans\': a non-empty list of {"code", "scan_id"}.'),
        "batch_too_large": N_("At most {max} scans per request."),
        "bad_scan": N_('Each scan is {"code": string, "scan_id": string}.'),
    },
)


def _lang() -> str:
    return request.accept_languages.best_match(LANGS) or "ru"


def error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def refuse(status: int, reason: str, **params: object) -> tuple[Response, int]:
    """The API's own refusal, worded in the caller's language (Accept-Language)."""
    return error(status, reason, REFUSALS.say(reason, _lang(), **params))


def device_required(scope: Scope) -> Callable[[F], F]:
    """The view needs a device token that may do `scope`, on the act its `act_id` or `act` names when it
    has one (`devices.authorize` holds the rules: the token's rights, its station, its expiry); `g.device`
    is the device. A refusal is 401 (unknown, replaced, revoked or expired token) or 403, in the caller's
    language, before the view runs."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            try:
                g.device = devices.authorize(get_db(), token, scope, kwargs.get("act_id", kwargs.get("act")))
            except devices.DeviceError as e:
                return error(e.status, e.reason, e.message(_lang()))
            return view(*args, **kwargs)

        return token_auth(wrapper)  # type: ignore[return-value]

    return decorate


@bp.errorhandler(HTTPException)
def http_error(e: HTTPException) -> tuple[Response, int]:
    return error(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or "")


@bp.get("/openapi.json")
@token_auth
def openapi() -> Response:
    return jsonify(SPEC)


@bp.get("/acts/<act>")
@device_required(Scope.READ)
def act_summary(act: str) -> Any:
    try:
        return jsonify(receiving.act_summary(get_db(), act).to_json())
    except receiving.ReceivingError as e:
        return error(404, e.reason, e.message(_lang()))


@bp.post("/acts")
@device_required(Scope.IMPORT)
def import_act() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return refuse(400, "no_file")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in (".json", ".csv", ".xlsx"):
        return refuse(400, "bad_format")
    with saved_upload(upload, suffix, "upload") as path:
        try:
            result = importing.import_act(get_db(), path)
        except importing.ActImportError as e:
            lang = _lang()
            problems = [{"location": p.location, "reason": p.reason, "message": p.message(lang)} for p in e.problems]
            status = 409 if e.existing_act_id else 422
            return error(
                status, "not_imported", problems[0]["message"], problems=problems, existing_act_id=e.existing_act_id
            )
    return jsonify({"id": result.act_id, "number": result.number, "codes": result.codes}), 201


@bp.post("/acts/<int:act_id>/scans")
@device_required(Scope.SCAN)
def post_scans(act_id: int) -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return refuse(400, "bad_json")
    items = body.get("scans", [body] if "code" in body else None)
    if not isinstance(items, list) or not items:
        return refuse(400, "no_scans")
    if len(items) > MAX_BATCH:
        return refuse(413, "batch_too_large", max=MAX_BATCH)
    for item in items:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("code"), str)
            or not (item.get("scan_id") is None or isinstance(item.get("scan_id"), str))
        ):
            return refuse(400, "bad_scan")
    lang = _lang()
    device = g.device
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            r = receiving.record_scan(
                get_db(),
                act_id,
                receiving.ScanInput(
                    raw=item["code"],
                    source="api",
                    station=device.station,
                    user_id=device.user_id,
                    scanner_id=device.scanner_id,
                    client_scan_id=f"{device.scanner_id}:{item['scan_id']}" if item.get("scan_id") else None,
                ),
                gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
            )
        except receiving.ReceivingError as e:
            status = 404 if e.reason == "no_act" else 409
            return error(status, e.reason, e.message(lang), accepted=results)
        results.append(
            {
                "input": item["code"],
                "scan_id": item.get("scan_id"),
                "class": r.scan_class.value,
                "reason": r.outcome.reason.value,
                "message": r.message(lang),
                "credited": r.credited,
                "replayed": r.replayed,
                "journal_id": r.scan_id,
            }
        )
    return jsonify({"results": results})
