"""`warehouse ship …`: build an outgoing act by scanning, sign it, export it, apply the receiver's acceptance."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang, codes_or_stdin, shown
from warehouse.cli.sign import read_password
from warehouse.db import get_db
from warehouse.services import shipping
from warehouse.services.shipping import ShippingError
from warehouse.signing.errors import SigningError, message
from warehouse.signing.signers import open_signer
from warehouse.signing.trust import load_settings


def _act_id(act: str) -> int:
    with get_db().read() as s:
        return shipping.find_act(s, act).id


ship_cli = click.Group("ship", help="Outgoing transfer acts.")


@ship_cli.command("new")
@click.option("--receiver", "receiver_bin", required=True, help="the receiver's 12-digit BIN/IIN")
@click.option("--name", required=True, help="the receiver's name")
@click.option("--basis", multiple=True, help="basis document TYPE:NUMBER[:YYYY-MM-DD], e.g. ESF:KZ-123")
@click.option("--turnover", default="sale", show_default=True, type=click.Choice(list(shipping.TURNOVERS)))
@with_appcontext
def new_cmd(receiver_bin: str, name: str, basis: tuple[str, ...], turnover: str) -> None:
    """Start a draft outgoing act; the new act's id is the last line."""
    try:
        act = shipping.new_act(
            get_db(),
            receiver_bin=receiver_bin,
            receiver_name=name,
            sender=shipping.company(current_app.config),
            basis=[shipping.parse_basis(b) for b in basis],
            turnover=turnover,
            actor=cli_actor(),
        )
    except ShippingError as e:
        raise CliError(e.message(cli_lang())) from e
    click.echo(f"act {act.number}: draft to {act.receiver_name} ({act.receiver_bin})")
    click.echo(act.id)


@ship_cli.command("add")
@click.argument("act")
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.option("--station", default=None, help="station name (default: WAREHOUSE_STATION)")
@with_appcontext
def add_cmd(act: str, codes: tuple[str, ...], as_json: bool, station: str | None) -> None:
    """Put CODE… (any level) on a draft with what is inside each (stdin lines when no code is given); a
    command code (#WH:REMOVE_LAST, #WH:REMOVE_NEXT) works the draft as at the dock."""
    _scan(act, codes, as_json, station, remove=False)


@ship_cli.command("remove")
@click.argument("act")
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def remove_cmd(act: str, codes: tuple[str, ...], as_json: bool) -> None:
    """Take CODE… off a draft: back in stock."""
    _scan(act, codes, as_json, None, remove=True)


def _scan(act: str, codes: tuple[str, ...], as_json: bool, station: str | None, *, remove: bool) -> None:
    lang = cli_lang()
    db = get_db()
    items = codes_or_stdin(codes)
    try:
        act_id = _act_id(act)
    except ShippingError as e:
        raise CliError(e.message(lang)) from e
    gs = current_app.config.get("GS_SUBSTITUTES")
    where = station or current_app.config.get("STATION")
    for raw in items:
        try:
            if remove:
                result = shipping.remove_code(db, act_id, raw, station=where, actor=cli_actor(), gs_substitutes=gs)
            else:
                result = shipping.scan(db, act_id, raw, station=where, actor=cli_actor(), gs_substitutes=gs)
        except ShippingError as e:
            raise CliError(e.message(lang)) from e
        if as_json:
            click.echo(json.dumps(result.to_json(lang), ensure_ascii=False))
        else:
            click.echo(f"{result.scan_class:<8} {result.message(lang)}")


@ship_cli.command("price")
@click.argument("act")
@click.argument("gtin")
@click.argument("level", type=click.Choice([level.value for level in shipping.PRICED_LEVELS]))
@click.argument("price", required=False, type=int)
@with_appcontext
def price_cmd(act: str, gtin: str, level: str, price: int | None) -> None:
    """Set the price of a GTIN's blocks or packs on a draft, in tiyn (no PRICE: clear it)."""
    try:
        shipping.set_price(get_db(), act, gtin, level, price, actor=cli_actor())
    except ShippingError as e:
        raise CliError(e.message(cli_lang())) from e
    click.echo(f"{gtin} {level}: {price if price is not None else 'no price'}")


