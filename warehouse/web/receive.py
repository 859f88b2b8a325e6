"""The receiving screen: counters, the scan field, the live journal, per-GTIN table and the code tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from hardware.image import Symbol
from reports import datamatrix
from warehouse import scan_limits
from warehouse.db import get_db
from warehouse.events import Event
from warehouse.matching import COMMAND_PREFIX, Command, ScanClass, sound_of
from warehouse.models import Act
from warehouse.services import receiving, screens, signing
from warehouse.services.acts import act_by_id
from warehouse.services.receiving import stations
from warehouse.station.routing import route_code
from warehouse.station.scanners import scanners_of
from warehouse.vocab import OUTGOING_COMMANDS, RECEIVING_COMMANDS, ActStatus
from warehouse.web import live, photos
from warehouse.web.access import roles
from warehouse.web.common import act_or_404 as _act
from warehouse.web.common import browser_scan_key
from warehouse.web.common import ui_lang as _lang
from warehouse.web.live import Fragments

bp = Blueprint("receive", __name__)


def _station() -> str:
    return str(current_app.config["STATION"])


def _stop_mode() -> bool:
    return bool(current_app.config.get("STOP_MODE"))


def journal_rows(act_id: int, after: int = 0) -> list[dict[str, object]]:
    """The newest scans of an act, with who and where, ready for the template."""
    lang = _lang()
    rows = []
    for entry in screens.journal(get_db(), act_id, after=after):
        scan = entry.scan
        result = receiving.result_of(scan)
        rows.append(
            {
                "id": scan.id,
                "time": scan.created_at,
                "raw": scan.raw,
                "code": scan.normalized or scan.raw,
                "class": scan.scan_class,
                "message": result.message(lang),
                "station": entry.station,
                "user": entry.user,
                "source": scan.source,
                "sound": sound_of(ScanClass(scan.scan_class), scan.reason),
                "credited": scan.credited,
                "opens": entry.opens,
            }
        )
    return rows


def gtin_names(act_id: int) -> dict[str, str]:
    return screens.gtin_names(get_db(), act_id)


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"gtin_names": gtin_names}


@dataclass(frozen=True)
class Feed:
    """Which act this station's hardware scanners feed (`act_id` None: none), as the act page says."""

    act_id: int | None
    number: str | None


def _feed() -> Feed | None:
    """None when this process reads no scanners (`flask run`, tests): there is nothing to point."""
    scanners = scanners_of(current_app)
    if scanners is None:
        return None
    fed = scanners.router.act_for(_station())
    act = act_by_id(get_db(), fed) if fed is not None else None
    return Feed(fed, act.number if act is not None else None)


DATABASE_CHECK_S = 2.0
"""Seconds between the stream's looks at the sink's database state (config LIVE_DATABASE_CHECK_SECONDS):
the banner shows and goes within that, without the stream asking the database."""


def _database_banner() -> str:
    """The banner that says this station's scanners lost the database (when, how many scans wait for it),
    or its empty element: read from the sink in memory, never from the database, which is what is gone."""
    scanners = scanners_of(current_app)
    since = scanners.sink.database_lost_since if scanners is not None else None
    if scanners is None or since is None:
        return render_template("receive/_database.html", lost=None)
    at = datetime.fromtimestamp(since, UTC).strftime("%H:%M")  # UTC, as the journal's times
    return render_template("receive/_database.html", lost=at, held=scanners.sink.held)


def _head_context(state: screens.Receiving) -> dict[str, object]:
    """What the act's header shows (number, parties, mode, status, what can be done): the page renders it
    and the live stream re-renders it whenever it changed."""
    act = state.act
    return {
        "act": act,
        "feed": _feed(),
        "open_statuses": receiving.OPEN_STATUSES,
        "demo_signed": act.status == ActStatus.SIGNED and signing.is_demo_signed(get_db(), act.id),
    }


def _counters_context(state: screens.Receiving) -> dict[str, object]:
    """The counters region: counts per level, discrepancies, the opened aggregate and "complete"."""
    return {
        "act": state.act,
        "summary": state.summary,
        "opened": state.opened,
        "complete": state.complete,
        "stops": state.stops,
    }


def _page_context(act: Act) -> dict[str, object]:
    state = screens.receiving_state(get_db(), act.id, screens.last_opened(get_db(), act.id), stop_mode=_stop_mode())
    if state is None:
        abort(404)
    return {
        **_head_context(state),
        **_counters_context(state),
        "journal": journal_rows(act.id),
        "station": _station(),
        "database_banner": Markup(_database_banner()),  # noqa: S704 (our own partial, escaped)
    }


