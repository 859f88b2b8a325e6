"""The station's commands of the `operator` group (warehouse/cli/operator.py holds the group and `emulate`).

warehouse operator login --key FILE.p12 --password-file F     sign the challenge, keep the token
warehouse operator sync [--json]     one round: fetch waiting acts, send what is queued, poll statuses
warehouse operator status [--json]   the outbox and the last sync
warehouse operator check ACT         ask the operator about every code of an incoming act
warehouse operator send ACT --key FILE.p12 --password-file F     queue the signed act's document
warehouse operator cancel ACT --key FILE.p12 --password-file F   call back our shipment while it waits
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang
from warehouse.cli.sign import read_password
from warehouse.db import get_db
from warehouse.models import Act
from warehouse.operator.types import OperatorError
from warehouse.services import operator_incoming, operator_outbox, operator_session, operator_sync
from warehouse.services.acts import lookup_act
from warehouse.services.operator_errors import OperatorServiceError, from_operator
from warehouse.services.operator_session import OperatorSettings
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Signer, open_signer
from warehouse.signing.trust import load_settings
from warehouse.timeutil import utcnow
from warehouse.vocab import Direction

_KEY = click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#12 key file (.p12)",
)
_PASSWORD = click.option(
    "--password-file", required=True, help="file whose first line is the key's password ('-': stdin)"
)


def _settings() -> OperatorSettings:
    return OperatorSettings.from_config(current_app.config)


def _instance() -> Path:
    return Path(current_app.instance_path)


def _signer(key_file: Path, password_file: str) -> Signer:
    password = read_password(password_file)
    try:
        return open_signer(key_file.read_bytes(), password, ncanode_url=load_settings(current_app.config).ncanode_url)
    finally:
        del password


@click.command("login")
@_KEY
@_PASSWORD
@with_appcontext
def login_cmd(key_file: Path, password_file: str) -> None:
    """Sign the operator's challenge with a key file and keep the session (never the key or its password)."""
    lang = cli_lang()
    try:
        session = operator_session.login_with_signer(_instance(), _settings(), _signer(key_file, password_file))
    except (OperatorServiceError, SigningError) as e:
        raise CliError(e.message(lang)) from e
    click.echo(
        f"logged in to the operator as {session.participant_bin or '?'} until {session.expires_at:%Y-%m-%d %H:%M} UTC"
    )


@click.command("sync")
@click.option("--json", "as_json", is_flag=True, help="one object per document touched")
@with_appcontext
def sync_cmd(as_json: bool) -> None:
    """One round: fetch the acts waiting for acceptance, send what is queued, poll statuses."""
    lang = cli_lang()
    try:
        done = operator_sync.sync_round(get_db(), _instance(), _settings(), force=True)
    except OperatorServiceError as e:
        raise CliError(e.message(lang)) from e
    for touched in done.touched:
        if as_json:
            click.echo(json.dumps(touched.to_json(), ensure_ascii=False))
        else:
            said = f" ({'; '.join(touched.messages)})" if touched.messages else ""
            click.echo(f"{touched.direction} {touched.kind} {touched.number}: {touched.state}{said}")
    if not as_json:
        click.echo(f"imported {done.imported}, sent {done.sent}, polled {done.polled}")


def _status(settings: OperatorSettings) -> dict[str, Any]:
    db = get_db()
    session = operator_session.stored(_instance(), settings.url or "") if settings.url else None
    last = operator_sync.last_sync(db)
    docs = operator_outbox.documents(db)
    numbers: dict[int, str] = {}
    with db.read() as s:
        for act_id in {d.act_id for d in docs}:
            act = s.get(Act, act_id)
            numbers[act_id] = act.number if act else ""
    return {
        "url": settings.url,
        "profile": settings.profile,
        "session": None
        if session is None
        else {
            "bin": session.participant_bin,
            "expires_at": session.expires_at.isoformat(),
            "expired": session.expires_at <= utcnow(),
        },
        "last_sync": None
        if last is None
        else {
            "started_at": last.started_at.isoformat(),
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
            "ok": last.ok,
            "imported": last.imported,
            "sent": last.sent,
            "polled": last.polled,
            "error": last.error,
            "message": last.message,
        },
        "documents": [
            {
                "number": d.number,
                "direction": str(d.direction),
                "kind": str(d.kind),
                "state": str(d.state),
                "act_id": d.act_id,
                "act": numbers.get(d.act_id, ""),
                "doc_id": d.doc_id,
                "status": d.status,
                "messages": list(d.messages or []),
                "attempts": d.attempts,
                "sha256": d.payload_sha256,
                "updated_at": d.updated_at.isoformat(),
            }
            for d in docs
        ],
        "refused": [
            {
                "doc_id": r.doc_id,
                "number": r.number,
                "sender_bin": r.sender_bin,
                "problem": r.problem,
                "refused_at": r.refused_at.isoformat(),
            }
            for r in operator_incoming.refusals(db)
        ],
    }


