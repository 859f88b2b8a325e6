"""Realistic parameters for backup and restore (warehouse/services/backup.py, `warehouse backup|restore`)."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "backup": {
        "server_backup": {"command": "pg_dump -Fc -f warehouse.dump warehouse", "doc": "docs/backup.md"},
        "server_restore": {"command": "pg_restore -c -d warehouse warehouse.dump", "doc": "docs/backup.md"},
        "no_file": {"path": "/media/usb/warehouse-2026-12-03.db"},
        "not_database": {"path": "/media/usb/photo.jpg"},
        "corrupt": {"path": "/media/usb/warehouse-2026-12-03.db", "problem": "database disk image is malformed"},
        "unknown_revision": {"path": "/media/usb/warehouse-2027-01-10.db", "revision": "0042"},
        "chain_broken": {"path": "/media/usb/warehouse-2026-12-03.db", "entry": 1187},
        "in_use": {"what": "warehouse run, pid 4121"},
        "not_written": {"reason": "No space left on device"},
    },
    "backup_cli": {
        "written": {"path": "/media/usb/warehouse-2026-12-03.db", "acts": 14, "scans": 812345, "entries": 2290},
        "restored": {
            "source": "/media/usb/warehouse-2026-12-03.db",
            "kept": "instance/warehouse.db.replaced-20261203T0655",
        },
        "restored_new": {"source": "/media/usb/warehouse-2026-12-03.db"},
    },
}
