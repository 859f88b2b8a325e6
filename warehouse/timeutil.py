"""Time in one place: everything stored is UTC, shown in the station's local time."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["UTC", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
