"""Incoming acts from the operator: the shipments waiting for our acceptance, fetched and imported; and the
operator's word on their codes before the lead accepts.

Each waiting shipment (a date window, every page) is downloaded with its whole tree (`get_act(expand="tree")`),
written as a `transfer-act/1` file into the instance folder (`operator/incoming/<doc id>.json`, kept: it is
what was imported) and imported by the same importer as any file. The operator's document id is unique on
the act's origin (`operator_origins`): a document already imported is not fetched again, only its status is
kept up to date, so a second sync imports nothing. An import that committed but whose origin was not written
(a crash between the two) is found by the act's identity and linked on the next sync. A document the station
refuses (the importer's problem, or its act is another document's) is remembered with a digest of what the list
said of it (`operator_refusals`): later rounds do not download it again until the operator lists it otherwise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from sqlalchemy import delete, select

from warehouse import canonical, transfer_act
from warehouse.db import Database
from warehouse.models import Act, ActCode, OperatorCodeCheck, OperatorOrigin, OperatorRefusal, User
from warehouse.operator.cis import station_identity
from warehouse.operator.types import Act as OperatorAct
from warehouse.operator.types import ActSummary, CodeInfo, OperatorAdapter, OperatorError
from warehouse.services import audit
from warehouse.services.importing import ActImportError, import_act
from warehouse.timeutil import utcnow
from warehouse.vocab import Direction, DiscrepancyKind, Level

log = logging.getLogger(__name__)

INCOMING_DIR: Final = Path("operator") / "incoming"
PAGE_SIZE: Final = 100
CHECK_BATCH: Final = 1000  # codes per codes_info call (the operator's limit)
IN_CIRCULATION: Final = "INTRODUCED"
# Kazakhstan keeps one time zone (UTC+5) since 2024-03-01: an act's date is its day there.
KZ_TIME: Final = timezone(timedelta(hours=5))


@dataclass(frozen=True)
class Fetched:
    doc_id: str
    number: str
    act_id: int | None  # None when the import refused it (see `problem`)
    imported: bool  # False: the act was here already
    problem: str | None = None  # set: refused (remembered, not downloaded again while listed the same)


def listed_digest(summary: ActSummary) -> str:
    """What the operator's list says of a document, as a digest: a refused document whose entry is the same
    is the same document (the list carries its status, dates and errors)."""
    return hashlib.sha256(canonical.dumps(summary.raw)).hexdigest()


def waiting_acts(adapter: OperatorAdapter, since: datetime, until: datetime) -> Iterator[ActSummary]:
    """Every shipment waiting for our acceptance in [since, until], page after page (keyset)."""
    cursor: str | None = None
    while True:
        page = adapter.list_incoming_acts(since, until, cursor=cursor, limit=PAGE_SIZE)
        yield from page.items
        if page.next_cursor is None or not page.items:
            return
        cursor = page.next_cursor


def act_lines(act: OperatorAct) -> Iterator[transfer_act.ActLine]:
    """The operator's act as `transfer-act/1` lines, in its preorder (a parent before its contents)."""
    has_inside = {line.parent for line in act.lines if line.parent is not None}
    identities: dict[str, str] = {}
    for n, line in enumerate(act.lines, 1):
        identity, kind = station_identity(line.code)
        identities[line.code] = identity
        yield transfer_act.ActLine(
            location=f"operator line {n}",
            code=line.code,
            identity=identity,
            kind=kind,
            level=Level(line.level),
            parent_code=identities.get(line.parent) if line.parent is not None else None,
            gtin=line.gtin,
            price=line.price_tiyn,
            vat=line.vat_tiyn,
            declared_children=line.code in has_inside,
        )


