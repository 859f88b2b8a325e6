"""Outcomes of scans (warehouse/matching.py), with the details a journal row keeps."""

from __future__ import annotations

from typing import Any

BOX = "00048700000000000029"
PALLET = "00048700000000000012"
PACK = "04870000010011)Z8mmmm"

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "matching": {
        "credited_pallet": {"code": PALLET},
        "credited_box": {"code": BOX},
        "credited_block": {"code": "0104870000010028215Ab1cD2"},
        "credited_pack": {"code": PACK},
        "credited_pallet_inside": {"code": PALLET, "inside": "18"},
        "credited_box_inside": {"code": BOX, "inside": "8"},
        "credited_block_inside": {"code": "0104870000010028215Ab1cD2", "inside": "10"},
        "credited_pallet_contents": {"code": PALLET, "contents": "коробов: 2, блоков: 20, пачек: 200"},
        "credited_box_contents": {"code": BOX, "contents": "блоков: 5, пачек: 50"},
        "credited_block_contents": {"code": "0104870000010028215Ab1cD2", "contents": "пачек: 10"},
        "opened_pallet": {"code": PALLET},
        "opened_box": {"code": BOX},
        "opened_block": {"code": "0104870000010028215Ab1cD2"},
        "already_scanned": {"time": "14:03:27", "code": PACK},
        "inside_credited_pallet": {"code": PACK, "parent": PALLET},
        "inside_credited_box": {"code": PACK, "parent": BOX},
        "inside_credited_block": {"code": PACK, "parent": "0104870000010028215Ab1cD2"},
        "contents_scanned": {"code": BOX},
        "surplus_again": {"code": PACK},
        "not_in_act": {"code": PACK},
        "other_act": {"code": PACK, "act_id": "12", "number": "ТА-000124", "date": "2026-11-30"},
        "gtin_not_in_act": {"code": PACK, "gtin": "04870000042421"},
        "product_barcode": {"gtin": "04870000010011"},
        "unreadable": {"error": "…", "error_reason": "too_short"},
        "unknown_code": {"code": "KZ-PAL-2026-000123-XYZ"},
        "undone": {"code": BOX, "n": "11"},
        "nothing_to_undo": {},
        "mode_full_check": {"mode": "full_check"},
        "mode_trusted": {"mode": "trusted"},
        "open_next": {},
        "outgoing_command": {"command": "REMOVE_LAST"},
        "closing": {},
        "confirmed": {},
        "held": {"code": "04870000010011AbC1xY2AbC1xY=9"},
    }
}
