"""Refusals of the receiving service (warehouse/services/receiving)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "receiving": {
        "no_act": {},
        "act_not_open": {},
        "another_station": {"act": "ТА-000123", "other": "dock-1", "station": "dock-2"},
        "not_closed": {},
        "already_decided": {},
        "bad_decision": {},
        "bad_reason": {},
        "empty_scan": {},
        "decision_contradicts": {},
        "busy": {},
        "scan_id_reused": {},
        "code_not_text": {"char": "U+D800", "position": 17},
        "code_has_nul": {"position": 11},
        "code_too_long": {"size": 1026, "max": 1024},
        "bad_scan_id": {"max": 64},
    }
}
