"""Blueprints: thin handlers that parse the request, call one service, render a page or a partial."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from warehouse.db import DatabaseUnavailable
from warehouse.web import access, live, security
from warehouse.web.common import refusal


def register(app: Flask) -> None:
    from warehouse.web import (
        acts,
        admin,
        api,
        auth,
        handheld,
        imports,
        labels,
        operator,
        receive,
        reports,
        review,
        scanners,
        shipping,
        signing,
    )

    labels.init_app(app)
    security.init_app(app)
    live.init_app(app)
    auth.init_app(app)

    app.before_request(access.enforce)
    app.register_blueprint(auth.bp)
    app.register_blueprint(acts.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(receive.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(signing.bp)
    app.register_blueprint(shipping.bp)
    app.register_blueprint(scanners.bp)
    app.register_blueprint(handheld.bp)
    app.register_blueprint(operator.bp)

    @app.context_processor
    def inject() -> dict[str, object]:
        return {"current_user": g.get("user")}

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError) -> tuple[str, int]:
        return refusal(400, _("The form has expired or did not come from this station. Reload the page and try again."))

    @app.errorhandler(DatabaseUnavailable)
    def database_unavailable(e: DatabaseUnavailable) -> tuple[str, int]:
        # The station's database is gone (or held past its timeout): say so, not a 500 traceback page.
        current_app.logger.error("database unavailable: %s", e.orig)
        return refusal(
            503,
            _(
                "The station cannot reach its database, or another program holds it. Nothing was changed: try "
                "again in a minute."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[str, int]:
        code = e.code or 500
        if code == 413:
            limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) / (1024 * 1024)
            return refusal(413, _("The file is larger than this station accepts (%(mb)s MB).", mb=f"{limit:.3g}"))
        messages = {
            403: _("You do not have the rights for this page."),
            404: _("Nothing here: the page or the act does not exist."),
            405: _("This action is not allowed here."),
        }
        return refusal(code, messages.get(code, _("Something went wrong. The action was not carried out.")))
