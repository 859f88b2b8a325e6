"""The lead's review of what did not match: missing and surplus lines, their resolutions, the decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.matching import SURPLUS_CLASSES
from warehouse.messages import N_, say
from warehouse.models import Act, ActCode, LineResolution, OperatorCodeCheck, Scan, User
from warehouse.services import audit, receiving
from warehouse.services.receiving import REASON_CODES, ReceivingError
from warehouse.vocab import ActStatus, DiscrepancyKind, Level, Resolution

_KIND_LEVEL: Final = {"pack": Level.PACK, "block": Level.BLOCK}  # a scan's code kind, where it names a level

RESOLUTIONS = tuple(r.value for r in Resolution)  # plain strings: the form posts them


@dataclass(frozen=True)
class Line:
    kind: str  # missing | surplus | foreign | wrong_product
    code: str
    level: str | None
    parent_code: str | None
    parent_level: str | None
    act_code_id: int | None
    scan_id: int | None
    message: str | None
    resolution: str | None
    reason: str | None
    comment: str | None


def _resolutions(s: Session, act_id: int) -> dict[tuple[str, int], LineResolution]:
    latest: dict[tuple[str, int], LineResolution] = {}
    query = select(LineResolution).where(LineResolution.act_id == act_id).order_by(LineResolution.id)
    for r in s.execute(query).scalars():
        latest[_held_by(r.act_code_id, r.scan_id)] = r
    return latest


def _held_by(act_code_id: int | None, scan_id: int | None) -> tuple[str, int]:
    """A resolution's line: the missing code or the surplus scan it is about."""
    return ("code", act_code_id) if act_code_id is not None else ("scan", scan_id or 0)


def lines(s: Session, act: Act, lang: str = "ru", limit: int = 2000) -> list[Line]:
    """Discrepancy lines: missing codes (top-most, grouped by their aggregate) and surplus scans."""
    resolved = _resolutions(s, act.id)
    out: list[Line] = []
    missing = receiving.missing(s, act.id, limit=limit)
    ids = {}
    wanted = [code for g in missing for _lvl, code in g.codes]
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        ids.update(
            dict(
                s.execute(
                    select(ActCode.code, ActCode.id).where(ActCode.act_id == act.id, ActCode.code.in_(chunk))
                ).all()
            )
        )
    for group in missing:
        for level, code in group.codes:
            code_id = ids.get(code)
            r = resolved.get(("code", code_id or 0))
            out.append(
                Line(
                    DiscrepancyKind.MISSING,
                    code,
                    level,
                    group.parent_code,
                    group.parent_level,
                    code_id,
                    None,
                    None,
                    r.resolution if r else None,
                    r.reason if r else None,
                    r.comment if r else None,
                )
            )
    # The operator's word on codes of the act (services/operator_incoming.check_codes): lines of their own.
    flagged = s.execute(
        select(OperatorCodeCheck, ActCode.code, ActCode.level)
        .join(ActCode, ActCode.id == OperatorCodeCheck.act_code_id)
        .where(OperatorCodeCheck.act_id == act.id)
        .order_by(ActCode.pos)
        .limit(limit)
    ).all()
    for check, code, level in flagged:
        r = resolved.get(("code", check.act_code_id))
        out.append(
            Line(
                check.problem,
                code,
                level,
                None,
                None,
                check.act_code_id,
                None,
                _operator_word(check, lang),
                r.resolution if r else None,
                r.reason if r else None,
                r.comment if r else None,
            )
        )
    scans = s.execute(
        select(Scan)
        .where(Scan.act_id == act.id, Scan.scan_class.in_(list(SURPLUS_CLASSES)))
        .order_by(Scan.id)
        .limit(limit)
    ).scalars()
    for scan in scans:
        r = resolved.get(("scan", scan.id))
        out.append(
            Line(
                scan.scan_class,
                scan.normalized or scan.raw,
                _KIND_LEVEL.get(scan.kind or ""),  # an SSCC may be a box or a pallet: no level, not "sscc"
                None,
                None,
                None,
                scan.id,
                receiving.result_of(scan).message(lang),
                r.resolution if r else None,
                r.reason if r else None,
                r.comment if r else None,
            )
        )
    return out


