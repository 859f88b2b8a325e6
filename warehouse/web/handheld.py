"""The handheld page (/m): a phone or an Android terminal receives an act on the receiving screen's services.

It adds no path of its own for a scan. Logging in is `/login` (a badge alone logs staff in; the login page
speaks the handheld's layout when it is asked for from here), a scan goes to the receiving screen's
`POST /acts/<id>/scans` (idempotent by the page's `scan_id`, which static/js/handheld.js keeps on the device
while the station cannot be reached), a photo to its `POST /acts/<id>/photo`. What is here: choosing the
act (a short list of open ones, or its number or route code scanned), and the state the small screen shows
(counters and what is still to be scanned), live.
"""

from __future__ import annotations

from typing import Final

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from warehouse.db import get_db
from warehouse.events import Event
from warehouse.models import Act
from warehouse.services import receiving, screens
from warehouse.station.routing import routed_act
from warehouse.vocab import Direction
from warehouse.web import live
from warehouse.web.access import roles
from warehouse.web.common import act_or_404
from warehouse.web.live import Fragments

bp = Blueprint("handheld", __name__, url_prefix="/m")

OPEN_ACTS: Final = 10  # a phone's screen of them; any other is found by scanning its number
TO_SCAN_ROWS: Final = 30


def is_handheld_path(path: str) -> bool:
    """A path of this page (the login page then speaks the handheld's layout)."""
    return path == bp.url_prefix or path.startswith(f"{bp.url_prefix}/")


@bp.get("/")
@roles()
def index() -> str:
    """The acts this person may receive now, and the field that takes an act's number or route code."""
    return render_template("handheld/index.html", acts=screens.open_incoming(get_db(), OPEN_ACTS))


@bp.get("/find")
@roles()
def find() -> WerkzeugResponse | tuple[str, int]:
    """The act a scanned route code (#WHACT:<id>), id or number names; refused, in words, when it is no
    incoming act or receives no scans any more."""
    ref = request.args.get("code", "").strip()
    act: Act | None = None
    if ref:
        routed = routed_act(ref)
        act = screens.incoming_act(get_db(), routed if routed is not None else ref)
    if act is not None and act.status in receiving.OPEN_STATUSES:
        return redirect(url_for("handheld.act", act_id=act.id))
    page = render_template("handheld/index.html", acts=screens.open_incoming(get_db(), OPEN_ACTS), ref=ref, found=act)
    return page, 404 if act is None else 409


def _state_context(act_id: int) -> dict[str, object]:
    state = screens.receiving_state(get_db(), act_id, screens.last_opened(get_db(), act_id))
    if state is None or state.act.direction != Direction.INCOMING:
        abort(404)
    rows = screens.to_scan(state.summary, screens.gtin_names(get_db(), act_id))
    return {
        "act": state.act,
        "summary": state.summary,
        "opened": state.opened,
        "complete": state.complete,
        "to_scan": rows[:TO_SCAN_ROWS],
        "to_scan_more": max(len(rows) - TO_SCAN_ROWS, 0),
        "open_statuses": receiving.OPEN_STATUSES,
    }


@bp.get("/acts/<int:act_id>")
@roles()
def act(act_id: int) -> str:
    """The scan page: the big verdict, the scan field and the Photo button, the waiting scans, the state."""
    act_or_404(act_id)
    return render_template("handheld/act.html", **_state_context(act_id))


@bp.get("/acts/<int:act_id>/state")
@roles()
def state(act_id: int) -> str:
    """The counters and the to-scan list, asked for again once the waiting scans are sent."""
    return render_template("handheld/_state.html", **_state_context(act_id))


@bp.get("/acts/<int:act_id>/events")
@roles()
@live.screen
def events(act_id: int) -> Response:
    """The state again on every change of the act (another scanner's scans too), in this viewer's language."""
    _state_context(act_id)

    def render(event: Event) -> Fragments:
        yield "state", render_template("handheld/_state.html", **_state_context(act_id))

    return live.stream(act_id, render)
