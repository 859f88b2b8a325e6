"""`warehouse backup OUT` and `warehouse restore FILE`: the station's database, copied and put back.

Both refuse a PostgreSQL database with the pg_dump / pg_restore command to use (docs/backup.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_lang
from warehouse.db import get_db
from warehouse.messages import N_, Phrasebook
from warehouse.services.backup import BackupCheck, BackupError, backup, restore
from warehouse.timeutil import utcnow

MESSAGES = Phrasebook(
    "backup_cli",
    {
        "written": N_(
            "Backup written: {path} ({acts} acts, {scans} scans, {entries} audit entries, the chain verifies)"
        ),
        "restored": N_("Restored from {source}; the database it replaced is kept as {kept}"),
        "restored_new": N_("Restored from {source}"),
    },
)


def _json(check: BackupCheck, **more: object) -> str:
    data = {
        "path": str(check.path),
        "size": check.size,
        "revision": check.revision,
        "acts": check.acts,
        "scans": check.scans,
        "audit_entries": check.audit_entries,
        **more,
    }
    return json.dumps(data, ensure_ascii=False)


@click.command("backup")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="what the copy holds, as JSON")
@with_appcontext
def backup_cmd(out: Path, as_json: bool) -> None:
    """Copy the station's database to OUT (a file, or a folder to put a dated file in) while it runs; the
    copy is checked (integrity, audit chain) before it takes its name."""
    lang = cli_lang()
    if out.is_dir():
        out = out / f"warehouse-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.sqlite3"
    try:
        made = backup(get_db(), out)
    except BackupError as e:
        raise CliError(e.message(lang)) from e
    if as_json:
        click.echo(_json(made))
        return
    click.echo(
        MESSAGES.say("written", lang, path=str(made.path), acts=made.acts, scans=made.scans, entries=made.audit_entries)
    )


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="what was restored and where the old database is kept")
@with_appcontext
def restore_cmd(file: Path, as_json: bool) -> None:
    """Replace the station's database with FILE, once FILE passes every check (integrity, a known schema, the
    audit chain). The station must be stopped; the database replaced is kept beside it."""
    lang = cli_lang()
    try:
        done = restore(get_db(), file)
    except BackupError as e:
        raise CliError(e.message(lang)) from e
    if as_json:
        click.echo(_json(done.check, replaced=str(done.replaced) if done.replaced else None))
    elif done.replaced is not None:
        click.echo(MESSAGES.say("restored", lang, source=str(file), kept=str(done.replaced)))
    else:
        click.echo(MESSAGES.say("restored_new", lang, source=str(file)))