def _operator_word(check: OperatorCodeCheck, lang: str) -> str:
    """What the operator said of the code: its status and owner, as it gave them (data, not words)."""
    if check.error_code:
        return say(N_("The operator does not know this code ({code})"), lang, code=check.error_code)
    return say(
        N_("At the operator: status {status}, owner {owner}"),
        lang,
        status=check.status or "-",
        owner=check.owner_bin or "-",
    )


@dataclass(frozen=True)
class LineChange:
    """The lead's word on one line: a missing code (`act_code_id`) or a surplus scan (`scan_id`)."""

    resolution: str
    reason: str | None
    comment: str | None
    act_code_id: int | None = None
    scan_id: int | None = None


def line_key(line: Line) -> str:
    return f"c{line.act_code_id}" if line.act_code_id is not None else f"s{line.scan_id}"


def parse_key(key: str) -> tuple[int | None, int | None]:
    """(act_code_id, scan_id) of a form's line key; ReceivingError "no_act" for anything else."""
    if len(key) > 1 and key[0] in "cs" and key[1:].isdigit():
        number = int(key[1:])
        return (number, None) if key[0] == "c" else (None, number)
    raise ReceivingError("no_act")


def filter_lines(lines: list[Line], *, kind: str = "", level: str = "", gtin: str = "") -> list[Line]:
    """The lines a lead asked to see: of one kind, one level, one product (GTIN inside the code)."""
    return [
        line
        for line in lines
        if (not kind or line.kind == kind)
        and (not level or line.level == level)
        and (not gtin or gtin in line.code[:20])
    ]


def resolve(
    db: Database,
    act_id: int,
    *,
    resolution: str,
    reason: str | None,
    comment: str | None,
    user: User,
    act_code_id: int | None = None,
    scan_id: int | None = None,
) -> LineResolution:
    """Record the lead's resolution of one line (see `resolve_lines`)."""
    change = LineChange(resolution, reason, comment, act_code_id, scan_id)
    with db.write() as s:
        act = _closed_act(s, act_id)
        return _resolve(s, act, change, user)


def resolve_lines(db: Database, act_id: int, changes: list[LineChange], user: User) -> int:
    """Record every changed line in one transaction: all or none (one bad line refuses the lot, so a form
    is never half saved). A line whose resolution, reason and comment are what is in force already is
    not written again. Returns how many were recorded. Raises ReceivingError."""
    with db.write() as s:
        act = _closed_act(s, act_id)
        current = _resolutions(s, act_id)
        written = 0
        for change in changes:
            now = current.get(_held_by(change.act_code_id, change.scan_id))
            said = (change.resolution, change.reason or None, (change.comment or "").strip() or None)
            if now is not None and (now.resolution, now.reason, now.comment) == said:
                continue
            if now is None and said == (Resolution.REJECT, None, None):
                continue  # the default every unresolved line already shows
            _resolve(s, act, change, user)
            written += 1
        return written


def _closed_act(s: Session, act_id: int) -> Act:
    act = s.get(Act, act_id)
    if act is None:
        raise ReceivingError("no_act")
    if act.status != ActStatus.CLOSED:
        raise ReceivingError("not_closed")
    return act


def _resolve(s: Session, act: Act, change: LineChange, user: User) -> LineResolution:
    resolution, reason, act_code_id, scan_id = change.resolution, change.reason, change.act_code_id, change.scan_id
    if resolution not in RESOLUTIONS:
        raise ReceivingError("bad_decision")
    if reason and reason not in REASON_CODES:
        raise ReceivingError("bad_reason")
    if (act_code_id is None) == (scan_id is None):
        raise ReceivingError("no_act")
    act_id = act.id
    # The line must belong to this act: ids from a form are not trusted.
    if (
        act_code_id is not None
        and s.execute(select(ActCode.id).where(ActCode.id == act_code_id, ActCode.act_id == act_id)).first() is None
    ):
        raise ReceivingError("no_act")
    if (
        scan_id is not None
        and s.execute(select(Scan.id).where(Scan.id == scan_id, Scan.act_id == act_id)).first() is None
    ):
        raise ReceivingError("no_act")
    row = LineResolution(
        act_id=act_id,
        act_code_id=act_code_id,
        scan_id=scan_id,
        resolution=resolution,
        reason=reason or None,
        comment=(change.comment or "").strip() or None,
        user_id=user.id,
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        "line.resolved",
        user=user,
        act_id=act_id,
        details={
            "act_code_id": act_code_id,
            "scan_id": scan_id,
            "resolution": resolution,
            "reason": reason,
            "comment": row.comment,
        },
    )
    return row
