"""The hash chain of the audit trail verifies, and says where it was broken."""

from __future__ import annotations

from sqlalchemy import text

from warehouse.db import Database
from warehouse.services import audit


def test_chain_verifies_and_detects_tampering(db: Database) -> None:
    with db.write() as s:
        for i in range(5):
            audit.record(s, "act.imported", actor="lead", details={"i": i, "code": "<&\"'>"})
    with db.read() as s:
        before = audit.verify(s)
    assert before.ok and before.entries >= 5  # the demo users' creation is audited too

    # Only someone bypassing the application (dropping the trigger) can edit; the chain still tells.
    with db.write() as s:
        if db.is_sqlite:
            s.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        target = s.execute(
            text("SELECT id FROM audit_log WHERE action = 'act.imported' ORDER BY id LIMIT 1 OFFSET 2")
        ).scalar()
        s.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE id = :i"), {"i": target})
    with db.read() as s:
        after = audit.verify(s)
    assert not after.ok and after.first_broken_id == target


def test_entries_chain_onto_each_other(db: Database) -> None:
    with db.write() as s:
        a = audit.record(s, "one", actor="x")
        b = audit.record(s, "two", actor="x")
    assert b.prev_hash == a.hash and a.hash != b.hash
