"""`warehouse report`: PDF and Excel reports of an act from the shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from warehouse.cli.common import CliError, cli_lang
from warehouse.db import get_db
from warehouse.messages import LANGS
from warehouse.services import receiving
from warehouse.services.reporting import ReportError, ReportFormat, ReportKind, render


@click.command("report")
@click.argument("act")
@click.option("--kind", required=True, type=click.Choice([k.value for k in ReportKind]))
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, path_type=Path), help="write a PDF here")
@click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, path_type=Path), help="write an Excel workbook")
@click.option("--lang", type=click.Choice(LANGS), default=None, help="language of the report")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
@with_appcontext
def report_cmd(act: str, kind: str, pdf_out: Path | None, xlsx_out: Path | None, lang: str | None, quiet: bool) -> None:
    """Write the KIND report of ACT (id or number) as --pdf OUT or --xlsx OUT."""
    language = lang or cli_lang("ru")
    if (pdf_out is None) == (xlsx_out is None):
        raise CliError.saying("one_output", language, pdf="--pdf OUT", xlsx="--xlsx OUT", exit_code=2)  # usage
    out, fmt = (pdf_out, ReportFormat.PDF) if pdf_out is not None else (xlsx_out, ReportFormat.XLSX)
    assert out is not None

    def progress(n: int) -> None:
        if not quiet:
            click.echo(f"\r{n:,} rows", nl=False, err=True)

    try:
        render(get_db(), act, ReportKind(kind), fmt, out, language, progress=progress)
    except (ReportError, receiving.ReceivingError) as e:
        raise CliError(e.message(language)) from e
    if not quiet:
        click.echo("", err=True)
    click.echo(str(out))
