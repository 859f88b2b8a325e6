"""The application factory: wires configuration, database, i18n, CSRF and blueprints together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from warehouse import config as config_module
from warehouse import i18n, migrate
from warehouse.db import Database
from warehouse.services import importing
from warehouse.services.reporting import sweep_report_folders
from warehouse.web import register
from warehouse.web.extensions import csrf, htmx

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None, instance_path: Path | str | None = None) -> Flask:
    folder = Path(instance_path) if instance_path else config_module.instance_path()
    app = Flask(
        "warehouse",
        root_path=str(ROOT),
        instance_path=str(folder.resolve()),
        template_folder="templates",
        static_folder="static",
    )
    app.config.update(config_module.load(Path(app.instance_path), overrides))

    db = Database(app.config["DATABASE_URL"])
    app.extensions["warehouse.db"] = db
    if app.config["AUTO_MIGRATE"]:
        migrate.upgrade(db.engine)
        importing.clean_abandoned_imports(db)  # what a killed import left behind, before anyone looks
    sweep_report_folders(folder.resolve())  # report files nobody came back for, a killed report's too

    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)

    register(app)
    return app
