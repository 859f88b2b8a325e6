"""The stock page and outgoing acts: build by scanning, totals, sign, export, apply the receiver's acceptance.

Thin handlers: parse the form, call one service (`services/stock.py`, `services/shipping.py`), render a page
or, for htmx, the fragment. Anyone signed in may look at the stock, open a box and scan what ships; signing
and applying the receiver's acceptance are for leads.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_htmx import make_response
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from hardware.image import Symbol
from warehouse.db import get_db
from warehouse.events import Event
from warehouse.models import Act
from warehouse.services import screens, shipping, stock
from warehouse.services.acts import read_act
from warehouse.services.shipping import ShippingError
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Signer
from warehouse.signing.trust import SigningSettings
from warehouse.station.scanners import scanners_of
from warehouse.vocab import ActStatus, Direction, Role
from warehouse.web import live, photos
from warehouse.web.access import roles
from warehouse.web.common import attachment
from warehouse.web.common import ui_lang as _lang
from warehouse.web.live import Fragments
from warehouse.web.sign_flow import SignFlow
from warehouse.web.sign_flow import settings as _settings

bp = Blueprint("shipping", __name__)
LEADS = (Role.LEAD, Role.ADMIN)
MAX_DOCUMENT = 64 * 1024 * 1024  # an acceptance document: the operator's 30 MB, with room
STOCK_STATUS = {
    "in_stock": _l("In stock"),
    "reserved": _l("On a draft act"),
    "shipped": _l("Shipped"),
    "disaggregated": _l("Opened"),
}
MOVE = {
    "received": _l("Received"),
    "disaggregated": _l("Opened"),
    "reserved": _l("Put on an act"),
    "released": _l("Taken off an act"),
    "shipped": _l("Shipped"),
    "returned": _l("Returned by the receiver"),
}
TURNOVER = {"sale": _l("Sale"), "commission": _l("Commission"), "return": _l("Return"), "transfer": _l("Transfer")}
DECISION = {
    "accepted": _l("Accepted"),
    "accepted_with_discrepancies": _l("Accepted with discrepancies"),
    "rejected": _l("Rejected"),
}


@bp.app_context_processor
def _labels() -> dict[str, object]:
    def label(table: dict[str, object]) -> object:
        return lambda value: str(table.get(value, value))

    return {
        "stock_status_label": label(STOCK_STATUS),
        "move_label": label(MOVE),
        "turnover_label": label(TURNOVER),
        "ship_decision_label": label(DECISION),
    }


def _act(act_id: int) -> Act:
    """The outgoing act, else 404."""
    return read_act(get_db(), act_id, refuse=lambda _reason: NotFound(), direction=Direction.OUTGOING)


# --- stock ---------------------------------------------------------------------------------------------------


@bp.get("/stock")
@roles()
def stock_page() -> str:
    query = (request.args.get("q") or "").strip()
    gs_substitutes = current_app.config.get("GS_SUBSTITUTES")
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "stock-found":
        found = screens.stock_found(get_db(), query, gs_substitutes)
        return render_template("stock/_found.html", query=query, found=found)
    shown = screens.stock_page(get_db(), query, gs_substitutes)
    return render_template(
        "stock/index.html", totals=shown.totals, aggregates=shown.aggregates, query=query, found=shown.found
    )


@bp.get("/stock/events")
@roles()
@live.screen
def stock_events() -> Response:
    """Server-sent events: the stock tables, re-rendered whenever the stock changes."""

    def render(_event: Event) -> Fragments:
        shown = screens.stock_page(get_db())
        yield "stock", render_template("stock/_levels.html", totals=shown.totals, aggregates=shown.aggregates)

    return live.stream(None, render)


@bp.post("/stock/open")
@roles()
def open_aggregate() -> Response:
    code = request.form.get("code", "")
    try:
        result = stock.open_aggregate(
            get_db(),
            code,
            user=g.user,
            station=str(current_app.config["STATION"]),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
    except stock.StockError as e:
        flash(e.message(_lang()), "error")
        return redirect(url_for("shipping.stock_page", q=code))
    flash(_("Opened: %(n)s code(s) inside are now held one by one.", n=result.contents), "info")
    return redirect(url_for("shipping.stock_page", q=result.code))


# --- outgoing acts ---------------------------------------------------------------------------------------------


@bp.get("/ship")
@roles()
def index() -> str:
    return render_template("shipping/index.html", acts=screens.drafts(get_db()))


@bp.get("/ship/new")
@roles()
def new_form() -> str:
    return render_template("shipping/new.html", form={}, error=None, turnovers=shipping.TURNOVERS)


@bp.post("/ship/new")
@roles()
def create() -> Response | tuple[str, int]:
    form = request.form
    basis = []
    if form.get("basis_number", "").strip():
        basis.append(
            shipping.Basis(
                form.get("basis_type", "ESF").strip(),
                form["basis_number"].strip(),
                form.get("basis_date", "").strip() or None,
            )
        )
    try:
        act = shipping.new_act(
            get_db(),
            receiver_bin=form.get("receiver_bin", ""),
            receiver_name=form.get("receiver_name", ""),
            sender=shipping.company(current_app.config),
            basis=basis,
            turnover=form.get("turnover", "sale"),
            user=g.user,
        )
    except ShippingError as e:
        return render_template(
            "shipping/new.html", form=form, error=e.message(_lang()), turnovers=shipping.TURNOVERS
        ), 400
    return redirect(url_for("shipping.page", act_id=act.id))


def _page_context(act: Act) -> dict[str, object]:
    station = current_app.config["STATION"]
    shown = screens.outgoing(get_db(), act, str(station))
    return {
        "act": act,
        "summary": shown.summary,
        "totals": shown.summary.totals,
        "prices": shown.prices,
        "roots": shown.roots,
        "removing_next": shown.removing_next,
        "station": station,
    }


@bp.get("/ship/<int:act_id>")
@roles()
def page(act_id: int) -> str:
    act = _act(act_id)
    scanners = scanners_of(current_app)
    if scanners is not None and act.status == ActStatus.DRAFT:
        # this station's hardware scanners now put codes on this draft
        scanners.router.open_act(str(current_app.config["STATION"]), act.id, user_id=g.user.id)
    return render_template("shipping/act.html", **_page_context(act))


@bp.get("/ship/<int:act_id>/totals")
@roles()
def totals(act_id: int) -> str:
    act = _act(act_id)
    return render_template("shipping/_totals.html", **_page_context(act))


@bp.get("/ship/<int:act_id>/prices")
@roles()
def prices(act_id: int) -> str:
    """The product lines and their price fields, as saved (a window fetches it once nothing typed is pending)."""
    return render_template("shipping/_prices.html", **_page_context(_act(act_id)))


@bp.get("/ship/<int:act_id>/events")
@roles()
@live.screen
def events(act_id: int) -> Response:
    """Server-sent events: the act's status, totals and scanned codes, whoever changed them."""
    _act(act_id)

    def render(event: Event) -> Fragments:
        context = _page_context(_act(act_id))
        yield "status", render_template("shipping/_status.html", **context)
        if event.kind == "status":  # the act left the draft (signed, maybe elsewhere): its scan field goes
            yield "scan-form", render_template("shipping/_scan.html", **context)
        yield "totals", render_template("shipping/_totals.html", **context)
        # The price fields too: a window where a price is typed and not saved holds this one back (shipping.js).
        yield "prices", render_template("shipping/_prices.html", **context)
        yield "roots", render_template("shipping/_roots.html", **context)

    return live.stream(act_id, render)


