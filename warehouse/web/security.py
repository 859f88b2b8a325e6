"""Headers on every response, and cookies marked Secure over TLS.

The Content-Security-Policy allows this site's own files only: no inline script or style (the pages keep
their JavaScript and CSS in static/), no eval (htmx runs with `allowEval: false`), no framing; the one
other place a page may connect to is NCALayer's socket on this PC (NCALAYER_URL). Pages with data are
never stored by the browser or a proxy (`Cache-Control: no-store`); static files keep their caching.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface

from warehouse.signing.trust import NCALAYER_DEFAULT


def _ncalayer_origin() -> str:
    url = current_app.config.get("NCALAYER_URL") or os.environ.get("WAREHOUSE_NCALAYER_URL") or NCALAYER_DEFAULT
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("ws", "wss") and parts.netloc else NCALAYER_DEFAULT


def content_security_policy() -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",  # Data Matrix previews may be inlined as data: images
            f"connect-src 'self' {_ncalayer_origin()}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
    headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over TLS, or always when SESSION_COOKIE_SECURE."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(add_headers)
