"""Realistic parameters for the command line's own refusals (warehouse/cli/common.py)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "cli": {
        "not_imported": {"count": 3, "location": "line 14", "problem": "the check digit does not match"},
        "no_such_user": {"username": "kassymova"},
        "one_output": {"pdf": "--pdf OUT", "xlsx": "--xlsx OUT"},
        "not_written": {"reason": "Permission denied"},
        "not_signed": {"reason": "No space left on device"},
        "invalid_signature": {"problem": "The signature belongs to another document: the content does not match."},
    }
}
