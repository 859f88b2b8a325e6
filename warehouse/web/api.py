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
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from warehouse import scan_limits
from warehouse.db import DatabaseUnavailable, get_db
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
MAX_BODY_MB = 4
"""A scans request's body at most. 500 items each at its limits (a code of 1 KiB, escaped as \\u00XX at worst
six times over, and a 64-character scan_id) fit in it, so a batch of valid items is never refused whole;
100 codes of a megabyte are refused before a byte of them is read."""
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
        "bad_scan": N_('Each scan is {"code": string, "scan_id": string}: this one was not recorded.'),
        "database_unavailable": N_(
            "The database cannot be reached or is busy right now: nothing of this request was recorded. Send it "
            "again in a moment (the same scan_id is recorded once)."
        ),
        "body_too_large": N_(
            "The request is larger than {max} MiB: nothing of it was read or recorded. Send the scans in "
            "smaller batches (at most {batch} a request)."
        ),
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


@bp.errorhandler(DatabaseUnavailable)
def database_error(e: DatabaseUnavailable) -> tuple[Response, int]:
    """As the pages' 503 (the transaction rolled back), in JSON: a handheld keeps its queue and retries."""
    current_app.logger.warning("database unavailable: %s", e.orig)
    return refuse(503, "database_unavailable")


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
    """Record a batch (or one scan) item by item: each item is answered, accepted or refused with its reason,
    and one bad item never keeps the others out. Status: 200 when at least one item was accepted (a replay
    is accepted); 409 (a reused scan_id) or 422 when every item was refused; the request as a whole is
    refused (400, 404, 409, 413, 503) only when nothing of it could be recorded."""
    body = _json_body()
    if isinstance(body, tuple):
        return body
    if not isinstance(body, dict):
        return refuse(400, "bad_json")
    items = body.get("scans", [body] if "code" in body else None)
    if not isinstance(items, list) or not items:
        return refuse(400, "no_scans")
    if len(items) > MAX_BATCH:
        return refuse(413, "batch_too_large", max=MAX_BATCH)
    lang = _lang()
    device = g.device
    answers: list[dict[str, Any]] = [{} for _ in items]
    inputs: list[receiving.ScanInput] = []
    placed: list[int] = []  # the item each input came from
    for index, item in enumerate(items):
        problem = _problem(item)
        if problem is not None:
            answers[index] = _refused(index, item, problem, lang)
            continue
        scan_id = item.get("scan_id")
        inputs.append(
            receiving.ScanInput(
                raw=item["code"],
                source="api",
                station=device.station,
                user_id=device.user_id,
                scanner_id=device.scanner_id,
                client_scan_id=device.scan_key(act_id, scan_id) if scan_id is not None else None,
                stop_on_error=bool(current_app.config.get("STOP_MODE")),  # per device: its own CONFIRM
            )
        )
        placed.append(index)
    if inputs:
        try:
            done = receiving.record_batch(
                get_db(), act_id, inputs, gs_substitutes=current_app.config.get("GS_SUBSTITUTES")
            )
        except receiving.ReceivingError as e:  # the act takes no scans, or the database failed: nothing recorded
            response, status = error(_STATUS.get(e.reason, 409), e.reason, e.message(lang))
            if e.reason == "busy":
                response.headers["Retry-After"] = "1"
            return response, status
        for index, r in zip(placed, done, strict=True):
            item = items[index]
            if isinstance(r, receiving.Refused):
                answers[index] = _refused(index, item, r.error, lang)
            else:
                answers[index] = {
                    "index": index,
                    "status": "accepted",
                    "scan_id": item.get("scan_id"),
                    "input": item["code"],
                    "class": r.scan_class.value,
                    "reason": r.outcome.reason.value,
                    "message": r.message(lang),
                    "credited": r.credited,
                    "replayed": r.replayed,
                    "journal_id": r.scan_id,
                }
    refused = [a for a in answers if a["status"] == "refused"]
    answer: dict[str, Any] = {"results": answers, "accepted": len(answers) - len(refused), "refused": len(refused)}
    if len(refused) < len(answers):
        return jsonify(answer)
    # Nothing was recorded: the status says why, the first such refusal is the error.
    reused = [a for a in refused if a["reason"] == "scan_id_reused"]
    first = (reused or refused)[0]
    answer["error"] = {"code": first["reason"], "message": first["message"]}
    return jsonify(answer), 409 if reused else 422


_STATUS = {"no_act": 404, "busy": 503}  # a whole request refused by the service; 409 otherwise


def _json_body() -> Any:
    """The request's JSON (None when it is not JSON), or the 413 refusal of a body over MAX_BODY_MB: told by
    its Content-Length before anything is read, else (a stream of unknown length) by reading no more than
    one byte past the limit."""
    limit = MAX_BODY_MB * 1024 * 1024
    if request.content_length is not None and request.content_length > limit:
        return refuse(413, "body_too_large", max=MAX_BODY_MB, batch=MAX_BATCH)
    request.max_content_length = limit + 1
    try:
        over = len(request.get_data(cache=True)) > limit
    except RequestEntityTooLarge:
        over = True
    if over:
        return refuse(413, "body_too_large", max=MAX_BODY_MB, batch=MAX_BATCH)
    return request.get_json(silent=True)


def _problem(item: object) -> receiving.ReceivingError | str | None:
    """Why an item cannot be recorded: "bad_scan" (not {"code": string, …}), a limit of
    `warehouse.scan_limits` as the receiving service words it, or None."""
    if not isinstance(item, dict) or not isinstance(item.get("code"), str):
        return "bad_scan"
    code: str = item["code"]
    problem = scan_limits.code_problem(code)
    if problem is not None:
        return receiving.ReceivingError(problem, **scan_limits.code_details(code, problem))
    if scan_limits.scan_id_problem(item.get("scan_id")) is not None:
        return receiving.ReceivingError("bad_scan_id", max=scan_limits.MAX_SCAN_ID)
    return None


def _refused(index: int, item: object, why: receiving.ReceivingError | str, lang: str) -> dict[str, Any]:
    """A refused item's answer. Its scan_id is echoed when it is a valid one; its code never is (it may be
    what the journal could not hold, or a megabyte)."""
    scan_id = item.get("scan_id") if isinstance(item, dict) else None
    valid_id = scan_id if scan_id is not None and scan_limits.scan_id_problem(scan_id) is None else None
    if isinstance(why, str):
        reason, message = why, REFUSALS.say(why, lang)
    else:
        reason, message = why.reason, why.message(lang)
    return {"index": index, "status": "refused", "scan_id": valid_id, "reason": reason, "message": message}
