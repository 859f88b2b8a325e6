"""What every `warehouse` command shares: the language of its messages, who acts, how it fails."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

LANGUAGES = ("ru", "kk", "en")


def cli_lang(default: str = "en") -> str:
    """WAREHOUSE_LANG, else the locale's language when it is one of ours."""
    env = os.environ.get("WAREHOUSE_LANG") or os.environ.get("LANG", "")
    return env[:2] if env[:2] in LANGUAGES else default


def cli_actor() -> str:
    """Who the audit trail names for a shell command: the operating-system user."""
    return f"cli:{os.environ.get('USER') or os.getuid()}"


def cli_fail(message: str) -> NoReturn:
    """Exit non-zero with a one-line reason on stderr, as scripts expect."""
    click.echo(message.replace("\n", " "), err=True)
    sys.exit(1)
