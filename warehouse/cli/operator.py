"""`warehouse operator ...`: the exchange with the operator (ИС МПТ)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from warehouse.cli.common import CliError, cli_lang
from warehouse.cli.operator_station import STATION_COMMANDS
from warehouse.messages import N_, Phrasebook


@click.group("operator")
def operator_cli() -> None:
    """Exchange with the operator: its emulator; login, sync and status."""


MESSAGES = Phrasebook(
    "operator_cli",
    {
        "public_host": N_("refusing to serve the operator emulator on {host}: use a loopback address or --force"),
        "unknown_profile": N_("unknown operator profile {name}"),
        "bad_seed": N_("seed {path} not loaded: {problem}"),
    },
)


@operator_cli.command("emulate")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--seed", "seeds", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", default="kz_ismet_v3", show_default=True)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="the emulator's SQLite file")
@click.option("--delay", default=0.2, show_default=True, type=float, help="seconds a document stays IN_PROGRESS")
@click.option("--force", is_flag=True, help="serve on a non-loopback host (the /_emu controls stay off)")
def emulate_cmd(
    host: str, port: int, seeds: tuple[Path, ...], profile_name: str, db: Path | None, delay: float, force: bool
) -> None:
    """Serve the operator's API on loopback; every --seed act waits for its receiver's acceptance."""
    from warehouse import transfer_act
    from warehouse.operator.emulator.server import LOOPBACK, build
    from warehouse.operator.profile import UnknownProfile, get_profile

    lang = cli_lang()
    if host not in LOOPBACK and not force:
        raise CliError(MESSAGES.say("public_host", lang, host=host))
    try:
        profile = get_profile(profile_name)
    except UnknownProfile as e:
        raise CliError(MESSAGES.say("unknown_profile", lang, name=profile_name)) from e
    try:
        server = build(profile, host, port, db=db, seeds=seeds, delay=delay)
    except (transfer_act.ActFormatError, ValueError) as e:
        raise CliError(MESSAGES.say("bad_seed", lang, path=", ".join(map(str, seeds)), problem=str(e))) from e
    click.echo(f"http://{host}:{server.port}{profile.prefix}")  # the base URL (WAREHOUSE_OPERATOR_URL), for scripts
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


for _command in STATION_COMMANDS:  # login, sync, status, check, send, cancel (warehouse/cli/operator_station.py)
    operator_cli.add_command(_command)
