"""Reports of an act: the plain data `reports/` renders, read from the database, and the files themselves.

Large lists (every code of a million-pack truck, the discrepancy lines) are streamed from the database
while the renderer writes, so memory does not grow with the act.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reports import excel, pdf
from reports.errors import ReportError as ReportError  # re-exported: the web and the CLI catch it here
from reports.model import (
    ActInfo,
    BasisDoc,
    CodeRow,
    DiscrepancyLine,
    GtinLine,
    LabelItem,
    Party,
    Progress,
    SignatureInfo,
)
from reports.model import Decision as DecisionInfo
from reports.texts import Lang
from warehouse.db import Database
from warehouse.models import Act, ActCode, ActCounter, Decision, LineResolution, SignedDocument, User
from warehouse.services import receiving, review, signing
from warehouse.vocab import CONTENT_LEVELS, Direction, DiscrepancyKind, Level


class ReportKind(StrEnum):
    ACCEPTANCE = "acceptance"
    DISCREPANCIES = "discrepancies"
    LABELS = "labels"
    CODES = "codes"


class ReportFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"


# Which renderer makes which file. The workbook carries the summary, the discrepancies and every code,
# so it answers the acceptance, discrepancy and code-list requests alike; labels exist only on paper.
SUPPORTED: Final = {
    (ReportKind.ACCEPTANCE, ReportFormat.PDF),
    (ReportKind.DISCREPANCIES, ReportFormat.PDF),
    (ReportKind.LABELS, ReportFormat.PDF),
    (ReportKind.CODES, ReportFormat.PDF),
    (ReportKind.ACCEPTANCE, ReportFormat.XLSX),
    (ReportKind.DISCREPANCIES, ReportFormat.XLSX),
    (ReportKind.CODES, ReportFormat.XLSX),
}
_LEVELS: Final = frozenset(Level)
_KIND_LEVEL: Final = {"pack": Level.PACK, "block": Level.BLOCK}  # a scan's code kind, where it names a level
MAX_DISCREPANCY_LINES: Final = 1_000_000


def file_name(act: Act, kind: ReportKind, fmt: ReportFormat) -> str:
    """The report's file name; the workbook is one whatever was asked of it, and is named so."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in act.number)
    what = "workbook" if fmt is ReportFormat.XLSX else kind.value
    return f"{safe}-{what}.{fmt.value}"


def render(
    db: Database,
    act_ref: str | int,
    kind: ReportKind,
    fmt: ReportFormat,
    out: Path,
    lang: str = "ru",
    progress: Progress | None = None,
) -> Path:
    """Write the report to `out` (atomically: a failed report leaves no half file behind)."""
    if (kind, fmt) not in SUPPORTED:
        raise ReportError("unsupported")
    language: Lang = "kk" if lang == "kk" else "en" if lang == "en" else "ru"
    partial = out.with_name(out.name + ".part")
    try:
        with db.read() as s:
            act = receiving.find_act(s, act_ref)
            info = act_info(act, demo=signing.demo_signed(s, act.id))
            if fmt is ReportFormat.XLSX:
                excel.codes_xlsx(
                    partial,
                    info,
                    gtin_lines(s, act),
                    discrepancy_lines(s, act, lang),
                    code_rows(s, act),
                    language,
                    progress=progress,
                )
            elif kind is ReportKind.ACCEPTANCE:
                pdf.acceptance_pdf(
                    partial, info, gtin_lines(s, act), decision_of(s, act), signature_of(s, act), language
                )
            elif kind is ReportKind.DISCREPANCIES:
                pdf.discrepancy_pdf(partial, info, discrepancy_lines(s, act, lang), language, progress=progress)
            elif kind is ReportKind.LABELS:
                pdf.labels_pdf(
                    partial,
                    label_items(s, act),
                    language,
                    reference=f"{act.number}",
                    demo=info.demo,
                    progress=progress,
                )
            else:
                pdf.outgoing_act_pdf(partial, info, gtin_lines(s, act), code_rows(s, act), language, progress=progress)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out


