"""Realistic parameters for the device-token refusals (warehouse/services/devices.py)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "devices": {
        "unauthorized": {},
        "token_expired": {"date": "2026-12-01"},
        "token_revoked": {"date": "2026-12-03"},
        "may_not_import": {},
        "may_not_read": {},
        "another_station": {"act": "ТА-000123", "other": "dock-1", "station": "dock-2"},
        "read_another_station": {"act": "ТА-000123", "other": "dock-1", "station": "dock-2"},
        "bad_life": {"max": 3650},
        "no_device": {"name": "TSD-07"},
    },
}
