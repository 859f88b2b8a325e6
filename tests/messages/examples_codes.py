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
    }
}
