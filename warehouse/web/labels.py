"""Words people read for the closed sets of the domain, in their language."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import escape

ROLE = {"staff": _l("Warehouse staff"), "lead": _l("Logistics lead"), "admin": _l("Administrator")}
DIRECTION = {"incoming": _l("Incoming"), "outgoing": _l("Outgoing")}
LEVEL = {"pallet": _l("Pallet"), "box": _l("Box"), "block": _l("Block"), "pack": _l("Pack")}
MODE = {"trusted": _l("Trusted mode"), "full_check": _l("Full check")}
SCAN_CLASS = {
    "matched": _l("Counted"),
    "duplicate": _l("Duplicate"),
    "surplus": _l("Surplus"),
    "foreign": _l("Another act"),
    "wrong_product": _l("Wrong product"),
    "product": _l("Product barcode"),
    "invalid": _l("Not a marking code"),
    "reversed": _l("Undone"),
    "command": _l("Command"),
}
COMMAND = {
    "UNDO": _l("Undo my last scan"),
    "FULL_CHECK": _l("Switch to full check"),
    "TRUSTED": _l("Switch to trusted mode"),
    "OPEN": _l("Open the next box or pallet"),
    "CLOSE": _l("End receiving"),
}
DISCREPANCY = {
    "missing": _l("Missing"),
    "surplus": _l("Surplus"),
    "foreign": _l("From another act"),
    "wrong_product": _l("Wrong product"),
    "duplicate": _l("Duplicate"),
}
RESOLUTION = {"accept": _l("Accept as is"), "reject": _l("Reject the line"), "found_later": _l("Found later")}
REASON = {
    "shortage": _l("Shortage"),
    "damage": _l("Damage"),
    "surplus": _l("Surplus"),
    "wrong_product": _l("Wrong product"),
    "mis_sorted": _l("Mis-sorted"),
}
DECISION = {
    "accepted": _l("Accept"),
    "accepted_with_discrepancies": _l("Accept with discrepancies"),
    "rejected": _l("Reject the act"),
}
STATUS = {
    "new": _l("New"),
    "receiving": _l("Receiving"),
    "closed": _l("Awaiting decision"),
    "decided": _l("Decided"),
    "signed": _l("Signed"),
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    # an outgoing act, once the receiver's signed acceptance is applied
    "accepted": _l("Accepted"),
    "discrepancies": _l("Accepted with discrepancies"),
    "rejected": _l("Rejected"),
}


def _label(table: dict[str, object]) -> object:
    def label(value: str) -> str:
        return str(table.get(value, escape(value)))

    return label


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        role_label=_label(ROLE),
        direction_label=_label(DIRECTION),
        status_label=_label(STATUS),
        mode_label=_label(MODE),
        level_label=_label(LEVEL),
        class_label=_label(SCAN_CLASS),
        discrepancy_label=_label(DISCREPANCY),
        command_label=_label(COMMAND),
        resolution_label=_label(RESOLUTION),
        reason_label=_label(REASON),
        decision_label=_label(DECISION),
    )
    app.jinja_env.filters["gs"] = show_gs


def show_gs(code: str) -> str:
    """GS has no glyph: show it as ␝ so people see where the separators are (Jinja still escapes)."""
    return code.replace("\x1d", "\u241d")
