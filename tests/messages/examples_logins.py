"""Realistic parameters for the login refusals (warehouse/services/logins.py) and `warehouse users`."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "logins": {
        "wrong_password": {},
        "unknown_badge": {},
        "wrong_pin": {},
        "pin_expired": {},
        "locked": {"minutes": 2, "time": "14:05"},
        "address_limited": {"minutes": 1, "time": "09:31"},
        "idle": {"minutes": 30},
        "expired": {"hours": 12},
    },
    "users": {
        "bad_pin": {},
        "bad_badge": {},
        "badge_taken": {},
        "no_such_user": {"username": "kassymova"},
        "mismatch": {},
        "not_locked": {"username": "kassymova"},
    },
}