def write_act_file(folder: Path, act: OperatorAct) -> Path:
    """Write the operator's act as a `transfer-act/1` JSON file named after its document id."""
    s = act.summary
    header = transfer_act.ActHeader(
        format=transfer_act.FORMAT,
        number=s.number,
        date=s.doc_date.astimezone(KZ_TIME).date(),
        sender=transfer_act.Party(s.sender_name or s.sender_bin, s.sender_bin),
        receiver=transfer_act.Party(s.receiver_name or s.receiver_bin, s.receiver_bin),
        basis=(),
        turnover=act.turnover_type.lower() if act.turnover_type else None,
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in s.id)[:100]
    path = folder / f"{safe}.json"
    transfer_act.write_json(path, header, act_lines(act))
    return path


def fetch_incoming(
    db: Database,
    adapter: OperatorAdapter,
    instance: Path,
    *,
    window_days: int = 30,
    now: datetime | None = None,
    user: User | None = None,
) -> list[Fetched]:
    """One pass over the waiting shipments: import the new ones, keep the status of the known ones.

    Raises OperatorError when the operator cannot be asked (the caller stops the round); an act the
    importer refuses is reported in its `Fetched` and the others go on.
    """
    now = now or utcnow()
    out: list[Fetched] = []
    for summary in waiting_acts(adapter, now - timedelta(days=window_days), now):
        with db.write() as s:
            origin = s.execute(select(OperatorOrigin).where(OperatorOrigin.doc_id == summary.id)).scalar()
            if origin is not None:
                if origin.status != summary.status:
                    origin.status = summary.status
                    origin.updated_at = now
                continue
            refusal = s.get(OperatorRefusal, summary.id)
            if refusal is not None and refusal.listed_sha256 == listed_digest(summary):
                continue  # refused as it is listed now: told once, not downloaded again
        fetched = _import_one(db, adapter, instance, summary, user)
        _remember(db, summary, fetched, now, user)
        out.append(fetched)
    return out


def _remember(db: Database, summary: ActSummary, fetched: Fetched, now: datetime, user: User | None) -> None:
    """Keep a refusal (or forget an earlier one of a document that came in this time)."""
    with db.write() as s:
        refusal = s.get(OperatorRefusal, summary.id)
        if fetched.problem is None:
            if refusal is not None:
                s.delete(refusal)
            return
        if refusal is None:
            refusal = OperatorRefusal(doc_id=summary.id)
            s.add(refusal)
        refusal.number, refusal.sender_bin = summary.number, summary.sender_bin
        refusal.listed_sha256, refusal.problem, refusal.refused_at = listed_digest(summary), fetched.problem, now
        audit.record(
            s,
            "operator.act_refused",
            user=user,
            act_id=fetched.act_id,
            details={"id": summary.id, "number": summary.number, "reason": fetched.problem[:500]},
        )


def refusals(db: Database, limit: int = 200) -> list[OperatorRefusal]:
    """The operator's documents the station refused, newest first."""
    with db.read() as s:
        stmt = select(OperatorRefusal).order_by(OperatorRefusal.refused_at.desc()).limit(limit)
        return list(s.execute(stmt).scalars())


def _import_one(
    db: Database, adapter: OperatorAdapter, instance: Path, summary: ActSummary, user: User | None
) -> Fetched:
    act = adapter.get_act(summary.id, expand="tree")
    path = write_act_file(instance / INCOMING_DIR, act)
    try:
        result = import_act(db, path, user=user)
        act_id, imported = result.act_id, True
    except ActImportError as e:
        if e.existing_act_id is None:
            log.warning("operator act %s (%s) refused by the importer: %s", summary.number, summary.id, e)
            return Fetched(summary.id, summary.number, None, False, str(e))
        act_id, imported = e.existing_act_id, False  # imported before, its origin not written (a crash)
    with db.write() as s:
        if s.execute(select(OperatorOrigin.act_id).where(OperatorOrigin.act_id == act_id)).first() is not None:
            return Fetched(summary.id, summary.number, act_id, False, "another operator document has this act")
        s.add(
            OperatorOrigin(
                act_id=act_id,
                doc_id=summary.id,
                number=summary.number,
                doc_type=summary.type,
                status=summary.status,
                doc_date=summary.doc_date,
                sender_bin=summary.sender_bin,
            )
        )
        audit.record(
            s,
            "operator.act_fetched",
            user=user,
            act_id=act_id,
            details={"id": summary.id, "number": summary.number, "status": summary.status, "file": path.name},
        )
    return Fetched(summary.id, summary.number, act_id, imported)


