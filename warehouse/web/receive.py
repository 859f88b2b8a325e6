"""The receiving screen: counters, the scan field, the live journal, per-GTIN table and the code tree."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
)
from sqlalchemy import select

from hardware.station import scanners_of
from reports import datamatrix
from warehouse.db import get_db
from warehouse.events import Event, broker, ensure_relay
from warehouse.matching import COMMAND_PREFIX, Command, ScanClass, sound_of
from warehouse.models import Act, ActCode, Scan, Station, User
from warehouse.services import receiving, tree
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import ui_lang as _lang

bp = Blueprint("receive", __name__)
JOURNAL_ROWS = 30
KEEPALIVE_S = 15.0


def _station() -> str:
    return str(current_app.config["STATION"])


def journal_rows(act_id: int, after: int = 0, limit: int = JOURNAL_ROWS) -> list[dict[str, object]]:
    """The newest scans of an act, with who and where, ready for the template."""
    lang = _lang()
    with get_db().read() as s:
        stmt = (
            select(Scan, Station.name, User.username)
            .outerjoin(Station, Station.id == Scan.station_id)
            .outerjoin(User, User.id == Scan.user_id)
            .where(Scan.act_id == act_id, Scan.id > after)
            .order_by(Scan.id.desc())
            .limit(limit)
        )
        rows = []
        for scan, station, username in s.execute(stmt):
            result = receiving.result_of(scan)
            rows.append(
                {
                    "id": scan.id,
                    "time": scan.created_at,
                    "raw": scan.raw,
                    "code": scan.normalized or scan.raw,
                    "class": scan.scan_class,
                    "message": result.message(lang),
                    "station": station or "",
                    "user": username or "",
                    "source": scan.source,
                    "sound": sound_of(ScanClass(scan.scan_class)),
                    "credited": scan.credited,
                }
            )
    return rows


_NAMES: dict[tuple[str, int], dict[str, str]] = {}  # an act's product names never change once it is imported


def gtin_names(act_id: int) -> dict[str, str]:
    """GTIN -> product name of an act, read once per process: the live counters re-render on every scan."""
    db = get_db()
    key = (db.url, act_id)
    names = _NAMES.get(key)
    if names is None:
        with db.read() as s:
            rows = s.execute(
                select(ActCode.gtin, ActCode.name)
                .where(ActCode.act_id == act_id, ActCode.name.is_not(None))
                .group_by(ActCode.gtin, ActCode.name)
            ).all()
        names = {gtin: name for gtin, name in rows if gtin and name}
        if len(_NAMES) > 256:
            _NAMES.clear()
        _NAMES[key] = names
    return names


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"gtin_names": gtin_names}


def _page_context(act: Act) -> dict[str, object]:
    with get_db().read() as s:
        summary = receiving.summary(s, act)
    return {"act": act, "summary": summary, "journal": journal_rows(act.id), "station": _station()}


@bp.get("/acts/<int:act_id>")
@roles()
def screen(act_id: int) -> str:
    act = _act(act_id)
    scanners = scanners_of(current_app)
    if scanners is not None and act.status in receiving.OPEN_STATUSES:
        # this station's hardware scanners now feed the act on its screen, attributed to this person
        scanners.router.open_act(_station(), act.id, user_id=g.user.id)
    return render_template("receive/screen.html", **_page_context(act))


@bp.get("/commands")
@roles()
def commands() -> str:
    """A printable sheet of command codes: staff drive the station with the scanner alone."""
    return render_template("receive/commands.html", commands=list(Command), prefix=COMMAND_PREFIX)


@bp.get("/commands/<name>.png")
@roles()
def command_png(name: str) -> Response:
    try:
        command = Command(name)
    except ValueError:
        abort(404)
    return Response(
        datamatrix.png(COMMAND_PREFIX + command.value, scale=6, level="pack"),
        mimetype="image/png",
        headers={"Cache-Control": "max-age=86400"},
    )


@bp.get("/acts/<int:act_id>/tree")
@roles()
def tree_branch(act_id: int) -> str:
    """One level of the aggregate tree (the top when no parent is given), loaded when a node is opened."""
    act = _act(act_id)
    parent = request.args.get("parent", type=int)
    with get_db().read() as s:
        branch = tree.children(s, act.id, parent)
    return render_template("receive/_tree.html", act=act, branch=branch)


@bp.get("/acts/<int:act_id>/counters")
@roles()
def counters(act_id: int) -> str:
    act = _act(act_id)
    with get_db().read() as s:
        summary = receiving.summary(s, act)
    return render_template("receive/_counters.html", act=act, summary=summary)


@bp.post("/acts/<int:act_id>/scans")
@roles()
def scan(act_id: int) -> tuple[str, int] | str:
    raw = request.form.get("code", "")
    if not raw.strip():
        error = receiving.ReceivingError("empty_scan").message(_lang())
        return render_template("receive/_result.html", error=error), 400
    try:
        result = receiving.record_scan(
            get_db(),
            act_id,
            receiving.ScanInput(
                raw=raw,
                source="browser",
                station=_station(),
                user_id=g.user.id,
                client_scan_id=f"web:{request.form.get('scan_id') or uuid.uuid4()}",
            ),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
    except receiving.ReceivingError as e:
        return render_template("receive/_result.html", error=e.message(_lang())), 409
    return render_template(
        "receive/_result.html", result=result, message=result.message(_lang()), sound=sound_of(result.scan_class)
    )


@bp.get("/acts/<int:act_id>/events")
@roles()
def events(act_id: int) -> Response:
    """Server-sent events: rendered rows and counters, in this viewer's language."""
    act = _act(act_id)
    ensure_relay(get_db().url)
    subscription = broker.subscribe(act_id)

    def stream() -> Iterator[str]:
        last_seen = 0
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    event: Event = subscription.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    yield ": keepalive\n\n"
                    continue
                if event.kind == "scan":
                    # Render every scan newer than the last one sent: none is skipped if events were dropped.
                    rows = journal_rows(act_id, after=last_seen if last_seen else event.ref - 1)
                    for row in reversed(rows):
                        html = render_template("receive/_scan_row.html", row=row)
                        yield _sse("scan", html)
                        last_seen = max(last_seen, int(row["id"]))  # type: ignore[call-overload]
                with get_db().read() as s:
                    current = s.get(Act, act_id) or act
                    summary = receiving.summary(s, current)
                yield _sse("counters", render_template("receive/_counters.html", act=current, summary=summary))
        finally:
            broker.unsubscribe(act_id, subscription)

    return Response(
        stream_with_context(stream()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _sse(event: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.strip().splitlines())
    return f"event: {event}\n{data}\n\n"
