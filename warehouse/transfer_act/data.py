"""What an act file holds: its header (parties, basis documents) and its lines, one code each.

Also the limits every reader enforces, so that every line it yields fits the import service's columns.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Final

from warehouse.codes import Kind
from warehouse.vocab import Level

FORMAT: Final = "transfer-act/1"
GS: Final = "\x1d"
GS_TEXT: Final = "<GS>"  # how CSV and XLSX show GS: the usual scanner substitute, which codes.parse repairs
GS_PICTURE: Final = "\u241d"  # "␝", also accepted on reading: it can never be part of a real code
XLSX_MAX_ROWS: Final = 1_048_576  # Excel refuses to open a sheet with more rows

# Longest values a line or a header may carry, so that every line a reader yields fits the import
# service's columns (acts.number 100, act_codes.code 120 / identity 100, name 300, vat a 32-bit integer).
MAX_CODE: Final = 120
MAX_IDENTITY: Final = 100
MAX_NAME: Final = 300
MAX_NUMBER: Final = 100
MAX_SHORT_TEXT: Final = 50  # turnover, basis type and number
MAX_PRICE: Final = 10**15
MAX_VAT: Final = 2**31 - 1
MAX_BASIS: Final = 100

# warehouse.codes fixes the values of Kind (pack|block|sscc|aggregate|product|invalid), so look them up by value.
PACK, BLOCK, SSCC, AGGREGATE, PRODUCT, INVALID = (
    Kind(v) for v in ("pack", "block", "sscc", "aggregate", "product", "invalid")
)
LEVELS: Final = {level.value: level for level in Level}
RANK: Final = {level: level.rank for level in Level}  # a dict lookup: cheaper than the property a line
# Which kinds of code may stand at a level. Boxes and pallets carry an SSCC or a custom aggregation code.
FITS: Final = {
    Level.PALLET: frozenset({SSCC, AGGREGATE}),
    Level.BOX: frozenset({SSCC, AGGREGATE}),
    Level.BLOCK: frozenset({BLOCK}),
    Level.PACK: frozenset({PACK}),
}


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    bin: str  # БИН/ИИН: 12 digits, the last a check digit (warehouse.identifiers.valid_bin)


@dataclass(frozen=True, slots=True)
class BasisDocument:
    type: str  # "ESF" (ЭСФ), "SNT" (СНТ), …
    number: str
    date: str  # ISO YYYY-MM-DD, checked; kept as text so it can go into a JSON column as it is


@dataclass(frozen=True, slots=True)
class ActHeader:
    format: str
    number: str
    date: datetime.date
    sender: Party
    receiver: Party
    basis: tuple[BasisDocument, ...] = ()
    turnover: str | None = None


@dataclass(slots=True, unsafe_hash=True)  # not frozen: its __init__ cost 2 µs a line, a sixth of reading
class ActLine:
    """One code of an act. Equal lines compare equal wherever they were read from (location aside).
    Treat it as immutable (`dataclasses.replace` makes a changed copy): it is hashed by its fields.

    `code` is normalized (GS as U+001D); `identity` is what matching uses (pack: first 21 characters,
    block: 01+GTIN+21+serial, SSCC: its 18 digits, custom aggregate: the whole code); `parent_code` is
    the *identity* of the containing code, None at the top. `gtin` is the line's GTIN, or the code's
    when the line gives none. `declared_children` is False when the sender did not declare the contents
    (JSON: "children" absent).
    """

    location: str = field(compare=False)
    code: str
    identity: str
    kind: Kind
    level: Level
    parent_code: str | None
    gtin: str | None = None
    name: str | None = None
    price: int | None = None  # tiyn
    vat: int | None = None  # VAT amount included in the price, tiyn
    declared_children: bool = False
