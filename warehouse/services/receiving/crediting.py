"""The rules of a scanned code, each with the SQL that applies it: matched and credited, opened, a
duplicate, or not this act's (another act's, a product the act lacks, surplus).

Everything here runs in the scan's transaction under the act's lock, as Core statements on the
session's connection (no ORM objects to load, no autoflush); the statements are built once, because
building them anew for each scan cost more than running them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from warehouse import codes
from warehouse.matching import Outcome, Reason, ScanClass, duplicate_reason, opens
from warehouse.models import Act, ActCode, ActCounter, Scan, StockCode
from warehouse.services.receiving.summary import OPEN_STATUSES
from warehouse.vocab import Direction

_CODE_COLUMNS = (
    ActCode.id,
    ActCode.parent_id,
    ActCode.code,
    ActCode.level,
    ActCode.gtin,
    ActCode.credited_scan_id,
    ActCode.pos,
    ActCode.last,
)
_FIND_CODE = select(*_CODE_COLUMNS).where(
    ActCode.act_id == bindparam("act_id"), ActCode.identity == bindparam("identity")
)


def apply_code(s: Session, act: Act, row: Scan, parsed: codes.ParsedCode) -> tuple[Outcome, int]:
    """What the scanned code `parsed` does to the act, and how many codes it credited.

    Not a marking code: invalid, or a product barcode. A code of the act: a duplicate when already counted;
    opened when the rule of `matching.opens` says so; else credited with its declared contents, and each
    aggregate above it whose contents are now all counted. Not a code of the act: see `unmatched`. The
    caller writes the scan row's act code, class and credit once the outcome is known."""
    if parsed.kind == codes.Kind.INVALID or parsed.identity is None:
        # The code error's reason and detail are kept, so each reader is told it in their own language;
        # "error" (English) stays for the audit trail and for rows journaled before that.
        error = parsed.error
        args = (
            {"error": error.message("en"), "error_reason": error.reason, "error_detail": error.detail} if error else {}
        )
        return Outcome(ScanClass.INVALID, Reason.UNREADABLE, args), 0
    if parsed.kind == codes.Kind.PRODUCT:
        return Outcome(ScanClass.PRODUCT, Reason.PRODUCT_BARCODE, {"gtin": parsed.gtin or ""}), 0
    conn = s.connection()
    code = conn.execute(_FIND_CODE, {"act_id": act.id, "identity": parsed.identity}).first()
    if code is None:
        return unmatched(s, act, parsed), 0
    row.act_code_id = code.id
    if code.credited_scan_id is not None:
        return duplicate(s, code), 0
    has_contents = code.last is not None and code.pos is not None and code.last > code.pos
    if opens(act.mode, has_contents, lambda: open_requested(s, act.id, row)):
        return Outcome(ScanClass.MATCHED, Reason.OPENED, {"level": code.level, "code": code.code}), 0
    changed = Counter[tuple[str, str]]()
    subtree = credit_subtree(s, act.id, code, row.id, changed)
    held = Counter[str]()  # what the code holds, by level (the subtree less the code itself)
    for (level, _gtin), n in changed.items():
        held[str(level)] += n
    held[str(code.level)] -= 1
    args = {"level": code.level, "code": code.code, "inside": str(max(subtree - 1, 0))}
    args |= {f"inside_{level}": str(n) for level, n in held.items() if n > 0}
    above = roll_up(s, act.id, code, row.id, changed)
    count(s, act.id, changed)
    return Outcome(ScanClass.MATCHED, Reason.CREDITED, args), subtree + above


_PREVIOUS_REASON = (
    select(Scan.reason)
    .where(
        Scan.act_id == bindparam("act_id"), Scan.station_id == bindparam("station_id"), Scan.id < bindparam("scan_id")
    )
    .order_by(Scan.id.desc())
    .limit(1)
)


