"""The station's scanners: devices with their state and binding, the "whose scanner is this?" tray, and a
registration code that binds a new scanner to this station when it scans it (leads and administrators).

The readers, the router and the registration codes live in the process that reads the scanners
(`warehouse run`); when this process reads none (`scanners_of(app)` is None) the page says so and shows
only the bindings kept in the database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_htmx import make_response
from werkzeug.wrappers import Response

from hardware.scan import ReaderState
from reports import datamatrix
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import users
from warehouse.services.devices import bound_scanners
from warehouse.station.bindings import READER_KINDS
from warehouse.station.registration import Registration, RegistrationState, registration_token
from warehouse.station.scanners import ScannerStation, read_status, scanners_of
from warehouse.station.tray import TrayItem
from warehouse.vocab import Role
from warehouse.web.access import roles

bp = Blueprint("scanners", __name__, url_prefix="/scanners")
LEADS = (Role.LEAD, Role.ADMIN)
CHANGED = "scanners-changed"  # the HX-Trigger event after which the device list reloads


@dataclass(frozen=True)
class DeviceRow:
    """One scanner as the page shows it: present (with a reader) or only bound in the database."""

    key: str
    kind: str
    label: str  # the name people gave it when binding, else the device's own name
    usb_id: str
    present: bool
    state: str | None  # ReaderState value; None when no reader runs here for it
    error: str | None
    station: str | None  # its binding's station; None when unbound
    person: str | None
    works_here: bool  # unbound, but this station takes unbound scanners ("unbound": "station")


@dataclass(frozen=True)
class TrayRow:
    item: TrayItem
    registration: bool  # a registration code: its text is not shown


@dataclass(frozen=True)
class TrayGroup:
    """The tray's scans of one scanner, newest first: "whose scanner is this?"."""

    device: str
    label: str
    now_bound: str | None  # the station it is bound to by now (its scans here were still not recorded)
    rows: list[TrayRow]


def _bound_scanners() -> dict[str, tuple[str, str, str | None]]:
    """device key -> (label, station, person) for every reader-kind scanner bound in the database."""
    bound = bound_scanners(get_db(), READER_KINDS)
    return {key: (b.label, b.station, b.person) for key, b in bound.items()}


def _devices(station: ScannerStation | None) -> list[DeviceRow]:
    bound = _bound_scanners()
    rows: list[DeviceRow] = []
    seen: set[str] = set()
    if station is not None:
        takes_unbound = station.config.unbound == "station"
        for status in station.statuses():
            seen.add(status.device)
            info = status.info
            label, where, person = bound.get(status.device, ("", None, None))
            rows.append(
                DeviceRow(
                    status.device,
                    info.kind if info else "",
                    label or (info.name if info else ""),
                    info.usb_id if info else "",
                    True,
                    status.state.value,
                    status.error,
                    where,
                    person,
                    takes_unbound and where is None,
                )
            )
    else:
        states = read_status(current_app.instance_path)  # a `warehouse run` elsewhere may have written them
        for key, state in states.items():
            seen.add(key)
            label, where, person = bound.get(key, ("", None, None))
            rows.append(
                DeviceRow(
                    key,
                    "serial" if key.startswith("serial:") else "evdev",
                    label,
                    "",
                    True,
                    state.get("state"),
                    state.get("error"),
                    where,
                    person,
                    False,
                )
            )
    for key in sorted(set(bound) - seen):  # bound, but not connected now: still this station's scanner
        label, where, person = bound[key]
        rows.append(
            DeviceRow(
                key,
                "serial" if key.startswith("serial:") else "evdev",
                label,
                "",
                False,
                None,
                None,
                where,
                person,
                False,
            )
        )
    return rows


def _tray(station: ScannerStation | None, devices: list[DeviceRow]) -> list[TrayGroup]:
    if station is None:
        return []
    router = station.router
    labels = {d.key: d.label for d in devices}
    rows: dict[str, list[TrayRow]] = {}
    for item in reversed(router.tray()):  # newest first, and so are the groups
        rows.setdefault(item.scan.device, []).append(TrayRow(item, registration_token(item.scan.text) is not None))
    groups = []
    for device, items in rows.items():
        binding = router.binding_for(device) if router.is_bound(device) else None
        groups.append(TrayGroup(device, labels.get(device, ""), binding.station if binding else None, items))
    return groups


