"""Realistic parameters for every reason a report cannot be made (reports.errors.ReportError)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "reports": {
        "unsupported": {},
        "unsupported_language": {"lang": "de"},
        "empty_code": {},
        "no_symbol": {"code": "0104600266010625215bUq?Mk␝8005112000␝93Ab1+xxxxxxxxxxxxxxxxxxxxxx…"},
        "encoder_refused": {"code": "0104600266010625215bUq?Mk␝8005112000␝93Ab1+"},
        "font_missing": {"path": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"},
    }
}
