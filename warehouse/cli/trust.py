"""`warehouse trust update [--from DIR]` and `warehouse trust show [--json]`: the NCA RK trust store.

Signing and verification trust only what is in the store (plus configured CAs): without it, or with a
CRL past its next update, the station refuses to sign and says to run `warehouse trust update`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_lang
from warehouse.services import trust as service
from warehouse.signing import truststore
from warehouse.signing.errors import SigningError
from warehouse.signing.trust import trust_dir, trust_urls
from warehouse.signing.truststore import TrustStore


@click.group("trust")
def trust_cli() -> None:
    """NCA RK root and intermediate certificates and CRLs that signatures are checked against."""


def _folder() -> Path:
    folder = trust_dir(current_app.config)
    assert folder is not None  # config.load always sets TRUST_DIR
    return folder


def _print(store: TrustStore, as_json: bool) -> None:
    rows = truststore.describe(store, datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for row in rows:
        until = row["valid_until"] or "-"
        label = "next update" if row["kind"] == "crl" else "valid until"
        stale = "  STALE" if row["stale"] else ""
        click.echo(f"{row['kind']:<12} {row['algorithm']:<5} {label} {until}{stale}  {row['subject']}")


@trust_cli.command("update")
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="read the certificates and CRLs from this folder instead of downloading them",
)
@click.option("--json", "as_json", is_flag=True, help="list what was installed as JSON")
@with_appcontext
def update_cmd(source: Path | None, as_json: bool) -> None:
    """Download (or read) the NCA RK root and issuing CA certificates and their CRLs into the store."""
    lang = cli_lang()
    try:
        if source is not None:
            store = service.update_from_folder(_folder(), source)
        else:
            store = service.update_from_urls(_folder(), trust_urls(current_app.config))
    except SigningError as e:
        raise CliError(e.message(lang) + (f" ({e.detail})" if e.detail else "")) from e
    _print(store, as_json)


@trust_cli.command("show")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_cmd(as_json: bool) -> None:
    """List the store: kind, algorithm, valid until (a CRL: its next update), stale or not, subject."""
    lang = cli_lang()
    try:
        store = truststore.read_store(_folder())
    except SigningError as e:
        raise CliError(e.message(lang)) from e
    if store.empty:
        raise CliError(SigningError("no_trust_store").message(lang))
    _print(store, as_json)
    if store.stale_crls():
        raise CliError(SigningError("crl_outdated").message(lang))
