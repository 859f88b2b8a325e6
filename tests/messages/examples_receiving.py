"""Refusals of the receiving service (warehouse/services/receiving)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "receiving": {
        "no_act": {},
        "act_not_open": {},
        "not_closed": {},
        "already_decided": {},
        "bad_decision": {},
        "bad_reason": {},
        "empty_scan": {},
        "decision_contradicts": {},
    }
}
