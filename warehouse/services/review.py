"""The lead's review of what did not match: missing and surplus lines, their resolutions, the decision."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.matching import SURPLUS_CLASSES
from warehouse.models import Act, ActCode, LineResolution, Scan, User
from warehouse.services import audit, receiving
from warehouse.services.receiving import REASON_CODES, ReceivingError
from warehouse.vocab import ActStatus, DiscrepancyKind, Resolution

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
        key = ("code", r.act_code_id) if r.act_code_id is not None else ("scan", r.scan_id or 0)
        latest[key] = r
    return latest


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
                scan.kind,
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
    if resolution not in RESOLUTIONS:
        raise ReceivingError("bad_decision")
    if reason and reason not in REASON_CODES:
        raise ReceivingError("bad_reason")
    if (act_code_id is None) == (scan_id is None):
        raise ReceivingError("no_act")
    with db.write() as s:
        act = s.get(Act, act_id)
        if act is None:
            raise ReceivingError("no_act")
        if act.status != ActStatus.CLOSED:
            raise ReceivingError("not_closed")
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
            comment=(comment or "").strip() or None,
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
