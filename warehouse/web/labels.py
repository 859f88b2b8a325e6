"""Words people read for the closed sets of the domain, in their language."""

from __future__ import annotations

import json

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from warehouse.matching import COMMAND_PREFIX
from warehouse.models import StockStatus
from warehouse.services import audit
from warehouse.vocab import (
    ActStatus,
    BasisType,
    Command,
    Decision,
    Direction,
    DiscrepancyKind,
    Level,
    Mode,
    OperatorDocKind,
    OutboxState,
    ReasonCode,
    Resolution,
    Role,
    ScanClass,
    Word,
)


def _table(words: type[Word]) -> dict[str, object]:
    return {value: _l(msgid) for value, msgid in words.labels().items()}


ROLE = _table(Role)
DIRECTION = _table(Direction)
LEVEL = _table(Level)
MODE = _table(Mode)
SCAN_CLASS = _table(ScanClass)
COMMAND = _table(Command)
DISCREPANCY = _table(DiscrepancyKind)
RESOLUTION = _table(Resolution)
REASON = _table(ReasonCode)
DECISION = _table(Decision)
STATUS = _table(ActStatus)
BASIS = _table(BasisType)
OUTBOX = _table(OutboxState)
OPERATOR_KIND = _table(OperatorDocKind)
AUDIT = {value: _l(msgid) for value, msgid in audit.ACTIONS.items()}  # actions, and the system as actor


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
        basis_label=_label(BASIS),
        outbox_label=_label(OUTBOX),
        operator_kind_label=_label(OPERATOR_KIND),
        audit_label=_label(AUDIT),  # an audit entry's action, or its actor when that is the system
        # Templates compare against members, not bare strings: `act.status == ActStatus.DRAFT`.
        ActStatus=ActStatus,
        Command=Command,
        COMMAND_PREFIX=COMMAND_PREFIX,
        Direction=Direction,
        Level=Level,
        Mode=Mode,
        Resolution=Resolution,
        Role=Role,
        ScanClass=ScanClass,
        StockStatus=StockStatus,
    )
    app.jinja_env.filters["gs"] = show_gs
    app.jinja_env.filters["details"] = show_details


# Details whose value is a member of a closed set: the value is told in the reader's language.
_DETAIL_WORDS: dict[str, dict[str, object]] = {
    # a decision taken reads as its outcome ("Accepted with discrepancies"), not as the form's button
    "decision": {**STATUS, "accepted_with_discrepancies": STATUS[ActStatus.DISCREPANCIES]},
    "reason": REASON,
    "level": LEVEL,
    "mode": MODE,
    "status": STATUS,
    "resolution": RESOLUTION,
    "direction": DIRECTION,
    "role": ROLE,
}
_DETAIL_KEYS = {key: _l(msgid) for key, msgid in audit.DETAIL_KEYS.items()}


def show_details(details: dict[str, object]) -> list[tuple[str, str]]:
    """An audit entry's details as people read them: each key's name and a closed set's value in the reader's
    language; Cyrillic as letters, not \\u041d escapes (Jinja escapes what the template prints)."""
    shown = []
    for key, value in (details or {}).items():
        words = _DETAIL_WORDS.get(str(key), {})
        if isinstance(value, str):
            text = str(words.get(value, value))
        else:
            text = json.dumps(value, ensure_ascii=False, default=str)
        shown.append((str(_DETAIL_KEYS.get(str(key), key)), text))
    return shown


GS_MARK = Markup('<span class="gs" title="GS">\u241d</span>')


def show_gs(code: str) -> Markup:
    """GS has no glyph, and neither has ␝ in the fonts a warehouse PC has (an empty box): the code is escaped
    and each GS becomes a ␝ the stylesheet hides behind a visible "GS" mark. Copied, the text keeps ␝, which
    the scan field and the act readers take for GS."""
    return GS_MARK.join(escape(part) for part in code.split("\x1d"))