def _people() -> list[User]:
    return users.people(get_db(), active_only=True)


def _context(station: ScannerStation | None) -> dict[str, object]:
    devices = _devices(station)
    return {
        "scanners": station,
        "station_name": current_app.config["STATION"],
        "devices": devices,
        "tray": _tray(station, devices),
        "state_labels": _state_labels(),
        "reason_labels": _reason_labels(),
        "kind_labels": {"evdev": _("USB, keyboard mode"), "serial": _("Serial / USB-COM")},
    }


def _state_labels() -> dict[str, str]:
    return {
        ReaderState.RUNNING.value: _("reading"),
        ReaderState.STOPPED.value: _("stopped"),
        ReaderState.UNPLUGGED.value: _("unplugged"),
        ReaderState.FAILED.value: _("cannot be read"),
    }


def _reason_labels() -> dict[str, str]:
    return {
        "unbound": _("Not bound to a station"),
        "no_act": _("No act open at its station"),
        "refused": _("The act refused the scan"),
        "error": _("Not recorded: database error"),
        "registration": _("Registration code not used"),
    }


@bp.get("")
@roles(*LEADS)
def page() -> str:
    station = scanners_of(current_app)
    return render_template("scanners/page.html", people=_people(), registration=None, **_context(station))


@bp.get("/devices")
@roles(*LEADS)
def devices() -> str:
    """The device list and the tray (htmx polls it, and reloads it after a registration)."""
    return render_template("scanners/_devices.html", **_context(scanners_of(current_app)))


@bp.post("/tray/clear")
@roles(*LEADS)
def clear_tray() -> Response | str:
    """Take a scanner's scans (or all) out of the tray: the person has seen them."""
    station = scanners_of(current_app)
    if station is not None:
        station.router.clear_tray(request.form.get("device") or None)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("scanners.page"))
    return render_template("scanners/_devices.html", **_context(station))


@bp.post("/registrations")
@roles(*LEADS)
def register() -> tuple[str, int] | str:
    """Show a new registration code: the next unbound scanner that scans it is bound to this station."""
    station = scanners_of(current_app)
    if station is None:
        html = render_template("scanners/_registration.html", unavailable=True)
        return html, 409
    person = None
    if request.form.get("user_id"):
        person = users.active_user(get_db(), request.form.get("user_id", type=int) or 0)
        if person is None:
            html = render_template("scanners/_registration.html", error=_("No such person."))
            return html, 400
    registration = station.router.registrations.issue(
        station.station,
        issued_by=g.user.username,
        issued_by_id=g.user.id,
        user_id=person.id if person else None,
        username=person.username if person else None,
        name=(request.form.get("name") or "").strip()[:200],
        rebind=request.form.get("rebind") == "1",
    )
    context = {"registration": registration, "image": _image(registration), "person": person, **_status(registration)}
    if not request.headers.get("HX-Request"):  # without htmx: the whole page, with the code on it
        return render_template("scanners/page.html", people=_people(), **context, **_context(station))
    return render_template("scanners/_registration.html", **context)


@bp.get("/registrations/<registration_id>")
@roles(*LEADS)
def registration_status(registration_id: str) -> Response | str:
    """Whether the code was scanned yet: polled while it waits; then it replaces the code with the outcome."""
    station = scanners_of(current_app)
    registration = station.router.registration(registration_id) if station is not None else None
    if registration is None or registration.issued_by_id != g.user.id:
        abort(404)
    status = _status(registration)
    if status["state"] is RegistrationState.WAITING:
        return render_template("scanners/_registration_status.html", registration=registration, **status)
    html = render_template("scanners/_registration.html", registration=registration, done=True, **status)
    # The whole card, code and all, gives way to the outcome; the device list reloads.
    response: Response = make_response(
        html,
        retarget="#registration",
        reswap="outerHTML",
        trigger=CHANGED if status["state"] is RegistrationState.BOUND else None,
    )
    return response


def _status(registration: Registration) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"state": registration.state_at(now), "seconds_left": registration.seconds_left(now)}


def _image(registration: Registration) -> str:
    """The code as a PNG data URI: the token never appears in a URL or a server log."""
    png = datamatrix.png(registration.code, scale=8, quiet=4)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
