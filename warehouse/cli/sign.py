"""`warehouse sign` and `warehouse verify`: sign a decided act with a key file, check a signed document.

`sign` writes PREFIX.json (the exact signed bytes) and PREFIX.p7s (detached CMS, DER) — for an act
split in several parts PREFIX.1.json, PREFIX.1.p7s, PREFIX.2.json, … — and records the signature in
the database. Nothing at all is written when anything fails: the files go to temporary names and are
moved into place inside the database transaction, and removed again if the commit fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_actor, cli_lang
from warehouse.db import get_db
from warehouse.services import signing as service
from warehouse.signing import acceptance
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.errors import SigningError, message
from warehouse.signing.signers import open_signer
from warehouse.signing.trust import SigningSettings, load_settings
from warehouse.signing.verdict import Verdict, demo_mark, judge

# `verify`: 0 valid, 1 invalid, 3 the signature matches but the certificate could not be checked.
UNCHECKED_EXIT = 3


def read_password(path: str) -> str:
    """The first line of the file ('-' for stdin), without its line end. Never echoed or logged."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SigningError("password_file", type(e).__name__) from None
    lines = text.splitlines()
    return lines[0] if lines else ""


def _describe(info: CertificateInfo) -> str:
    parts = [info.name or info.subject or "?"]
    parts += [f"IIN {info.iin}"] if info.iin else []
    parts += [f"BIN {info.bin}"] if info.bin else []
    parts += [info.organization] if info.organization else []
    parts += [f"issuer {info.issuer}"] if info.issuer else []
    parts.append(f"valid {info.not_before:%Y-%m-%d}..{info.not_after:%Y-%m-%d}")
    return ", ".join(parts)


def _targets(prefix: str, parts: int) -> list[tuple[Path, Path]]:
    if parts == 1:
        return [(Path(prefix + ".json"), Path(prefix + ".p7s"))]
    return [(Path(f"{prefix}.{n}.json"), Path(f"{prefix}.{n}.p7s")) for n in range(1, parts + 1)]


def _settings(ca: tuple[Path, ...] = (), crl: tuple[Path, ...] = ()) -> SigningSettings:
    return load_settings(current_app.config, extra_ca=ca, extra_crl=crl)


@click.command("sign")
@click.argument("act")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PKCS#12 key file (.p12)",
)
@click.option("--password-file", required=True, help="file whose first line is the key's password ('-': stdin)")
@click.option("--out", "prefix", required=True, help="writes PREFIX.json and PREFIX.p7s")
@click.option("--force", is_flag=True, help="replace existing output files")
@with_appcontext
def sign_cmd(act: str, key_file: Path, password_file: str, prefix: str, force: bool) -> None:
    """Sign the decision on ACT (id or number) with a key file; write the document and its signature."""
    lang = cli_lang()
    moved: list[Path] = []
    temporary: list[Path] = []
    try:
        settings = _settings()
        password = read_password(password_file)
        signer = open_signer(key_file.read_bytes(), password, ncanode_url=settings.ncanode_url)
        del password

        def place(outcome: service.SigningOutcome) -> None:
            # Inside the transaction: if a file cannot be placed, the signature is not recorded either.
            targets = _targets(prefix, len(outcome.documents))
            if not force and any(p.exists() for pair in targets for p in pair):
                raise SigningError("output_exists")
            for (json_path, p7s_path), doc, signature in zip(
                targets, outcome.documents, outcome.signatures, strict=True
            ):
                for path, data in ((json_path, doc.content), (p7s_path, signature)):
                    folder = path.parent if str(path.parent) else Path(".")
                    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
                    temporary.append(Path(name))
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                        f.flush()
                        os.fsync(f.fileno())
            for tmp, final in zip(temporary, [p for pair in targets for p in pair], strict=True):
                os.replace(tmp, final)
                moved.append(final)
            temporary.clear()

        outcome = service.sign_act(get_db(), act, signer, settings=settings, actor=cli_actor(), before_commit=place)
    except SigningError as e:
        _cleanup(temporary, moved)
        raise CliError(e.message(lang)) from e
    except OSError as e:
        _cleanup(temporary, moved)
        raise CliError.saying("not_signed", lang, reason=e.strerror or e) from e
    except BaseException:
        _cleanup(temporary, moved)
        raise
    click.echo(f"act {outcome.number}: signed by {_describe(outcome.certificate)}")
    for warning in outcome.warnings:
        click.echo(f"warning: {message(warning, lang)}", err=True)
    for path in moved:
        click.echo(str(path))


def _cleanup(temporary: list[Path], moved: list[Path]) -> None:
    for path in [*temporary, *moved]:
        with contextlib.suppress(OSError):
            path.unlink()


@click.command("verify")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ca",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="trusted CA certificate (besides WAREHOUSE_TRUSTED_CA)",
)
@click.option("--crl", multiple=True, type=click.Path(exists=True, path_type=Path), help="CRL to check against")
@with_appcontext
def verify_cmd(document: Path, signature: Path, ca: tuple[Path, ...], crl: tuple[Path, ...]) -> None:
    """Check that SIGNATURE (.p7s, DER or base64) signs exactly DOCUMENT, and by whom."""
    lang = cli_lang()
    try:
        settings = _settings(ca, crl)
        result = service.verify(settings, document.read_bytes(), signature.read_bytes())
    except SigningError as e:
        raise CliError.saying("invalid_signature", lang, problem=e.message(lang)) from e
    if result.info is not None:
        click.echo(f"signer: {_describe(result.info)}")
        click.echo(f"certificate sha256: {result.info.fingerprint_sha256}")
    if result.signing_time is not None:
        click.echo(f"signed at: {result.signing_time:%Y-%m-%d %H:%M:%S} UTC")
    summary = acceptance.read_summary(document.read_bytes())
    if summary is not None:
        click.echo(
            f"document: {acceptance.FORMAT}, act {summary.act_number} of {summary.act_date}, "
            f"decision {summary.decision}, part {summary.part} of {summary.parts}, {summary.codes} codes"
        )
        if summary.demo:
            click.echo(f"demo: {demo_mark(lang)}")
    for warning in result.warnings:
        click.echo(f"warning: {message(warning, lang)}")
    # One verdict, the same the signed page and /verify show (warehouse.signing.verdict).
    judgement = judge(result.problems)
    click.echo(f"result: {judgement.verdict}")
    if judgement.verdict is Verdict.UNCHECKED:
        raise CliError(judgement.headline(lang), exit_code=UNCHECKED_EXIT)
    if judgement.verdict is Verdict.INVALID:
        raise CliError.saying("invalid_signature", lang, problem=message(judgement.problems[0], lang))
