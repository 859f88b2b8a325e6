"""Words people read for the closed sets of the domain, in their language."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import escape

ROLE = {"staff": _l("Warehouse staff"), "lead": _l("Logistics lead"), "admin": _l("Administrator")}
DIRECTION = {"incoming": _l("Incoming"), "outgoing": _l("Outgoing")}
STATUS = {
    "new": _l("New"),
    "receiving": _l("Receiving"),
    "closed": _l("Awaiting decision"),
    "decided": _l("Decided"),
    "signed": _l("Signed"),
    "draft": _l("Draft"),
    "sent": _l("Sent"),
}


def _label(table: dict[str, object]) -> object:
    def label(value: str) -> str:
        return str(table.get(value, escape(value)))

    return label


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        role_label=_label(ROLE), direction_label=_label(DIRECTION), status_label=_label(STATUS)
    )
