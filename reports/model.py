"""What the renderers take: plain, typed, frozen data the caller fills from wherever it keeps acts.

Nothing here knows the database. Long lists (codes, discrepancy lines) are passed to the renderers as
iterables and consumed once, in order, so the caller can stream them from a cursor: a full truck is a
million codes and must never be a list in memory.

Levels, kinds and decisions are the StrEnums of `warehouse.vocab`; fields are typed ``str`` so a value
read from the database can be passed as it is, and ``__post_init__`` refuses a value outside the closed
set early, with the offending value in the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from warehouse.vocab import Decision as DecisionKind
from warehouse.vocab import DiscrepancyKind, Level

Progress = Callable[[int], None]  # called with the number of rows (codes, lines, labels) done so far
PROGRESS_STEP = 1_000

LEVELS: tuple[str, ...] = tuple(Level)
KINDS: tuple[str, ...] = tuple(DiscrepancyKind)
_LEVEL_SET = frozenset(LEVELS)
_KIND_SET = frozenset(KINDS)
_DECISION_SET = frozenset(DecisionKind)


def _check_level(value: str | None, what: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value not in _LEVEL_SET:
        raise ValueError(f"{what}: unknown level {value!r}; expected one of {', '.join(LEVELS)}")


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    bin: str  # БИН/ИИН, 12 digits


class BasisDoc(NamedTuple):
    """A basis document of the act: ``("ESF", "ESF-KZ-…", dt.date(2026, 11, 19))``; a plain tuple works too."""

    type: str  # ESF | SNT | anything else, shown as is
    number: str
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class ActInfo:
    number: str
    date: dt.date
    sender: Party
    receiver: Party
    basis: Sequence[BasisDoc | tuple[str, str, dt.date | None]] = ()
    turnover: str | None = None  # sale | return | transfer | …
    status: str | None = None  # the act's status in this application (new, closed, signed…)
    mode: str | None = None  # trusted | full_check
    demo: bool = False  # signed by a station in demo mode: every page and the summary say "not legally valid"


@dataclass(frozen=True, slots=True)
class GtinLine:
    """Expected and credited codes of one GTIN at one level (a row of the act's counters)."""

    gtin: str
    name: str | None
    level: str
    expected: int
    credited: int
    price_tiyn: int | None = None  # price of one unit of this level, in tiyn (1/100 tenge)

    def __post_init__(self) -> None:
        _check_level(self.level, f"GTIN line {self.gtin}")


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # accepted | accepted_with_discrepancies | rejected
    reason_codes: Sequence[str] = ()
    comment: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.decision not in _DECISION_SET:
            raise ValueError(f"unknown decision {self.decision!r}")


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    signer: str
    iin: str | None
    bin: str | None
    organisation: str | None
    cert_sha256: str  # hex of the signing certificate's SHA-256
    signed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DiscrepancyLine:
    """One line of the notice. The notice groups consecutive lines with the same ``parent_code``:
    pass them ordered by parent (``ORDER BY parent, kind, code``)."""

    kind: str
    code: str  # as stored: GS as U+001D
    level: str | None = None  # None for an invalid scan that has no level
    parent_code: str | None = None
    parent_level: str | None = None
    gtin: str | None = None
    reason: str | None = None  # a reason code (texts.reasons) or free text
    comment: str | None = None
    resolution: str | None = None  # the lead's word on the line (texts.resolutions); None: none yet

    def __post_init__(self) -> None:
        if self.kind not in _KIND_SET:
            raise ValueError(f"discrepancy {self.code!r}: unknown kind {self.kind!r}")
        _check_level(self.level, f"discrepancy {self.code!r}", optional=True)
        _check_level(self.parent_level, f"discrepancy {self.code!r} parent", optional=True)


@dataclass(frozen=True, slots=True)
class LabelItem:
    """One label: ``code`` raw as stored (GS as U+001D; SSCC as '00' + 18 digits)."""

    code: str
    level: str
    caption: str = ""  # a free line printed above the symbol (the act number)
    product: str = ""  # the product name(s) inside, as the act names them
    contents: tuple[tuple[str, int], ...] = ()  # what it holds, by level: (("block", 5), ("pack", 50))

    def __post_init__(self) -> None:
        _check_level(self.level, f"label {self.code!r}")


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One code of an act's tree, as listed in the Excel export and the outgoing act."""

    code: str
    level: str
    parent_code: str | None = None
    gtin: str | None = None
    status: str | None = None  # credited | missing | an operator status (INTRODUCED…) | …

    def __post_init__(self) -> None:
        _check_level(self.level, f"code {self.code!r}")