def open_requested(s: Session, act_id: int, row: Scan) -> bool:
    """Did this station's previous scan on the act ask to open the next aggregate? Read from the journal,
    so the request survives a restart and belongs to the station that scanned it."""
    previous = (
        s.connection()
        .execute(_PREVIOUS_REASON, {"act_id": act_id, "station_id": row.station_id, "scan_id": row.id})
        .scalar()
    )
    return previous == Reason.OPEN_NEXT


# A code's declared contents are the rows of the act numbered after it up to its `last` (pre-order
# numbering of the act's tree), so the code and its contents are one range.
_CREDIT_SUBTREE = (
    update(ActCode)
    .where(
        ActCode.act_id == bindparam("b_act"),
        ActCode.pos.between(bindparam("first"), bindparam("last_pos")),
        ActCode.credited_scan_id.is_(None),
    )
    .values(credited_scan_id=bindparam("scan_id"))
    .returning(ActCode.level, ActCode.gtin)
)


def credit_subtree(
    s: Session, act_id: int, code: Any, scan_id: int, changed: Counter[tuple[str, str]] | None = None
) -> int:
    """Credit `code` (an ActCode or a row with its columns) and its declared contents not yet credited:
    the UPDATE takes only uncredited rows, so a code is credited at most once whatever the interleaving.

    The counters are updated here, or added to `changed` for the caller to update once."""
    rows = s.connection().execute(
        _CREDIT_SUBTREE, {"b_act": act_id, "first": code.pos, "last_pos": code.last, "scan_id": scan_id}
    )
    credited = Counter[tuple[str, str]]((lvl, gtin or "") for lvl, gtin in rows)
    if changed is None:
        count(s, act_id, credited)
    else:
        changed.update(credited)
    return sum(credited.values())


_children = ActCode.__table__.alias("children")
_CREDIT_IF_COMPLETE = (
    update(ActCode)
    .where(
        ActCode.id == bindparam("b_parent"),
        ActCode.credited_scan_id.is_(None),
        ~select(_children.c.id)
        .where(_children.c.parent_id == bindparam("b_parent"), _children.c.credited_scan_id.is_(None))
        .exists(),
    )
    .values(credited_scan_id=bindparam("scan_id"))
    .returning(ActCode.level, ActCode.gtin, ActCode.parent_id)
)


def roll_up(s: Session, act_id: int, code: Any, scan_id: int, changed: Counter[tuple[str, str]] | None = None) -> int:
    """An aggregate whose every declared child is now counted is counted too (counters as `credit_subtree`).

    A parent is credited when it is not yet and none of its children is still uncredited: one statement per
    level climbed, and the usual case (the parent still has uncounted contents) is one that changes nothing."""
    conn = s.connection()
    credited = Counter[tuple[str, str]]()
    parent_id = code.parent_id
    while parent_id is not None:
        parent = conn.execute(_CREDIT_IF_COMPLETE, {"b_parent": parent_id, "scan_id": scan_id}).first()
        if parent is None:
            break
        credited[(parent.level, parent.gtin or "")] += 1
        parent_id = parent.parent_id
    if changed is None:
        count(s, act_id, credited)
    else:
        changed.update(credited)
    return sum(credited.values())


_COUNT = (
    update(ActCounter)
    .where(
        ActCounter.act_id == bindparam("b_act"),
        ActCounter.level == bindparam("lvl"),
        ActCounter.gtin == bindparam("gtin_key"),
    )
    .values(credited=ActCounter.credited + bindparam("n"))
)


def count(s: Session, act_id: int, changed: Counter[tuple[str, str]]) -> None:
    """Add `changed` (codes credited, or un-credited when negative, per level and GTIN) to the act's counters."""
    if changed:
        s.connection().execute(
            _COUNT,
            [{"b_act": act_id, "lvl": level, "gtin_key": gtin, "n": n} for (level, gtin), n in sorted(changed.items())],
        )


_GET_CODE = select(*_CODE_COLUMNS).where(ActCode.id == bindparam("id"))
_GET_SCAN = select(Scan.created_at, Scan.act_code_id).where(Scan.id == bindparam("id"))