# --- plain data -------------------------------------------------------------------------------------------


def act_info(act: Act, *, demo: bool = False) -> ActInfo:
    basis = []
    for item in act.basis or []:
        if isinstance(item, dict):
            date = item.get("date")
            basis.append(
                BasisDoc(
                    str(item.get("type", "")),
                    str(item.get("number", "")),
                    dt.date.fromisoformat(date) if isinstance(date, str) and date else None,
                )
            )
    return ActInfo(
        number=act.number,
        date=act.date,
        sender=Party(act.sender_name, act.sender_bin),
        receiver=Party(act.receiver_name, act.receiver_bin),
        basis=basis,
        turnover=act.turnover,
        status=act.status,
        mode=act.mode,
        demo=demo,
    )


def gtin_lines(s: Session, act: Act) -> list[GtinLine]:
    names: dict[str, tuple[str | None, int | None]] = {}
    for gtin, name, price in s.execute(
        select(ActCode.gtin, ActCode.name, ActCode.price)
        .where(ActCode.act_id == act.id, ActCode.gtin.is_not(None), ActCode.name.is_not(None))
        .distinct()
        .limit(10_000)
    ):
        if gtin:
            names.setdefault(gtin, (name, price))
    # Once decided, "accepted" is what the decision accepts, code by code as the signed document says
    # (a missing box the lead accepted as is counts), not what was scanned.
    accepted = signing.accepted_counts(s, act.id) if act.direction == Direction.INCOMING else None
    out = []
    for c in s.execute(
        select(ActCounter).where(ActCounter.act_id == act.id).order_by(ActCounter.gtin, ActCounter.level)
    ).scalars():
        if c.level not in _LEVELS:
            continue
        name, price = names.get(c.gtin, (None, None))
        out.append(
            GtinLine(
                gtin=c.gtin,
                name=name,
                level=c.level,
                expected=c.expected,
                credited=c.credited if accepted is None else accepted.get((c.gtin or "", str(c.level)), 0),
                price_tiyn=price if c.level == Level.BLOCK else None,
            )
        )
    return out


