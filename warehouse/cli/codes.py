"""`warehouse codes parse`: what the station makes of a code, for people and for scripts."""

from __future__ import annotations

import json
import os
import sys

import click

from warehouse import codes
from warehouse.cli.common import cli_lang
from warehouse.messages import LANGS

codes_cli = click.Group("codes", help="Marking codes.")


@codes_cli.command("parse")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per code")
@click.option("--lang", type=click.Choice(LANGS), default=None, help="language of the messages")
@click.option(
    "--gs",
    "gs_substitutes",
    multiple=True,
    help="text a scanner sends instead of GS (repeatable; default: WAREHOUSE_GS_SUBSTITUTES or <GS>|{GS}|~)",
)
@click.argument("code", nargs=-1)
def parse_cmd(as_json: bool, lang: str | None, gs_substitutes: tuple[str, ...], code: tuple[str, ...]) -> None:
    """Parse CODE... (or stdin, one code a line) and print kind, identity, repairs and any error."""
    language = lang or cli_lang()
    subs = gs_substitutes or tuple(
        s for s in os.environ.get("WAREHOUSE_GS_SUBSTITUTES", "|".join(codes.DEFAULT_GS_SUBSTITUTES)).split("|") if s
    )
    # stdin lines keep everything but the line break: a trailing Tab or space is part of what was read
    inputs = code if code else (line.rstrip("\n") for line in sys.stdin)
    for text in inputs:
        parsed = codes.parse(text, gs_substitutes=subs)
        if as_json:
            click.echo(json.dumps(parsed.to_json(language), ensure_ascii=False))
            continue
        repairs = ",".join(parsed.repairs) or "-"
        shown = codes.visible_gs(parsed.normalized or "")
        tail = parsed.error.message(language) if parsed.error else ""
        click.echo("\t".join(x for x in (parsed.kind.value, parsed.identity or "-", shown or "-", repairs, tail) if x))
