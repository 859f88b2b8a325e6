"""`warehouse devices token`: issue an API token for a handheld terminal."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from warehouse.cli.common import CliError, cli_lang
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import devices

devices_cli = click.Group("devices", help="Handheld terminals and other API devices.")


@devices_cli.command("token")
@click.option("--name", required=True, help="the device's name, e.g. TSD-07")
@click.option("--station", required=True)
@click.option("--user", "username", default=None, help="the person scans are attributed to")
@with_appcontext
def token_cmd(name: str, station: str, username: str | None) -> None:
    """Issue (or replace) the device's token; it is printed once, only its digest is kept."""
    with get_db().write() as s:
        user = None
        if username:
            user = s.execute(select(User).where(User.username == username)).scalar()
            if user is None:
                raise CliError.saying("no_such_user", cli_lang(), username=username)
        token = devices.issue_token(s, name, station, user)
    click.echo(token)