def decision_of(s: Session, act: Act) -> DecisionInfo | None:
    row = s.execute(
        select(Decision, User.full_name, User.username)
        .outerjoin(User, User.id == Decision.user_id)
        .where(Decision.act_id == act.id)
        .order_by(Decision.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    decision, full_name, username = row
    reasons = [decision.reason] if decision.reason else []
    reasons += sorted(
        {
            r
            for (r,) in s.execute(
                select(LineResolution.reason).where(LineResolution.act_id == act.id, LineResolution.reason.is_not(None))
            )
            if r and r not in reasons
        }
    )
    return DecisionInfo(
        decision=decision.decision,
        reason_codes=reasons,
        comment=decision.comment,
        decided_by=full_name or username,
        decided_at=decision.created_at,
    )


def signature_of(s: Session, act: Act) -> SignatureInfo | None:
    doc = s.execute(
        select(SignedDocument).where(SignedDocument.act_id == act.id).order_by(SignedDocument.id.desc()).limit(1)
    ).scalar()
    if doc is None:
        return None
    return SignatureInfo(
        signer=doc.signer,
        iin=doc.signer_iin,
        bin=doc.signer_bin,
        organisation=None,
        cert_sha256=doc.cert_sha256,
        signed_at=doc.created_at,
    )


def discrepancy_lines(s: Session, act: Act, lang: str) -> Iterator[DiscrepancyLine]:
    """Missing codes grouped by their aggregate, then the scans that did not match, with the lead's word."""
    lines = review.lines(s, act, lang, limit=MAX_DISCREPANCY_LINES)
    lines.sort(key=lambda line: (line.kind != DiscrepancyKind.MISSING, line.parent_code or "", line.kind))
    for line in lines:
        level = line.level if line.level in _LEVELS else _KIND_LEVEL.get(line.level or "")
        reason = line.reason or (line.message if line.kind != DiscrepancyKind.MISSING else None)
        yield DiscrepancyLine(
            kind=line.kind,
            code=line.code,
            level=level,
            parent_code=line.parent_code,
            parent_level=line.parent_level if line.parent_code else None,
            gtin=_gtin_of(line.code),
            reason=reason,
            comment=line.comment,
            resolution=line.resolution,
        )


def _gtin_of(code: str) -> str | None:
    if code.startswith("01") and code[2:16].isdigit():
        return code[2:16]
    if len(code) == 29 and code[:14].isdigit():
        return code[:14]
    return None


def label_items(s: Session, act: Act) -> Iterator[LabelItem]:
    """A label per pallet and box, in the order of the act's tree: what it holds level by level, and of
    which product (one range of the tree per label: a label sheet is made for the few aggregates of one act)."""
    stmt = (
        select(ActCode.code, ActCode.level, ActCode.pos, ActCode.last, ActCode.name)
        .where(ActCode.act_id == act.id, ActCode.level.in_((Level.PALLET, Level.BOX)))
        .order_by(ActCode.pos)
    )
    for code, level, pos, last, name in s.execute(stmt).all():
        held: dict[str, int] = {}
        names: list[str] = [name] if name else []
        if pos is not None and last is not None and last > pos:
            inside = (ActCode.act_id == act.id, ActCode.pos > pos, ActCode.pos <= last)
            for lv, n in s.execute(select(ActCode.level, func.count()).where(*inside).group_by(ActCode.level)):
                held[str(lv)] = n
            if not names:
                found = s.execute(
                    select(ActCode.name).where(*inside, ActCode.name.is_not(None)).distinct().limit(_LABEL_NAMES + 1)
                ).scalars()
                names = sorted(n for n in found if n)
        product = ", ".join(names[:_LABEL_NAMES]) + (" …" if len(names) > _LABEL_NAMES else "")
        yield LabelItem(
            code=code,
            level=level,
            caption=act.number,
            product=product,
            contents=tuple((lv.value, held[lv.value]) for lv in CONTENT_LEVELS if held.get(lv.value)),
        )


_LABEL_NAMES: Final = 3  # product names a label lists; a mixed pallet's label then says "…"


def code_rows(s: Session, act: Act) -> Iterator[CodeRow]:
    """Every code with its aggregate and status, streamed in tree order."""
    parent = aliased(ActCode)
    stmt = (
        select(ActCode.code, ActCode.level, parent.code, ActCode.gtin, ActCode.credited_scan_id)
        .outerjoin(parent, parent.id == ActCode.parent_id)
        .where(ActCode.act_id == act.id)
        .order_by(ActCode.pos, ActCode.id)
        .execution_options(yield_per=5_000)
    )
    for code, level, parent_code, gtin, credited in s.execute(stmt):
        yield CodeRow(
            code=code,
            level=level,
            parent_code=parent_code,
            gtin=gtin,
            status="credited" if credited is not None else "missing",
        )


# --- where report files wait for their download ---------------------------------------------------------

REPORT_FILES: Final = "report-files"
FILE_LIFETIME: Final = dt.timedelta(hours=1)  # a report is downloaded right after it is made, or made again


def report_folder(instance: Path) -> Path:
    """A fresh folder for one report's file, under the instance folder (owner only), not the system's /tmp
    where nothing ever removed them; folders older than FILE_LIFETIME are removed first."""
    root = instance / REPORT_FILES
    sweep_report_folders(instance)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="report-", dir=root))


def sweep_report_folders(instance: Path, older_than: dt.timedelta = FILE_LIFETIME) -> list[Path]:
    """Remove report folders older than `older_than` (what a finished or killed report left); returns them."""
    root = instance / REPORT_FILES
    cutoff = time.time() - older_than.total_seconds()
    removed = []
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            old = folder.stat().st_mtime < cutoff
        except FileNotFoundError:  # another process removed it meanwhile
            continue
        if old:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
