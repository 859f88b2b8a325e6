"""The operator's code forms (no brackets, no crypto tail) and the station's level of each.

Pack: GTIN + serial (21 characters); block: 01 GTIN 21 serial (25, "8005" price may follow after GS);
SSCC: 00 + 18 digits; anything else of 18-74 characters: a custom aggregation code. Boxes and pallets
both carry SSCCs, so an aggregate is a pallet only when it holds aggregates (`level_in_tree`).
"""

from __future__ import annotations

from warehouse.codes import GS, Kind, gtin_ok
from warehouse.identifiers import gs1_key_ok
from warehouse.transfer_act.data import ActLine as FileLine
from warehouse.vocab import Level

__all__ = ["cis_of_line", "is_aggregate", "level_of", "lookup_form", "station_identity"]


def level_of(cis: str) -> Level:
    """pack | block | box (every aggregate: see `level_in_tree` for pallets)."""
    if len(cis) == 21 and cis[:14].isdigit() and gtin_ok(cis[:14]):
        return Level.PACK
    head = cis.split(GS, 1)[0]
    if len(head) == 25 and head.startswith("01") and head[16:18] == "21" and head[2:16].isdigit():
        return Level.BLOCK
    return Level.BOX


def is_aggregate(cis: str) -> bool:
    return level_of(cis) is Level.BOX


def is_sscc(cis: str) -> bool:
    return len(cis) == 20 and cis.startswith("00") and cis.isdigit() and gs1_key_ok(cis[2:])


def cis_of_line(line: FileLine) -> str:
    """The operator's form of a transfer-act line's code."""
    if line.kind.value == "sscc":
        return "00" + line.identity
    return line.identity  # pack: 21 characters, block: 01 GTIN 21 serial, aggregate: as it is


def lookup_form(cis: str) -> str:
    """A block's code without its price: the key the operator finds it by (МРЦ optional in a look-up)."""
    return cis.split(GS, 1)[0]


def station_identity(cis: str) -> tuple[str, Kind]:
    """The station's identity and kind of a code in the operator's form (what matching compares).

    `codes.parse` cannot tell: the operator's pack has no crypto tail (21 characters; parse calls it a
    custom aggregate, a file reader refuses it as a cut pack) and its block has no 93 check.

    >>> station_identity("00048701234000000010")
    ('048701234000000010', <Kind.SSCC: 'sscc'>)
    """
    level = level_of(cis)
    if level is Level.PACK:
        return cis, Kind.PACK
    if level is Level.BLOCK:
        return lookup_form(cis), Kind.BLOCK
    if is_sscc(cis):
        return cis[2:], Kind.SSCC
    return cis, Kind.AGGREGATE
