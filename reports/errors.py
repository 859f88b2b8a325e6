"""The one error type of the reports: raised with a message a person (or the CLI) can show as is."""

from __future__ import annotations


class ReportError(Exception):
    """A report cannot be produced: unsupported language, missing fonts, a code no symbol can carry."""
