"""Realistic parameters for every message of the "shipping" phrasebook (outgoing acts)."""

from __future__ import annotations

from typing import Any

from warehouse.vocab import Level

PALLET = "00046000012345678903"
BOX = "00046000012345678910"
BLOCK = "0104600000000017215Abc9x"
PACK = "0104600000000024215ab!cD"


EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "shipping": {
        "no_act": {},
        "not_outgoing": {},
        "not_draft": {},
        "bad_bin": {"bin": "123456789012"},
        "no_name": {},
        "own_bin": {},
        "no_company": {},
        "bad_company_bin": {"bin": "990140000000"},
        "bad_basis": {"value": "ESF:KZ-123:2026-13-01"},
        "bad_turnover": {"value": "gift"},
        "bad_price": {},
        "empty_act": {},
        "too_big.pallet": {"level": Level.PALLET, "code": PALLET, "count": 32_401, "max": 30_000},
        "too_big.box": {"level": Level.BOX, "code": BOX, "count": 30_011, "max": 30_000},
        "too_big.block": {"level": Level.BLOCK, "code": BLOCK, "count": 11, "max": 9},
        "not_signed": {},
        "bad_format": {},
        "changed": {},
        "added": {"level": Level.PACK, "code": PACK},
        "added_with_contents": {"level": Level.BOX, "code": BOX, "inside": 60},
        "added_contents": {"level": Level.BOX, "code": BOX, "contents": "5 / 50"},
        "removed_contents": {"level": Level.PALLET, "code": PALLET, "contents": "40 / 400 / 2000"},
        "removed": {"level": Level.PACK, "code": PACK},
        "removed_with_contents": {"level": Level.PALLET, "code": PALLET, "inside": 2_460},
        "empty": {},
        "invalid": {"error": "не код маркировки"},
        "product": {},
        "not_in_stock": {"code": PACK},
        "already_shipped": {"act": "ТА-000042", "level": Level.BOX, "code": BOX},
        "on_other_draft": {"act": "ТА-000043", "level": Level.BLOCK, "code": BLOCK},
        "on_this_act": {"level": Level.PALLET, "code": PALLET},
        "inside_on_this_act.pallet": {"level": Level.BOX, "code": BOX, "parent": PALLET, "parent_level": Level.PALLET},
        "inside_on_this_act.box": {"level": Level.BLOCK, "code": BLOCK, "parent": BOX, "parent_level": Level.BOX},
        "inside_on_this_act.block": {"level": Level.PACK, "code": PACK, "parent": BLOCK, "parent_level": Level.BLOCK},
        "inside_aggregate.pallet": {"level": Level.BOX, "code": BOX, "parent": PALLET, "parent_level": Level.PALLET},
        "inside_aggregate.box": {"level": Level.BLOCK, "code": BLOCK, "parent": BOX, "parent_level": Level.BOX},
        "inside_aggregate.block": {"level": Level.PACK, "code": PACK, "parent": BLOCK, "parent_level": Level.BLOCK},
        "opened.pallet": {"level": Level.PALLET, "code": PALLET},
        "opened.box": {"level": Level.BOX, "code": BOX},
        "opened.block": {"level": Level.BLOCK, "code": BLOCK},
        "not_on_act": {"code": PACK},
        "remove_parent.pallet": {"level": Level.BOX, "code": BOX, "parent": PALLET, "parent_level": Level.PALLET},
        "remove_parent.box": {"level": Level.BLOCK, "code": BLOCK, "parent": BOX, "parent_level": Level.BOX},
        "remove_parent.block": {"level": Level.PACK, "code": PACK, "parent": BLOCK, "parent_level": Level.BLOCK},
        "remove_next": {},
        "nothing_to_remove": {},
        "receiving_command": {"command": "UNDO"},
        "not_acceptance": {},
        "wrong_act": {"number": "ТА-000041", "date": "2026-11-30"},
        "unknown_code": {"code": PACK},
        "already_applied": {},
        "act_closed": {},
        "wrong_signer": {"bin": "123456789021", "receiver": "990240000006"},
        "other_file": {},
    }
}
