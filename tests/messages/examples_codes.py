"""Realistic parameters for every reason a code is rejected (warehouse.codes.CodeError)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "codes": {
        "empty": {"detail": ""},
        "bad_characters": {"detail": "й ц U+0020"},
        "too_short": {"detail": "12"},
        "too_long": {"detail": "81"},
        "bad_gtin_check": {"detail": "04600266010626"},
        "bad_sscc_check": {"detail": "146000000000000019"},
        "bad_price": {"detail": "012a00"},
        "bad_structure": {"detail": "0104600266010625215bU<GS>8005"},
        "two_codes": {"detail": "2"},
        "other_group": {"detail": "04601234567893"},
        "product_barcode": {"detail": "04600266010625"},
        "pack_cut": {"detail": "25"},
        "block_cut": {"detail": "010460026601062521x5bU7Cz<GS>93Ab1+X"},
        "gs1_product": {"detail": "04600266010625"},
        "gs1_other": {"detail": "(10)ABC123(17)261231"},
        "digital_link": {"detail": "04600266010625"},
        "url": {"detail": ""},
        "bad_brackets": {"detail": "(01)04600266010625(21)x5bU7Cz(77)x"},
    }
}
