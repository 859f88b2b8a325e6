"""Small things every page handler needs: the viewer's language, an act or a 404, a file to download."""

from __future__ import annotations

import io
import uuid

from flask import abort, render_template, request, send_file
from flask_babel import get_locale
from werkzeug.wrappers import Response

from warehouse import scan_limits
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


def attachment(data: bytes, name: str, mimetype: str) -> Response:
    """A download named `name`, whatever its letters: an act's number is Cyrillic (ТА-000001), and a
    header goes out as Latin-1, so werkzeug writes the name twice (RFC 6266): an ASCII fallback and
    `filename*=UTF-8''…` (RFC 5987), which every browser prefers."""
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


def browser_scan_key(form_scan_id: str | None) -> str:
    """The journal's key of a scan from a page: the page's own id (a UUID) when it is one the journal can
    hold, else a fresh one (a crafted form loses only its retry safety, never the scan)."""
    if form_scan_id and scan_limits.scan_id_problem(form_scan_id) is None:
        return f"web:{form_scan_id}"
    return f"web:{uuid.uuid4()}"


def refusal(code: int, message: str) -> tuple[str, int]:
    """The refusal as a page, or, for htmx, as the fragment it swaps in where the answer was awaited (an
    upload's status, a scan's banner): never a whole error page inside a banner, never nothing at all."""
    template = "_refusal.html" if request.headers.get("HX-Request") else "error.html"
    return render_template(template, code=code, message=message), code
