"""Demo data for a first look and for `make run`: three people and one realistic incoming act."""

from __future__ import annotations

from sqlalchemy import select

from warehouse.db import Database
from warehouse.models import Role, User
from warehouse.services import users

DEMO_USERS = (
    ("staff", "staff", Role.STAFF, "Айгерім Склад", "BADGE-STAFF-0001"),
    ("lead", "lead", Role.LEAD, "Ерлан Логист", "BADGE-LEAD-0001"),
    ("admin", "admin", Role.ADMIN, "Admin", None),
)


def load(db: Database) -> list[str]:
    report: list[str] = []
    with db.write() as s:
        for username, password, role, name, badge in DEMO_USERS:
            if s.execute(select(User.id).where(User.username == username)).first():
                continue
            users.create_user(s, username, password, role, full_name=name, badge=badge)
            report.append(f"user {username}/{password} ({role})")
        users.ensure_station(s, "station-1")
    return report
