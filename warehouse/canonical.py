"""Canonical JSON: the exact bytes that are hashed and signed.

Sorted keys, no insignificant whitespace, UTF-8 (not ASCII escapes): two parties serialising the same
document get the same bytes, so a signature made by one verifies for the other.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> bytes:
    """The canonical bytes of ``obj``: sorted keys, no whitespace between tokens, UTF-8 as is.

    >>> dumps({"b": 1, "a": "ә"})
    b'{"a":"\\xd3\\x99","b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