@bp.get("/acts/<int:act_id>")
@roles()
def screen(act_id: int) -> str:
    """The act's receiving screen. Reading it moves no scanner (a lead reading an act in the office must not
    divert the dock): the station's scanners follow the "feed this act" button or a scanned route code."""
    act = _act(act_id)
    shown = request.args.get("scan", type=int)  # a plain form's scan, redirected here (Post/Redirect/Get)
    result = screens.station_scan(get_db(), act.id, shown, _station()) if shown is not None else None
    answer = Markup(_banner(result)) if result is not None else ""  # noqa: S704 (our own partial, escaped)
    return render_template("receive/screen.html", answer=answer, **_page_context(act))


@bp.post("/acts/<int:act_id>/scanners")
@roles()
def feed(act_id: int) -> WerkzeugResponse | tuple[str, int]:
    """This station's hardware scanners feed this act from now on, attributed to the person who asked."""
    act = _act(act_id)
    scanners = scanners_of(current_app)
    if scanners is None or act.status not in receiving.OPEN_STATUSES:
        message = _("No scanners of this station can feed this act.")
        return render_template("error.html", code=409, message=message), 409
    scanners.router.open_act(_station(), act.id, user_id=g.user.id)
    stations.receive_at(get_db(), act.id, _station())  # its handhelds are this station's from now on
    current_app.logger.info("station %s: scanners feed act %s (%s)", _station(), act.id, g.user.username)
    return redirect(url_for("receive.screen", act_id=act.id))


@bp.get("/acts/<int:act_id>/route.png")
@roles()
def route_png(act_id: int) -> Response:
    """The act's route code as a Data Matrix: a scanner of the station that scans it feeds the act."""
    act = _act(act_id)
    return Response(
        datamatrix.png(route_code(act.id), scale=4, level="pack"),
        mimetype="image/png",
        headers={"Cache-Control": "max-age=86400"},
    )


@bp.get("/commands")
@roles()
def commands() -> str:
    """A printable sheet of command codes: staff drive the station with the scanner alone."""
    groups = [(_("Receiving"), RECEIVING_COMMANDS), (_("Outgoing acts"), OUTGOING_COMMANDS)]
    return render_template("receive/commands.html", groups=groups, prefix=COMMAND_PREFIX)


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
    branch = screens.tree_branch(get_db(), act.id, parent)
    return render_template("receive/_tree.html", act=act, branch=branch)


@bp.get("/acts/<int:act_id>/counters")
@roles()
def counters(act_id: int) -> str:
    state = screens.receiving_state(get_db(), act_id, screens.last_opened(get_db(), act_id), stop_mode=_stop_mode())
    if state is None:
        abort(404)
    return render_template("receive/_counters.html", **_counters_context(state))


@bp.post("/acts/<int:act_id>/scans")
@roles()
def scan(act_id: int) -> tuple[str, int] | WerkzeugResponse:
    """A scan from the screen's field: the banner for htmx. The plain form (a scan typed before the page's
    scripts loaded, or a browser without them; its text as typed: `codes.parse` repairs the layout) is
    answered Post/Redirect/Get: 303 to the screen naming the journal row, whose banner it shows, so a
    reload shows the screen again and never posts the scan twice; a refusal is flashed there."""
    result, error, status = _record(act_id)
    if request.headers.get("HX-Request"):
        if result is None:
            return render_template("receive/_result.html", error=error), status
        return _banner(result), status
    if result is None:
        flash(error, "error")
        return redirect(url_for("receive.screen", act_id=act_id), 303)
    return redirect(url_for("receive.screen", act_id=act_id, scan=result.scan_id), 303)


def _banner(result: receiving.ScanResult) -> str:
    return render_template(
        "receive/_result.html",
        result=result,
        message=result.message(_lang()),
        sound=sound_of(result.scan_class, result.outcome.reason),
        stopped=_stop_mode() and result.scan_class.is_error,  # the next scan waits for Enter or CONFIRM
    )