@click.command("status")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def status_cmd(as_json: bool) -> None:
    """The outbox and the last sync."""
    data = _status(_settings())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"operator: {data['url'] or 'not configured'} ({data['profile']})")
    session = data["session"]
    click.echo(
        "session: none (log in)"
        if session is None
        else f"session: {session['bin']} until {session['expires_at']}{' (expired)' if session['expired'] else ''}"
    )
    last = data["last_sync"]
    if last is None:
        click.echo("last sync: never")
    else:
        how = "ok" if last["ok"] else f"stopped: {last['message'] or last['error']}"
        click.echo(
            f"last sync: {last['started_at']}, {how}; "
            f"imported {last['imported']}, sent {last['sent']}, polled {last['polled']}"
        )
    for d in data["documents"]:
        said = f" ({'; '.join(d['messages'])})" if d["messages"] else ""
        click.echo(f"{d['number']} {d['direction']} {d['kind']} act {d['act']}: {d['state']}{said}")
    for r in data["refused"]:
        click.echo(f"{r['number']} incoming shipment {r['doc_id']}: refused ({r['problem']})")


@click.command("check")
@click.argument("act")
@with_appcontext
def check_cmd(act: str) -> None:
    """Ask the operator about every code of an incoming act: those not owned by the sender or not in
    circulation become review lines of their own."""
    lang = cli_lang()
    db = get_db()
    settings = _settings()
    try:
        act_id = _act_id(act, Direction.INCOMING)
        adapter = operator_session.session_adapter(_instance(), settings)
        result = operator_incoming.check_codes(db, adapter, act_id)
    except OperatorError as e:
        raise CliError(from_operator(e).message(lang)) from e
    except OperatorServiceError as e:
        raise CliError(e.message(lang)) from e
    click.echo(
        f"{result.codes} codes: not owned by the sender {result.not_owned}, "
        f"not in circulation {result.not_in_circulation}"
    )


def _act_id(ref: str, direction: Direction) -> int:
    with get_db().read() as s:
        act = lookup_act(s, ref)
        if act is None:
            raise OperatorServiceError("no_act")
        if act.direction != direction:
            raise OperatorServiceError(f"not_{direction.value}")
        return act.id


@click.command("send")
@click.argument("act")
@_KEY
@_PASSWORD
@with_appcontext
def send_cmd(act: str, key_file: Path, password_file: str) -> None:
    """Queue the operator's document of a signed act — the acceptance of an incoming act, the shipment of an
    outgoing one — signed with a key file; `operator sync` (or the running station) sends it."""
    lang = cli_lang()
    db = get_db()
    settings = _settings()
    try:
        with db.read() as s:
            found = lookup_act(s, act)
            if found is None:
                raise OperatorServiceError("no_act")
            direction = found.direction
        signer = _signer(key_file, password_file)
        adapter = operator_session.adapter(settings)
        build = operator_outbox.acceptance_draft if direction == Direction.INCOMING else operator_outbox.shipment_draft
        draft = build(db, act, adapter, when=utcnow())
        signature = operator_outbox.sign_draft(draft, signer, load_settings(current_app.config))
        operator_outbox.enqueue(db, draft, signature, actor=cli_actor())
    except (OperatorServiceError, SigningError) as e:
        raise CliError(e.message(lang)) from e
    click.echo(f"{draft.kind} {draft.number} queued ({len(draft.body)} bytes)")


@click.command("cancel")
@click.argument("act")
@_KEY
@_PASSWORD
@with_appcontext
def cancel_cmd(act: str, key_file: Path, password_file: str) -> None:
    """Queue the cancellation of our shipment, while it waits for the receiver's acceptance."""
    lang = cli_lang()
    db = get_db()
    try:
        signer = _signer(key_file, password_file)
        draft = operator_outbox.cancel_draft(db, act, operator_session.adapter(_settings()), when=utcnow())
        signature = operator_outbox.sign_draft(draft, signer, load_settings(current_app.config))
        operator_outbox.enqueue(db, draft, signature, actor=cli_actor())
    except (OperatorServiceError, SigningError) as e:
        raise CliError(e.message(lang)) from e
    click.echo(f"{draft.kind} {draft.number} queued")


STATION_COMMANDS = (login_cmd, sync_cmd, status_cmd, check_cmd, send_cmd, cancel_cmd)
