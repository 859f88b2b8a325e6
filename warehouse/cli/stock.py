"""`warehouse stock …`: what the company owns, a code's place and history, opening an aggregate."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang, shown
from warehouse.db import get_db
from warehouse.services import stock

stock_cli = click.Group("stock", help="The stock ledger: what the company owns, code by code.")


@stock_cli.command("show")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_cmd(as_json: bool) -> None:
    """Codes held, by level and by GTIN: in stock and reserved on draft outgoing acts."""
    with get_db().read() as s:
        totals = stock.totals(s)
        aggregates = stock.aggregates(s, limit=10_000)
    if as_json:
        data = totals.to_json()
        data["aggregates"] = [
            {"code": a.code, "level": a.level, "status": a.status, "contents": a.contents, "act": a.act_number}
            for a in aggregates
        ]
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"{'level':<8}{'in stock':>10}{'reserved':>10}")
    for level, count in totals.levels.items():
        click.echo(f"{level:<8}{count.in_stock:>10}{count.reserved:>10}")
    for g in totals.by_gtin:
        parts = ", ".join(f"{lvl} {c.in_stock}+{c.reserved}" for lvl, c in g.levels.items())
        click.echo(f"{g.gtin} {g.name or ''}: {parts}")
    click.echo(f"{len(aggregates)} pallet(s) and box(es) at the top of the tree")


@stock_cli.command("find")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def find_cmd(code: str, as_json: bool) -> None:
    """Where a code (any level, any form a scanner sends) is, what holds it and its history."""
    with get_db().read() as s:
        view = stock.find(s, code, current_app.config.get("GS_SUBSTITUTES"))
        data = view.to_json() if view is not None else None
    if data is None:
        raise CliError(stock.StockError("not_in_stock", code=code).message(cli_lang()))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"{data['level']} {shown(data['code'])}: {data['status']}" + (f" on act {data['act']}" if data["act"] else "")
    )
    for parent in data["parents"]:
        click.echo(f"  in {parent['level']} {shown(parent['code'])}")
    if data["contents"]:
        click.echo(f"  holds {data['contents']} code(s) directly, {data['inside']} in all")
    for m in data["moves"]:
        click.echo(f"  {m['at'][:19]} {m['kind']}" + (f" act {m['act']}" if m["act"] else ""))


@stock_cli.command("open")
@click.argument("code")
@click.option("--station", default=None)
@with_appcontext
def open_cmd(code: str, station: str | None) -> None:
    """Open a box, pallet or block: its contents are then held one by one (journaled)."""
    try:
        result = stock.open_aggregate(
            get_db(),
            code,
            actor=cli_actor(),
            station=station or current_app.config.get("STATION"),
            gs_substitutes=current_app.config.get("GS_SUBSTITUTES"),
        )
    except stock.StockError as e:
        raise CliError(e.message(cli_lang())) from e
    click.echo(f"{result.level} {shown(result.code)} opened: {result.contents} code(s) now held one by one")


@stock_cli.command("enter")
@click.argument("act", required=False)
@with_appcontext
def enter_cmd(act: str | None) -> None:
    """Enter what an incoming act's decision accepted (every decided act not entered yet, without ACT)."""
    db, actor = get_db(), cli_actor()
    try:
        results = [stock.enter_accepted(db, act, actor=actor)] if act else stock.enter_pending(db, actor=actor)
    except stock.StockError as e:
        raise CliError(e.message(cli_lang())) from e
    for r in results:
        note = " (entered before)" if r.already else ""
        click.echo(
            f"act {r.number}: {r.decision}, {r.codes} code(s) and {r.surplus} surplus entered, "
            f"{r.conflicts} already held{note}"
        )
