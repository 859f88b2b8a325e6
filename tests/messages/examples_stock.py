"""Realistic parameters for every message of the "stock" phrasebook (the stock ledger)."""

from __future__ import annotations

from typing import Any

from warehouse.vocab import Level

PALLET = "00046000012345678903"
BOX = "00046000012345678910"
BLOCK = "0104600000000017215Abc9x"
PACK = "0104600000000024215ab!cD"

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "stock": {
        "no_act": {},
        "not_decided": {},
        "not_incoming": {},
        "not_in_stock": {"code": PACK},
        "not_an_aggregate": {"code": PACK},
        "contents_unknown.pallet": {"level": Level.PALLET, "code": PALLET},
        "contents_unknown.box": {"level": Level.BOX, "code": BOX},
        "contents_unknown.block": {"level": Level.BLOCK, "code": BLOCK},
        "inside_aggregate.pallet": {"level": Level.BOX, "code": BOX, "parent": PALLET, "parent_level": Level.PALLET},
        "inside_aggregate.box": {"level": Level.BLOCK, "code": BLOCK, "parent": BOX, "parent_level": Level.BOX},
        "inside_aggregate.block": {"level": Level.PACK, "code": PACK, "parent": BLOCK, "parent_level": Level.BLOCK},
        "not_available.pallet": {"level": Level.PALLET, "code": PALLET, "act": "ТА-000042"},
        "not_available.box": {"level": Level.BOX, "code": BOX, "act": "ТА-000042"},
        "not_available.block": {"level": Level.BLOCK, "code": BLOCK, "act": "ТА-000042"},
        "already_opened.pallet": {"level": Level.PALLET, "code": PALLET},
        "already_opened.box": {"level": Level.BOX, "code": BOX},
        "already_opened.block": {"level": Level.BLOCK, "code": BLOCK},
        "changed": {},
    }
}
