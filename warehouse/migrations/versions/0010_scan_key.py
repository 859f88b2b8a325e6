"""the handheld API's scan ids: one key space per device token and act

A terminal's `scan_id` was journaled as "<scanner id>:<scan_id>", one key space per device for every act,
so the same id on another act, or with another code, was answered as a replay of the first scan. From this
revision the API journals `warehouse.services.devices.scan_key`: a digest of the token's digest, the act
and the scan id. The schema does not change (the key has a fixed length, well inside the column); the keys
already journaled are rewritten to the new form under the device's current token, so a terminal retrying
across the upgrade is still answered, not counted again. The formula is copied here, as it was at this
revision, so that the migration stays what it is whatever the code becomes.

Downgrade leaves the keys as they are: the code before this revision does not know them, and a terminal
retrying a scan journaled before the downgrade has it journaled again (as a duplicate: a code is credited
once whatever the journal holds).

Revision ID: 0010
Revises: 0009
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEP = 5000


def _scan_key(key_space: str, act_id: int, scan_id: str) -> str:
    digest = hashlib.sha256(f"{key_space}\n{act_id}\n{scan_id}".encode()).hexdigest()
    return f"api:{digest[:48]}"


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT s.id, s.client_scan_id, s.act_id, s.scanner_id, sc.token_digest FROM scans s "
            "JOIN scanners sc ON sc.id = s.scanner_id "
            "WHERE s.source = 'api' AND s.client_scan_id IS NOT NULL AND s.act_id IS NOT NULL "
            "AND sc.token_digest IS NOT NULL"
        )
    ).all()
    updates = []
    for scan_id, key, act_id, scanner_id, token_digest in rows:
        prefix = f"{scanner_id}:"
        if key.startswith(prefix):
            updates.append({"b_id": scan_id, "b_key": _scan_key(token_digest, act_id, key[len(prefix) :])})
    statement = sa.text("UPDATE scans SET client_scan_id = :b_key WHERE id = :b_id")
    for start in range(0, len(updates), _STEP):
        conn.execute(statement, updates[start : start + _STEP])


def downgrade() -> None:
    pass
