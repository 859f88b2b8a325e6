"""The `warehouse` command: a Flask CLI group (see ../shared/design.md for the contract).

One module a command group; each parses its arguments, calls a service and prints. A command that
refuses raises `CliError` (warehouse.cli.common): a one-line reason on stderr, a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from warehouse import migrate
from warehouse.cli.acts import acts_cli, scan_cmd
from warehouse.cli.backup import backup_cmd, restore_cmd
from warehouse.cli.codes import codes_cli
from warehouse.cli.common import CliError, cli_lang
from warehouse.cli.devices import devices_cli
from warehouse.cli.operator import operator_cli
from warehouse.cli.reports import report_cmd
from warehouse.cli.scanners import scanners_cli
from warehouse.cli.ship import ship_cli
from warehouse.cli.sign import sign_cmd, verify_cmd
from warehouse.cli.stock import stock_cli
from warehouse.cli.trust import trust_cli
from warehouse.cli.users import users_cli
from warehouse.config import DEMO_MARKER
from warehouse.db import get_db
from warehouse.factory import create_app


def _app_factory() -> Any:
    return create_app()


cli = FlaskGroup(
    name="warehouse",
    create_app=_app_factory,
    add_default_commands=False,
    help="Receiving and transfer-act workstation.",
)


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int, help="request threads (live screens need none)")
@with_appcontext
def run(host: str, port: int, threads: int) -> None:
    """Serve the workstation with uvicorn (bound to 127.0.0.1 unless told otherwise).

    Flask runs in request threads; the live screens' streams run on the event loop and hold none.
    """
    from hardware.config import ScannerConfigError
    from warehouse.services.backup_schedule import start_backups
    from warehouse.services.operator_sync import start_worker
    from warehouse.station.scanners import start_scanners
    from warehouse.web.serving import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}: other machines on the network can reach this station", err=True)
    try:
        scanners = start_scanners(app)
    except ScannerConfigError as e:  # a bad scanner configuration must say so, not start half a station
        raise CliError(f"scanners: {e}") from e
    backups = start_backups(get_db(), app.config, Path(app.instance_path))
    operator = start_worker(get_db(), app.config, Path(app.instance_path))  # quiet without WAREHOUSE_OPERATOR_URL
    click.echo(f"Serving on http://{host}:{port}/")
    try:
        serve(app, host, port, threads)
    finally:
        scanners.stop()
        if operator is not None:
            operator.stop()
        if backups is not None:
            backups.stop()  # journals what the readers still hold: nothing a scanner sent is lost on stop


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Upgrade the schema to the newest revision."""
    db = get_db()
    migrate.upgrade(db.engine)
    click.echo(f"schema at {migrate.current_revision(db.engine)}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """The schema's revision ("empty" before the first upgrade)."""
    click.echo(migrate.current_revision(get_db().engine) or "empty")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    migrate.revision(get_db().engine, message)


@cli.command("demo")
@click.option(
    "--operator",
    "with_operator",
    is_flag=True,
    help="then serve the station beside an operator emulator on loopback where a demo act waits (stops with it)",
)
@click.option("--port", default=5000, show_default=True, type=int, help="the station's port (with --operator)")
@with_appcontext
def demo(with_operator: bool, port: int) -> None:
    """Load demo users staff/staff, lead/lead, admin/admin and a demo act (idempotent)."""
    from warehouse.services import demo as demo_service
    from warehouse.services.users import badge_key

    for line in demo_service.load(get_db(), badge_key=badge_key(current_app.config["SECRET_KEY"])):
        click.echo(line)
    # The demo signs without an NCA RK trust store (the public NCA test keys chain to no published root):
    # explicitly, by this marker, and everything it signs carries "demo": true in the signed bytes.
    marker = Path(current_app.instance_path) / DEMO_MARKER
    if not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(
            "This station is a demo: it signs with untrusted keys, and everything it signs is marked\n"
            '"demo, not legally valid". Delete this file to sign strictly (warehouse trust update first).\n',
            "utf-8",
        )
    click.echo(f"demo mode: on ({marker}); signatures are marked demo, not legally valid")
    if with_operator:
        _serve_with_operator(Path(current_app.instance_path), port)


def _serve_with_operator(instance: Path, port: int) -> None:
    """The emulator in a child process, the station logged in to it, then `warehouse run` as another child
    with the settings pointing at it; the emulator stops when the station does."""
    import os
    import signal
    import subprocess
    import sys

    from warehouse.services import demo_operator
    from warehouse.services.operator_errors import OperatorServiceError

    try:
        operator = demo_operator.start(instance)
    except demo_operator.DemoOperatorError as e:
        raise CliError(f"operator emulator: {e}") from e
    try:
        try:
            session = demo_operator.login(instance, operator)
        except OperatorServiceError as e:
            raise CliError(e.message(cli_lang())) from e
        click.echo(f"operator emulator: {operator.url} (logged in as BIN {session.participant_bin})")
        settings = " ".join(f"{k}={v}" for k, v in operator.env().items())
        click.echo(f"  act {demo_operator.DEMO_OPERATOR_ACT} waits there: the station's worker fetches it within")
        click.echo(f"  a minute, or use Sync on /operator, or in another shell: {settings} warehouse operator sync")
        # The worker syncs every 30 s here unless told otherwise (300 s by default: too long for a first look).
        env = {"WAREHOUSE_OPERATOR_SYNC_SECONDS": "30"} | dict(os.environ) | operator.env()
        command = [sys.executable, "-c", "from warehouse.cli import main; main()", "run", "--port", str(port)]
        station = subprocess.Popen(command, env=env)  # noqa: S603 (our own interpreter and command)
        try:
            station.wait()
        except KeyboardInterrupt:
            # In a terminal the station had the same Ctrl-C: it stops cleanly (its backups journal what the
            # readers hold), so wait for it rather than kill it; told to stop otherwise, it is told once.
            try:
                station.wait(timeout=5)
            except subprocess.TimeoutExpired:
                station.send_signal(signal.SIGINT)
                station.wait()
    finally:
        operator.stop()


for _command in (
    codes_cli,
    acts_cli,
    scan_cmd,
    devices_cli,
    report_cmd,
    scanners_cli,
    sign_cmd,
    verify_cmd,
    stock_cli,
    ship_cli,
    users_cli,
    backup_cmd,
    restore_cmd,
    trust_cli,
    operator_cli,
):
    cli.add_command(_command)


def main() -> None:
    cli.main(prog_name="warehouse")
