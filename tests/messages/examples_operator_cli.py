"""Realistic parameters for `warehouse operator emulate`'s refusals (warehouse/cli/operator.py)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "operator_cli": {
        "public_host": {"host": "0.0.0.0"},
        "unknown_profile": {"name": "kz_xtrace"},
        "bad_seed": {"path": "act-17.json", "problem": "line 4: the check digit does not match"},
    }
}
