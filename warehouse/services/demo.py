"""Demo data for a first look and for `make run`: three people and one realistic incoming act."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select

from warehouse import codes, transfer_act
from warehouse.db import Database
from warehouse.models import Act, User
from warehouse.services import importing, users
from warehouse.vocab import Role

DEMO_ACT_NUMBER = "ДЕМО-000001"

# username, password, role, name, badge, PIN (a lead's badge needs the PIN, or the password, too)
DEMO_USERS = (
    ("staff", "staff", Role.STAFF, "Айгерім Склад", "BADGE-STAFF-0001", None),
    ("lead", "lead", Role.LEAD, "Ерлан Логист", "BADGE-LEAD-0001", "1234"),
    ("admin", "admin", Role.ADMIN, "Admin", None, None),
)


def load(db: Database, *, act: bool = True, badge_key: bytes | None = None) -> list[str]:
    """Demo people (with their badges when given the instance's `badge_key`), a station and a demo act."""
    report: list[str] = []
    with db.write() as s:
        for username, password, role, name, badge, pin in DEMO_USERS:
            if s.execute(select(User.id).where(User.username == username)).first():
                continue
            badge = badge if badge_key else None
            users.create_user(s, username, password, role, full_name=name, badge=badge, badge_key=badge_key, pin=pin)
            extra = (f", badge {badge}" if badge else "") + (f", PIN {pin}" if pin else "")
            report.append(f"user {username}/{password} ({role}{extra})")
        users.ensure_station(s, "station-1")
    if act:
        report.extend(_demo_act(db))
    return report


def _demo_act(db: Database, codes_file: Path | None = None) -> list[str]:
    """One pallet of 4 boxes x 5 blocks x 10 packs, declared down to packs; idempotent by its number."""
    with db.read() as s:
        existing = s.execute(select(Act.id).where(Act.number == DEMO_ACT_NUMBER)).scalar()
    if existing is not None:
        return [f"act {DEMO_ACT_NUMBER} already loaded (id {existing})"]
    header, generated = transfer_act.generate_act(
        pallets=1, boxes_per_pallet=4, blocks_per_box=5, packs_per_block=10, seed=2026, number=DEMO_ACT_NUMBER
    )
    lines = list(generated)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.json"
        transfer_act.write_json(path, header, iter(lines))
        result = importing.import_act(db, path)
    by_level: dict[str, list[str]] = {}
    for line in lines:
        by_level.setdefault(line.level.value, []).append(line.code)
    sample = [("box", by_level["box"][0]), ("block", by_level["block"][-1]), ("pack", by_level["pack"][-1])]
    report = [f"act {DEMO_ACT_NUMBER}: {len(lines)} codes (id {result.act_id})"]
    # Codes to try at the scan field (GS shown as <GS>, which the station accepts as a substitute).
    report += [f"  try {level}: {codes.visible_gs(code)}" for level, code in sample]
    return report