@ship_cli.command("show")
@click.argument("act")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_cmd(act: str, as_json: bool) -> None:
    """An outgoing act: status, codes by level, totals by GTIN, documents and the receiver's answers."""
    try:
        data = shipping.act_summary(get_db(), act).to_json()
    except ShippingError as e:
        raise CliError(e.message(cli_lang())) from e
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"act {data['number']} of {data['date']} (#{data['id']}): {data['status']}, "
        f"to {data['receiver']['name']} ({data['receiver']['bin']})"
    )
    click.echo(", ".join(f"{lvl} {n}" for lvl, n in data["levels"].items()) + f"; {data['codes']} code(s)")
    for g in data["by_gtin"]:
        click.echo(
            f"{g['gtin']} {g['name'] or ''}: blocks {g['blocks']}, packs {g['packs_total']}, "
            f"sum {g['amount'] / 100:.2f}"
        )
    click.echo(f"sum {data['amount'] / 100:.2f}")
    for d in data["documents"]:
        click.echo(f"document {d['number']}: {d['codes']} code(s), sha256 {d['sha256']}")
    for r in data["acceptances"]:
        click.echo(
            f"acceptance of part {r['transfer_part']} ({r['part']}/{r['parts']}): {r['decision']}, "
            f"{r['returned']} code(s) back in stock"
        )


@ship_cli.command("sign")
@click.argument("act")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#12 key file (.p12)",
)
@click.option("--password-file", required=True, help="file whose first line is the key's password ('-': stdin)")
@with_appcontext
def sign_cmd(act: str, key_file: Path, password_file: str) -> None:
    """Sign a draft: its documents are built, signed and stored, its codes leave the stock."""
    lang = cli_lang()
    try:
        settings = load_settings(current_app.config)
        signer = open_signer(key_file.read_bytes(), read_password(password_file), ncanode_url=settings.ncanode_url)
        outcome = shipping.sign(get_db(), act, signer, settings=settings, actor=cli_actor())
    except (ShippingError, SigningError) as e:
        raise CliError(e.message(lang)) from e
    except OSError as e:
        raise CliError.saying("not_signed", lang, reason=e.strerror or e) from e
    click.echo(
        f"act {outcome.number}: signed by {outcome.certificate.name or outcome.certificate.subject}, "
        f"{len(outcome.documents)} document(s)"
    )
    for warning in outcome.warnings:
        click.echo(f"warning: {message(warning, lang)}", err=True)


@ship_cli.command("export")
@click.argument("act")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_cmd(act: str, out: Path) -> None:
    """Write a signed act: OUT.json with OUT.p7s (its detached signature), or OUT.csv / OUT.xlsx; OUT.N.… per
    part when the act travels in several documents. The first export marks the act sent."""
    try:
        written = shipping.export(get_db(), act, out, actor=cli_actor())
    except ShippingError as e:
        raise CliError(e.message(cli_lang())) from e
    except OSError as e:
        raise CliError.saying("not_written", cli_lang(), reason=e.strerror or e) from e
    for path in written:
        click.echo(str(path))


@ship_cli.command("apply-acceptance")
@click.argument("act")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def apply_cmd(act: str, document: Path, signature: Path, as_json: bool) -> None:
    """Apply the receiver's signed acceptance (verified first): refused codes come back into stock."""
    lang = cli_lang()
    try:
        result = shipping.apply_acceptance(
            get_db(),
            act,
            document.read_bytes(),
            signature.read_bytes(),
            settings=load_settings(current_app.config),
            actor=cli_actor(),
        )
    except (ShippingError, SigningError) as e:
        raise CliError(e.message(lang)) from e
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    click.echo(
        f"act {result.number}: {result.decision} (part {result.transfer_part}, {result.part}/{result.parts}); "
        f"status {result.status}; {result.returned} code(s) back in stock"
    )
    for code in result.returned_codes:
        click.echo(f"  back in stock: {shown(code)}")
    for code in result.broken_up:
        click.echo(f"  taken in part: {shown(code)}")
    for item in result.surplus:
        note = " (still in our stock: ship it with a new act)" if item.ours else ""
        click.echo(f"  surplus at the receiver: {shown(item.code)}{note}")
    for warning in result.warnings:
        click.echo(f"warning: {shipping.warning_message(warning, lang)}", err=True)
