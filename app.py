"""Entry point: `flask --app app run` and WSGI servers load `app` from here; `warehouse` is the CLI."""

from warehouse.factory import create_app

__all__ = ["app", "create_app"]

app = create_app()
