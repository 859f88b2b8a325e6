"""`warehouse users`: what an administrator needs for logins at the station (PINs, badges, lockouts).

PINs and badges are read from the terminal without echo (a badge scanner types into it), twice; with
stdin not a terminal they are read as lines, so scripts can pipe them.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang
from warehouse.db import get_db
from warehouse.messages import N_, Phrasebook
from warehouse.services import logins, users

MESSAGES = Phrasebook(
    "users",
    {
        "bad_pin": N_("a PIN is 4 to 12 digits"),
        "bad_badge": N_("the badge is empty"),
        "badge_taken": N_("this badge belongs to someone else already"),
        "no_such_user": N_("no such user: {username}"),
        "mismatch": N_("the two entries differ"),
        "not_locked": N_("{username} has no failed logins to forget"),
    },
)


def _refuse(reason: str, **params: object) -> CliError:
    return CliError(MESSAGES.say(reason, cli_lang(), **params))


def _secret_twice(what: str) -> str:
    first = click.prompt(what, hide_input=True, err=True)
    second = click.prompt(f"{what} (again)", hide_input=True, err=True)
    if first.strip() != second.strip():
        raise _refuse("mismatch")
    return str(first).strip()


@click.group("users")
def users_cli() -> None:
    """PINs, badges and lockouts of the people who log in."""


@users_cli.command("set-pin")
@click.argument("username")
@with_appcontext
def set_pin_cmd(username: str) -> None:
    """Set the PIN a lead or an administrator gives after scanning their badge."""
    pin = _secret_twice("PIN")
    try:
        users.set_pin(get_db(), username, pin, actor=cli_actor())
    except users.UserError as e:
        raise _refuse(e.reason, username=username) from e
    click.echo(f"PIN set for {username}")


@users_cli.command("set-badge")
@click.argument("username")
@with_appcontext
def set_badge_cmd(username: str) -> None:
    """Give a person a badge (scan it twice), replacing the one they had."""
    badge = _secret_twice("Badge")
    key = users.badge_key(current_app.config["SECRET_KEY"])
    try:
        users.set_badge(get_db(), username, badge, key, actor=cli_actor())
    except users.UserError as e:
        raise _refuse(e.reason, username=username) from e
    click.echo(f"badge set for {username}")


@users_cli.command("unlock")
@click.argument("username")
@with_appcontext
def unlock_cmd(username: str) -> None:
    """Lift a lockout after failed logins (the person may try again at once)."""
    if not logins.unlock(get_db(), username, actor=cli_actor()):
        raise _refuse("not_locked", username=username)
    click.echo(f"{username} unlocked")