def duplicate(s: Session, code: Any) -> Outcome:
    """A code already credited, told by the scan that credited it (`matching.duplicate_reason`): the code
    itself (at what time), one of its contents (so all of them were), or an aggregate containing it."""
    conn = s.connection()
    by = conn.execute(_GET_SCAN, {"id": code.credited_scan_id}).first()
    source = conn.execute(_GET_CODE, {"id": by.act_code_id}).first() if by is not None and by.act_code_id else None
    same = source is None or source.id == code.id
    inside = (
        source is not None
        and source.pos is not None
        and code.pos is not None
        and code.last is not None
        and code.pos < source.pos <= code.last
    )
    reason = duplicate_reason(same, inside)
    if reason == Reason.ALREADY_SCANNED or source is None:
        when = by.created_at.strftime("%H:%M:%S") if by is not None else ""
        return Outcome(ScanClass.DUPLICATE, Reason.ALREADY_SCANNED, {"time": when, "code": code.code})
    if reason == Reason.CONTENTS_SCANNED:
        return Outcome(ScanClass.DUPLICATE, Reason.CONTENTS_SCANNED, {"code": code.code})
    return Outcome(
        ScanClass.DUPLICATE,
        Reason.INSIDE_CREDITED,
        {"code": code.code, "parent_level": source.level, "parent": source.code},
    )


def unmatched(s: Session, act: Act, parsed: codes.ParsedCode) -> Outcome:
    """A valid code the act does not declare: another open incoming act's (foreign), a custom aggregation
    code nobody declared (unknown: invalid), of a GTIN the act does not hold (wrong product), a surplus code
    scanned again (duplicate), or surplus."""
    # No index on identity alone (it made imports a quarter slower): the few open acts are probed on
    # (act_id, identity), which both databases plan from this join.
    other = s.execute(
        select(Act.id, Act.number, Act.date)
        .join(ActCode, ActCode.act_id == Act.id)
        .where(
            ActCode.identity == parsed.identity,
            Act.id != act.id,
            Act.direction == Direction.INCOMING,
            Act.status.in_(OPEN_STATUSES),
        )
        .limit(1)
    ).first()
    if other is not None:
        return Outcome(
            ScanClass.FOREIGN,
            Reason.OTHER_ACT,
            {
                "code": parsed.normalized or "",
                "act_id": str(other.id),
                "number": other.number,
                "date": other.date.isoformat(),
            },
        )
    if parsed.kind is codes.Kind.AGGREGATE and not _in_stock(s, parsed.identity or ""):
        # The catch-all of the parser (docs/codes.md): a custom aggregation code is one only if someone
        # declared it. Unknown to this act, the open acts and the stock, it is a read to scan again.
        return Outcome(ScanClass.INVALID, Reason.UNKNOWN_CODE, {"code": parsed.normalized or ""})
    if parsed.gtin:
        gtins = set(
            s.execute(select(ActCounter.gtin).where(ActCounter.act_id == act.id, ActCounter.gtin != "")).scalars()
        )
        if gtins and parsed.gtin not in gtins:
            return Outcome(
                ScanClass.WRONG_PRODUCT, Reason.GTIN_NOT_IN_ACT, {"code": parsed.normalized or "", "gtin": parsed.gtin}
            )
    seen = s.execute(
        select(Scan.id)
        .where(Scan.act_id == act.id, Scan.identity == parsed.identity, Scan.scan_class == ScanClass.SURPLUS)
        .limit(1)
    ).first()
    if seen is not None:
        return Outcome(ScanClass.DUPLICATE, Reason.SURPLUS_AGAIN, {"code": parsed.normalized or ""})
    return Outcome(ScanClass.SURPLUS, Reason.NOT_IN_ACT, {"code": parsed.normalized or ""})


def _in_stock(s: Session, identity: str) -> bool:
    """Whether the stock ledger knows the code (held now, or ever shipped from here)."""
    return s.execute(select(StockCode.id).where(StockCode.identity == identity).limit(1)).first() is not None