@bp.post("/ship/<int:act_id>/codes")
@roles()
def add(act_id: int) -> Response | tuple[str, int]:
    """A scan from the screen's field: the banner for htmx. The plain form (no scripts; its text as typed) is
    answered Post/Redirect/Get: 303 to the screen, which tells the answer once in its banner, so a reload
    never posts the scan again (outgoing refusals are not journaled: there is no row to name)."""
    raw = request.form.get("code") or request.form.get("typed", "")
    remove = request.form.get("action") == "remove"
    htmx = bool(request.headers.get("HX-Request"))
    try:
        call = shipping.remove_code if remove else shipping.scan  # a scan may be a command code
        result = call(
            get_db(),
            act_id,
            raw,
            user=g.user,
            station=str(current_app.config["STATION"]),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
    except ShippingError as e:
        if not htmx:
            flash(e.message(_lang()), "scan:refused")
            return redirect(url_for("shipping.page", act_id=act_id), 303)
        return render_template("shipping/_result.html", error=e.message(_lang())), 409
    if not htmx:
        flash(result.message(_lang()), f"scan:{result.scan_class}")
        return redirect(url_for("shipping.page", act_id=act_id), 303)
    # Every open window of the act, this one included, hears of an added code through its live stream.
    html = render_template("shipping/_result.html", result=result, message=result.message(_lang()))
    response: Response = make_response(html, 200 if result.added else 422)
    return response


@bp.post("/ship/<int:act_id>/photo")
@roles()
def photo(act_id: int) -> tuple[str, int] | str:
    """Every code in a photo from the screen's Photo button, each put on the draft as a scan would."""
    lang = _lang()
    try:
        picture = photos.read_upload(request)
    except photos.PhotoError as e:
        return render_template("shipping/_result.html", error=e.message(lang)), 422

    def scan(_n: int, symbol: Symbol) -> photos.Outcome:
        result = shipping.scan(
            get_db(),
            act_id,
            symbol.text,
            user=g.user,
            station=str(current_app.config["STATION"]),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
        return result, result.message(lang), "ok" if result.added else "error"

    lines, sound = photos.answer_each(picture, scan, lang)
    return render_template("shipping/_photo_result.html", lines=lines, sound=sound)


@bp.post("/ship/<int:act_id>/prices")
@roles()
def set_prices(act_id: int) -> Response | tuple[str, int] | str:
    """Save the prices changed on the page, all or none. A field still showing what the page was rendered
    with (`was:` beside it) is not written: a price saved meanwhile in another window stays."""
    form = request.form
    htmx = bool(request.headers.get("HX-Request"))
    changed: dict[tuple[str, str], int | None] = {}
    typed: dict[str, str] = {}
    try:
        for key, value in form.items():
            if not key.startswith("price:"):
                continue
            typed[key] = value
            _prefix, gtin, level = key.split(":", 2)
            text = value.strip().replace(",", ".").replace(" ", "")
            if f"was:{gtin}:{level}" in form and form[f"was:{gtin}:{level}"].strip() == value.strip():
                continue
            changed[(gtin, level)] = _tiyn(text)
        shipping.set_prices(get_db(), act_id, changed, user=g.user)
    except (ShippingError, ValueError) as e:
        message = (e if isinstance(e, ShippingError) else ShippingError("bad_price")).message(_lang())
        if htmx:  # the fields keep what was typed, with the reason; nothing was saved
            context = _page_context(_act(act_id))
            table = render_template("shipping/_prices.html", **context, typed=typed)
            return table + render_template("shipping/_prices_note.html", error=message), 422
        flash(message, "error")
        return redirect(url_for("shipping.page", act_id=act_id))
    if htmx:
        table = render_template("shipping/_prices.html", **_page_context(_act(act_id)))
        return table + render_template("shipping/_prices_note.html", saved=True)
    flash(_("Prices saved."), "info")
    return redirect(url_for("shipping.page", act_id=act_id))


def _tiyn(text: str) -> int | None:
    """Tenge as typed on the page ("1120", "1120.50") in tiyn; None for an empty field. Raises ValueError."""
    if not text:
        return None
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", text):
        raise ValueError(text)
    return round(float(text) * 100)


# --- signing --------------------------------------------------------------------------------------------------


class _Outgoing(SignFlow):
    """An outgoing transfer act: once signed, its codes leave the stock."""

    template = "shipping/sign.html"
    done_endpoint = "shipping.page"
    refusals = (SigningError, ShippingError)

    def prepare(self, act: Act, settings: SigningSettings) -> shipping.Prepared:
        return shipping.prepare(get_db(), act.id)

    def sign(self, act: Act, signer: Signer, settings: SigningSettings) -> shipping.SignOutcome:
        return shipping.sign(get_db(), act.id, signer, settings=settings, user=g.user)

    def accept(
        self, act: Act, signatures: list[bytes], created_at: datetime | None, settings: SigningSettings
    ) -> shipping.SignOutcome:
        return shipping.accept_signatures(get_db(), act.id, signatures, settings=settings, user=g.user)

    def signed_message(self) -> str:
        return str(_("The act is signed: its codes have left the stock."))

    def context(self, act: Act) -> dict[str, object]:
        return _page_context(act)


FLOW = _Outgoing()


@bp.get("/ship/<int:act_id>/sign")
@roles(*LEADS)
def sign_page(act_id: int) -> Response | tuple[str, int]:
    act = _act(act_id)
    if act.status != ActStatus.DRAFT:
        return redirect(url_for("shipping.page", act_id=act_id))
    return FLOW.page(act)


@bp.post("/ship/<int:act_id>/sign/certificate")
@roles(*LEADS)
def certificate(act_id: int) -> tuple[str, int]:
    _act(act_id)
    return FLOW.certificate()


@bp.post("/ship/<int:act_id>/sign/key")
@roles(*LEADS)
def sign_with_key(act_id: int) -> Response | tuple[str, int]:
    return FLOW.with_key(_act(act_id))


@bp.post("/ship/<int:act_id>/sign/ncalayer")
@roles(*LEADS)
def sign_with_ncalayer(act_id: int) -> Response | tuple[str, int]:
    return FLOW.with_ncalayer(_act(act_id))


# --- export and the receiver's answer -----------------------------------------------------------------------------


@bp.get("/ship/<int:act_id>/export/<int:part>.<fmt>")
@roles()
def download(act_id: int, part: int, fmt: str) -> Response:
    act = _act(act_id)
    kind = "json" if fmt == "p7s" else fmt
    try:
        files = shipping.export_files(get_db(), act_id, kind, part=part)
    except ShippingError as e:
        flash(e.message(_lang()), "error")
        return redirect(url_for("shipping.page", act_id=act_id))
    wanted = [f for f in files if f.name.endswith("." + fmt)]
    if not wanted:
        abort(404)
    response = attachment(wanted[0].data, wanted[0].name, wanted[0].mimetype)  # first: nothing changes if it fails
    shipping.mark_exported(get_db(), act.id, [wanted[0].name], user=g.user)
    return response


@bp.post("/ship/<int:act_id>/acceptance")
@roles(*LEADS)
def apply_acceptance(act_id: int) -> Response | str | tuple[str, int]:
    act = _act(act_id)
    document, signature = request.files.get("document"), request.files.get("signature")
    if document is None or signature is None or not document.filename or not signature.filename:
        flash(_("Choose the acceptance document and its signature."), "error")
        return redirect(url_for("shipping.page", act_id=act_id))
    try:
        result = shipping.apply_acceptance(
            get_db(),
            act_id,
            document.read(MAX_DOCUMENT),
            signature.read(MAX_DOCUMENT),
            settings=_settings(),
            user=g.user,
        )
    except (ShippingError, SigningError) as e:
        return render_template("shipping/act.html", **_page_context(act), error=e.message(_lang())), 400
    lang = _lang()
    warnings = [shipping.warning_message(w, lang) for w in result.warnings]
    return render_template("shipping/applied.html", act=_act(act_id), result=result, warnings=warnings)