def origin(db: Database, act_id: int) -> OperatorOrigin | None:
    with db.read() as s:
        return s.get(OperatorOrigin, act_id)


# --- before accepting: the operator's word on every code ---------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    codes: int
    not_owned: int
    not_in_circulation: int


def _problem(info: CodeInfo, sender_bin: str) -> DiscrepancyKind | None:
    if info.error_code == "404" or (info.error_code is None and info.status != IN_CIRCULATION):
        return DiscrepancyKind.NOT_IN_CIRCULATION
    if info.error_code is None and info.owner_bin != sender_bin:
        return DiscrepancyKind.NOT_OWNED
    return None  # fine, or a per-item error to try again ("504"): not the sender's fault


def check_codes(db: Database, adapter: OperatorAdapter, act_id: int, *, user: User | None = None) -> CheckResult:
    """Ask the operator about every code of the act (batches of 1000) and keep those not owned by the sender
    or not in circulation; they are the review's lines of their own. Replaces the act's earlier check.
    Raises OperatorError when the operator cannot be asked (nothing is replaced then)."""
    with db.read() as s:
        act = s.get(Act, act_id)
        if act is None or act.direction != Direction.INCOMING:
            raise ValueError(f"no incoming act {act_id}")
        sender_bin = act.sender_bin
        rows = list(
            s.execute(select(ActCode.id, ActCode.code).where(ActCode.act_id == act_id).order_by(ActCode.pos)).all()
        )
    found: list[tuple[int, CodeInfo, DiscrepancyKind]] = []
    for start in range(0, len(rows), CHECK_BATCH):
        batch = rows[start : start + CHECK_BATCH]
        answers = _answers(adapter, [code for _id, code in batch])
        for code_id, code in batch:
            info = answers.get(code)
            problem = _problem(info, sender_bin) if info is not None else None
            if info is not None and problem is not None:
                found.append((code_id, info, problem))
    now = utcnow()
    with db.write() as s:
        s.execute(delete(OperatorCodeCheck).where(OperatorCodeCheck.act_id == act_id))
        s.add_all(
            OperatorCodeCheck(
                act_id=act_id,
                act_code_id=code_id,
                problem=problem,
                status=info.status,
                owner_bin=info.owner_bin,
                error_code=info.error_code,
                checked_at=now,
            )
            for code_id, info, problem in found
        )
        result = CheckResult(
            len(rows),
            sum(1 for *_x, p in found if p is DiscrepancyKind.NOT_OWNED),
            sum(1 for *_x, p in found if p is DiscrepancyKind.NOT_IN_CIRCULATION),
        )
        audit.record(
            s,
            "operator.codes_checked",
            user=user,
            act_id=act_id,
            details={
                "codes": result.codes,
                "not_owned": result.not_owned,
                "not_in_circulation": result.not_in_circulation,
            },
        )
    return result


def _answers(adapter: OperatorAdapter, batch: Sequence[str]) -> dict[str, CodeInfo]:
    answers = adapter.codes_info(batch)
    return {info.code: info for info in answers}


def flagged(db: Database, act_id: int) -> list[OperatorCodeCheck]:
    with db.read() as s:
        return list(s.execute(select(OperatorCodeCheck).where(OperatorCodeCheck.act_id == act_id)).scalars())


__all__ = [
    "CheckResult",
    "Fetched",
    "OperatorError",
    "act_lines",
    "check_codes",
    "fetch_incoming",
    "flagged",
    "listed_digest",
    "origin",
    "refusals",
    "waiting_acts",
    "write_act_file",
]
