"""Small things every page handler needs: the viewer's language and an act or a 404."""

from __future__ import annotations

from flask import abort
from flask_babel import get_locale

from warehouse.db import get_db
from warehouse.models import Act
from warehouse.services.acts import act_by_id


def ui_lang() -> str:
    """The language the page speaks, for messages that services word themselves."""
    return str(get_locale() or "ru")


def act_or_404(act_id: int) -> Act:
    act = act_by_id(get_db(), act_id)
    if act is None:
        abort(404)
    return act
