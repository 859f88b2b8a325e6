"""The rules of a scanned command code (`#WH:<NAME>`, matching.Command): undo, mode, open next, end."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warehouse.matching import Command, Outcome, Reason, ScanClass
from warehouse.models import Act, ActCode, ReceivingSession, Scan
from warehouse.services.receiving.crediting import count
from warehouse.vocab import OUTGOING_COMMANDS, Mode


def apply_command(s: Session, act: Act, session: ReceivingSession, row: Scan, command: Command) -> tuple[Outcome, int]:
    """What the command does, and how many codes it credited (negative: an undo). A mode switch holds for
    the act and its session; OPEN is read back from the journal by the station's next scan; CLOSE only
    names the outcome (the act is closed after the commit, by record_scans)."""
    if command is Command.UNDO:
        return undo(s, act, row)
    if command in (Command.FULL_CHECK, Command.TRUSTED):
        act.mode = session.mode = Mode.FULL_CHECK if command is Command.FULL_CHECK else Mode.TRUSTED
        reason = Reason.MODE_FULL_CHECK if command is Command.FULL_CHECK else Reason.MODE_TRUSTED
        return Outcome(ScanClass.COMMAND, reason, {"mode": act.mode}), 0
    if command is Command.OPEN:
        return Outcome(ScanClass.COMMAND, Reason.OPEN_NEXT), 0
    if command is Command.CONFIRM:  # stop mode reads it back from the journal: the station's last row
        return Outcome(ScanClass.COMMAND, Reason.CONFIRMED), 0
    if command in OUTGOING_COMMANDS:  # journaled as the command it is, and it changes nothing here
        return Outcome(ScanClass.COMMAND, Reason.OUTGOING_COMMAND, {"command": command.value}), 0
    return Outcome(ScanClass.COMMAND, Reason.CLOSING), 0


def undo(s: Session, act: Act, row: Scan) -> tuple[Outcome, int]:
    """Undo the station's last counted scan: a reversal row un-credits what that scan credited. Nothing is
    deleted; the journal keeps both rows."""
    reversed_ids = select(Scan.reverses_scan_id).where(Scan.act_id == act.id, Scan.reverses_scan_id.is_not(None))
    target = s.execute(
        select(Scan)
        .where(
            Scan.act_id == act.id,
            Scan.station_id == row.station_id,
            Scan.credited > 0,
            Scan.id < row.id,
            Scan.id.not_in(reversed_ids),
        )
        .order_by(Scan.id.desc())
        .limit(1)
    ).scalar()
    if target is None:
        return Outcome(ScanClass.COMMAND, Reason.NOTHING_TO_UNDO), 0
    stmt = (
        update(ActCode)
        .where(ActCode.act_id == act.id, ActCode.credited_scan_id == target.id)
        .values(credited_scan_id=None)
        .returning(ActCode.level, ActCode.gtin)
        .execution_options(synchronize_session=False)
    )
    changed = Counter((lvl, gtin or "") for lvl, gtin in s.execute(stmt))
    # An aggregate counted because all its contents were (a roll-up, maybe by another scan) is no longer whole.
    parent_id = s.get(ActCode, target.act_code_id).parent_id if target.act_code_id else None  # type: ignore[union-attr]
    # Climb to the top: the box the undone scan completed was un-credited above with it, while the pallet
    # that another station's scan then completed is still counted.
    while parent_id is not None:
        parent = s.get(ActCode, parent_id)
        if parent is None:
            break
        if parent.credited_scan_id is not None:
            parent.credited_scan_id = None
            changed[(parent.level, parent.gtin or "")] += 1
        parent_id = parent.parent_id
    s.flush()
    count(s, act.id, Counter({key: -n for key, n in changed.items()}))
    row.reverses_scan_id = target.id
    n = sum(changed.values())
    return Outcome(ScanClass.REVERSED, Reason.UNDONE, {"code": target.normalized or target.raw, "n": str(n)}), -n