def _record(act_id: int) -> tuple[receiving.ScanResult | None, str, int]:
    """The posted scan journaled: its result, or None with the refusal in the reader's language and the
    answer's status."""
    raw = request.form.get("code") or request.form.get("typed", "")
    if not raw.strip():
        return None, receiving.ReceivingError("empty_scan").message(_lang()), 400
    problem = scan_limits.code_problem(raw)
    if problem is not None:  # what the journal cannot hold (a NUL from a crafted form): said, nothing written
        error = receiving.ReceivingError(problem, **scan_limits.code_details(raw, problem)).message(_lang())
        return None, error, 422
    try:
        result = receiving.record_scan(
            get_db(),
            act_id,
            receiving.ScanInput(
                raw=raw,
                source="browser",
                station=_station(),
                user_id=g.user.id,
                client_scan_id=browser_scan_key(request.form.get("scan_id")),
                stop_on_error=_stop_mode(),
            ),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
    except receiving.ReceivingError as e:
        return None, e.message(_lang()), 409
    return result, "", 200


@bp.post("/acts/<int:act_id>/photo")
@roles()
def photo(act_id: int) -> tuple[str, int] | str:
    """Every code in a photo from the screen's Photo button, each through the one scan path (source photo)."""
    lang = _lang()
    try:
        picture = photos.read_upload(request)
    except photos.PhotoError as e:
        return render_template("receive/_result.html", error=e.message(lang)), 422

    def scan(n: int, symbol: Symbol) -> photos.Outcome:
        result = receiving.record_scan(
            get_db(),
            act_id,
            receiving.ScanInput(
                raw=symbol.text,
                source=photos.SOURCE,
                station=_station(),
                user_id=g.user.id,
                client_scan_id=picture.scan_key(n),
                stop_on_error=_stop_mode(),
            ),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
        return result, result.message(lang), sound_of(result.scan_class, result.outcome.reason)

    lines, sound = photos.answer_each(picture, scan, lang)
    return render_template("receive/_photo_result.html", lines=lines, sound=sound)


@bp.get("/acts/<int:act_id>/events")
@roles()
@live.screen
def events(act_id: int) -> Response:
    """Server-sent events, in this viewer's language: the new journal rows, and on every change of the act
    the regions that show its state, rendered from the page's own partials: the counters (with the opened
    aggregate and "complete") and the header (mode, status, what can be done) when it reads differently;
    the banner of a database lost by this station's scanners as it shows and goes (looked at on each tick)."""
    _act(act_id)
    last_seen = 0
    opened_id = screens.last_opened(get_db(), act_id)
    head_sent: str | None = None  # the page's own header may be older than the stream: the first event sends it
    stop_mode = _stop_mode()
    banner_sent: str | None = None

    def database() -> Fragments:
        nonlocal banner_sent
        banner = _database_banner()
        if banner != banner_sent:
            banner_sent = banner
            yield "database", banner

    def render(event: Event) -> Fragments:
        nonlocal last_seen, opened_id, head_sent
        if event.kind == live.TICK:  # the database may be gone: only the sink's state is read
            yield from database()
            return
        if event.kind == "scan":
            # Render every scan newer than the last one sent: none is skipped if events were dropped.
            rows = journal_rows(act_id, after=last_seen if last_seen else event.ref - 1)
            for row in reversed(rows):
                yield "scan", render_template("receive/_scan_row.html", row=row)
                last_seen = max(last_seen, int(row["id"]))  # type: ignore[call-overload]
                if row["station"] == _station():  # the dock is scanning: its screens' people are at work
                    live.in_use()
                if row["opens"] is not None:
                    opened_id = int(row["opens"])  # type: ignore[call-overload]
            if len(rows) >= screens.JOURNAL_ROWS:  # more scans than one read: the opening may be among the rest
                opened_id = screens.last_opened(get_db(), act_id)
        state = screens.receiving_state(get_db(), act_id, opened_id, stop_mode=stop_mode)
        if state is None:  # acts are never deleted; this only satisfies the type
            return
        yield "counters", render_template("receive/_counters.html", **_counters_context(state))
        head = render_template("receive/_head.html", **_head_context(state))
        if head != head_sent:  # swapped only on a change: an open menu or a focused button stays as it is
            head_sent = head
            yield "head", head
        # Last: a render that failed on the database (it went away) sends nothing, and must not count the
        # banner as sent.
        yield from database()

    tick = float(current_app.config.get("LIVE_DATABASE_CHECK_SECONDS", DATABASE_CHECK_S))
    return live.stream(act_id, render, current=("head", "counters", "database"), tick=tick)
