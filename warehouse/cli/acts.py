"""`warehouse acts …` and `warehouse scan`: import, show, receive, close and decide from the shell."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang, codes_or_stdin, shown
from warehouse.db import get_db
from warehouse.services import importing, receiving, stock
from warehouse.vocab import Decision, Level, Mode, ReasonCode

acts_cli = click.Group("acts", help="Incoming transfer acts.")


@acts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.TRUSTED.value, show_default=True)
@click.option("--quiet", is_flag=True, help="no progress on stderr")
@with_appcontext
def import_cmd(file: Path, mode: str, quiet: bool) -> None:
    """Import an act file (.json, .csv, .xlsx); the new act's id is the last line."""

    def progress(n: int) -> None:
        if not quiet:
            click.echo(f"\r{n:,} codes read", nl=False, err=True)

    lang = cli_lang()
    try:
        result = importing.import_act(get_db(), file, mode=Mode(mode), progress=progress)
    except importing.ActImportError as e:
        if not quiet:
            click.echo("", err=True)
        for p in e.problems[1:]:
            click.echo(f"{p.location}: {p.message(lang)}", err=True)
        first = e.problems[0]
        raise CliError.saying(
            "not_imported", lang, count=len(e.problems), location=first.location, problem=first.message(lang)
        ) from e
    if not quiet:
        click.echo("", err=True)
    click.echo(f"act {result.number}: {result.codes} codes imported")
    click.echo(result.act_id)


@acts_cli.command("show")
@click.argument("act")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_cmd(act: str, as_json: bool) -> None:
    """Counters of an act: expected, credited and outstanding by level; surplus, duplicates, invalid."""
    try:
        summary = receiving.act_summary(get_db(), act)
    except receiving.ReceivingError as e:
        raise CliError(e.message(cli_lang())) from e
    data = summary.to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"act {data['number']} of {data['date']} (#{data['id']}): {data['status']}, mode {data['mode']}")
    click.echo(f"{'level':<8}{'expected':>10}{'credited':>10}{'outstanding':>12}")
    for level in Level:
        click.echo(
            f"{level:<8}{data['expected'][level]:>10}{data['credited'][level]:>10}{data['outstanding'][level]:>12}"
        )
    click.echo(f"surplus {data['surplus']}, duplicate {data['duplicate']}, invalid {data['invalid']}")


@acts_cli.command("close")
@click.argument("act")
@with_appcontext
def close_cmd(act: str) -> None:
    """End receiving; the result waits for the decision."""
    lang = cli_lang()
    db = get_db()
    try:
        summary = receiving.close_act(db, act, actor=cli_actor())
    except receiving.ReceivingError as e:
        raise CliError(e.message(lang)) from e
    data = summary.to_json()
    with db.read() as s:
        groups = receiving.missing(s, summary.act_id, limit=1000)
    click.echo(f"act {data['number']} closed; outstanding {data['outstanding']}, surplus {data['surplus']}")
    for g in groups:
        click.echo(f"missing in {g.parent_level or 'act'} {g.parent_code or ''}:")
        for level, code in g.codes:
            click.echo(f"  {level} {shown(code)}")


@acts_cli.command("decide")
@click.argument("act")
@click.option("--decision", required=True, type=click.Choice([d.value for d in Decision]))
@click.option("--reason", type=click.Choice([r.value for r in ReasonCode]))
@click.option("--comment")
@with_appcontext
def decide_cmd(act: str, decision: str, reason: str | None, comment: str | None) -> None:
    """Record the lead's decision on a closed act."""
    db = get_db()
    try:
        receiving.decide(db, act, decision, reason=reason, comment=comment, actor=cli_actor())
        entered = stock.enter_accepted(db, act, actor=cli_actor())  # what was accepted is ours now
    except (receiving.ReceivingError, stock.StockError) as e:
        raise CliError(e.message(cli_lang())) from e
    click.echo(f"act {act}: {decision}; {entered.codes + entered.surplus} code(s) entered into stock")


@click.command("scan")
@click.argument("act")
@click.argument("codes", nargs=-1)
@click.option("--station", default=None, help="station name (default: WAREHOUSE_STATION)")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def scan_cmd(act: str, codes: tuple[str, ...], station: str | None, as_json: bool) -> None:
    """Record scans of CODE… against an act (stdin lines when no code is given)."""
    lang = cli_lang()
    db = get_db()
    items = codes_or_stdin(codes)
    try:
        with db.read() as s:
            act_id = receiving.find_act(s, act).id
    except receiving.ReceivingError as e:
        raise CliError(e.message(lang)) from e
    gs = current_app.config.get("GS_SUBSTITUTES")
    for raw in items:
        try:
            result = receiving.record_scan(
                db,
                act_id,
                receiving.ScanInput(
                    raw=raw,
                    source="cli",
                    station=station or current_app.config["STATION"],
                    client_scan_id=f"cli-{uuid.uuid4()}",
                ),
                gs_substitutes=gs,
            )
        except receiving.ReceivingError as e:
            raise CliError(e.message(lang)) from e
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "input": raw,
                        "class": result.scan_class.value,
                        "message": result.message(lang),
                        "reason": result.outcome.reason.value,
                        "credited": result.credited,
                        "scan_id": result.scan_id,
                        "kind": result.kind,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(f"{result.scan_class.value:<14} {result.message(lang)}")
