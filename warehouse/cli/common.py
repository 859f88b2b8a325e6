"""What every `warehouse` command shares: the language of its messages, who acts, how it refuses."""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

import click

from warehouse.messages import LANGS, N_, Phrasebook

# The command line's own refusals; a domain error brings its own words (`.message(lang)`).
MESSAGES = Phrasebook(
    "cli",
    {
        "not_imported": N_("not imported ({count} problem(s)): {location}: {problem}"),
        "no_such_user": N_("no such user: {username}"),
        "one_output": N_("give exactly one of {pdf} or {xlsx}"),
        "not_written": N_("not written: {reason}"),
        "not_signed": N_("not signed: {reason}"),
        "invalid_signature": N_("invalid: {problem}"),
    },
)


class CliError(click.ClickException):
    """A command refuses: a one-line reason on stderr and a non-zero exit code (1 unless told).

    Raised with the domain error's message in the user's language, e.g.
    ``raise CliError(e.message(lang)) from e``. Unlike click's own errors it prints no "Error:" prefix:
    scripts read the reason as it is.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(" ".join(message.splitlines()))
        self.exit_code = exit_code  # type: ignore[misc]  # a ClassVar in click's stubs; main() reads the instance's

    @classmethod
    def saying(cls, reason: str, lang: str, /, *, exit_code: int = 1, **params: object) -> CliError:
        """One of the command line's own refusals (`MESSAGES`), in `lang`."""
        return cls(MESSAGES.say(reason, lang, **params), exit_code)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), file=file, err=True)  # stderr unless a file is given


def cli_lang(default: str = "en") -> str:
    """WAREHOUSE_LANG, else the locale's language when it is one of ours."""
    env = os.environ.get("WAREHOUSE_LANG") or os.environ.get("LANG", "")
    return env[:2] if env[:2] in LANGS else default


def cli_actor() -> str:
    """Who the audit trail names for a shell command: the operating-system user."""
    return f"cli:{os.environ.get('USER') or os.getuid()}"


def codes_or_stdin(codes: tuple[str, ...]) -> list[str]:
    """The codes given, else stdin's lines (as a script pipes them, CR LF or LF)."""
    return list(codes) if codes else [line.rstrip("\r\n") for line in sys.stdin]


def shown(code: str) -> str:
    """A code on one unambiguous line: GS as \\u001d, quotes and control characters escaped."""
    return json.dumps(code, ensure_ascii=False)[1:-1]
