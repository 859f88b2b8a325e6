"""`warehouse devices token | list | revoke`: API tokens of handheld terminals, their scope and their life."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from warehouse.cli.common import CliError, cli_actor, cli_lang
from warehouse.db import get_db
from warehouse.models import User
from warehouse.services import devices

devices_cli = click.Group("devices", help="Handheld terminals and other API devices.")


@devices_cli.command("token")
@click.option("--name", required=True, help="the device's name, e.g. TSD-07")
@click.option("--station", required=True, help="the station whose acts it scans into (and reads)")
@click.option("--user", "username", default=None, help="the person scans are attributed to")
@click.option("--may-import", is_flag=True, help="it may also import acts")
@click.option("--may-read", is_flag=True, help="it may also read its station's act summaries")
@click.option(
    "--expires-in",
    "days",
    type=int,
    default=devices.DEFAULT_LIFE.days,
    show_default=True,
    metavar="DAYS",
    help=f"the token's life, 1 to {devices.MAX_LIFE.days} days",
)
@with_appcontext
def token_cmd(name: str, station: str, username: str | None, may_import: bool, may_read: bool, days: int) -> None:
    """Issue (or replace) the device's token; it is printed once, only its digest is kept. A re-issued token
    replaces the old one at once. Without --may-import or --may-read it only scans."""
    lang = cli_lang()
    if not 1 <= days <= devices.MAX_LIFE.days:  # checked before timedelta() can overflow
        raise CliError(devices.DeviceError("bad_life", max=devices.MAX_LIFE.days).message(lang))
    with get_db().write() as s:
        user = None
        if username:
            user = s.execute(select(User).where(User.username == username)).scalar()
            if user is None:
                raise CliError.saying("no_such_user", lang, username=username)
        token = devices.issue_token(
            s,
            name,
            station,
            user,
            may_import=may_import,
            may_read=may_read,
            expires_in=timedelta(days=days),
            actor=cli_actor(),
        )
    click.echo(token)


@devices_cli.command("revoke")
@click.argument("name")
@with_appcontext
def revoke_cmd(name: str) -> None:
    """Revoke the device's token: its next request is refused. `devices token` issues a new one."""
    try:
        with get_db().write() as s:
            revoked = devices.revoke_token(s, name, actor=cli_actor())
    except devices.DeviceError as e:
        raise CliError(e.message(cli_lang())) from e
    click.echo(f"{name}: token revoked" if revoked else f"{name}: token was revoked already")


COLUMNS = ("NAME", "STATION", "PERSON", "SCOPE", "EXPIRES", "LAST SEEN", "REVOKED")


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat(timespec="seconds")


@devices_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON object a device")
@with_appcontext
def list_cmd(as_json: bool) -> None:
    """Every handheld with a token: its station, person, scope, expiry (UTC), last request and revocation."""
    tokens = devices.list_tokens(get_db())
    if as_json:
        for t in tokens:
            row = {
                "name": t.name,
                "station": t.station,
                "person": t.person,
                "scope": [s.value for s in t.scope],
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                "last_seen_at": t.last_seen_at.isoformat() if t.last_seen_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo("\t".join(COLUMNS))
    for t in tokens:
        scope = ",".join(s.value for s in t.scope)
        cells = (t.name, t.station or "-", t.person or "-", scope, _when(t.expires_at), _when(t.last_seen_at))
        click.echo("\t".join((*cells, _when(t.revoked_at))))
