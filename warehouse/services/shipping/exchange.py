"""What travels between us and the receiver: the exported act, and the receiver's signed acceptance.

The first export after signing marks the act sent. `apply_acceptance` verifies the receiver's signature
first, then returns every refused code to stock and sets the final status once every part is answered.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warehouse import transfer_act
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, Event, announce
from warehouse.models import (
    AcceptanceReceipt,
    Act,
    ActCode,
    MoveKind,
    SignedDocument,
    StockCode,
    StockStatus,
    User,
)
from warehouse.services import audit, stock
from warehouse.services import signing as signing_service
from warehouse.services.shipping.documents import part_number, transfer_documents
from warehouse.services.shipping.draft import find_act
from warehouse.services.shipping.errors import ShippingError
from warehouse.signing import acceptance
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.cms import Verification
from warehouse.signing.errors import SigningError
from warehouse.signing.trust import SigningSettings
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Decision

ACCEPTANCE: Final = acceptance.FORMAT
EXPORT_FORMATS: Final = ("json", "csv", "xlsx")
DECISION_STATUS: Final = {
    Decision.ACCEPTED: ActStatus.ACCEPTED,
    Decision.ACCEPTED_WITH_DISCREPANCIES: ActStatus.DISCREPANCIES,
    Decision.REJECTED: ActStatus.REJECTED,
}
AWAITING_ACCEPTANCE: Final = (ActStatus.SIGNED.value, ActStatus.SENT.value)


def _document_head(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes
    mimetype: str


_MIME: Final = {
    "json": "application/json",
    "p7s": "application/pkcs7-signature",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _table(content: bytes, fmt: str) -> bytes:
    """The same lines as CSV or XLSX: the signed JSON is read back, so there is one source of truth."""
    with tempfile.TemporaryDirectory(prefix="warehouse-export-") as folder:
        source, target = Path(folder) / "act.json", Path(folder) / f"act.{fmt}"
        source.write_bytes(content)
        reader = transfer_act.read_act(source)
        (transfer_act.write_csv if fmt == "csv" else transfer_act.write_xlsx)(target, reader.header, reader.lines())
        return target.read_bytes()


def export_files(
    db: Database, ref: str | int, fmt: str, stem: str | None = None, part: int | None = None
) -> list[ExportFile]:
    """The files of a signed act: per part `stem.json` + `stem.p7s` (the signed bytes and their signature), or
    `stem.csv` / `stem.xlsx`; `stem.N.…` when there are several parts. Raises ShippingError."""
    if fmt not in EXPORT_FORMATS:
        raise ShippingError("bad_format")
    with db.read() as s:
        act = find_act(s, ref)
        documents = transfer_documents(s, act.id)
        if not documents:
            raise ShippingError("not_signed")
        base = stem or file_stem(act.number)
    out = []
    for doc in documents:
        if part is not None and doc.part != part:
            continue
        name = base if len(documents) == 1 else f"{base}.{doc.part}"
        if fmt == "json":
            out += [
                ExportFile(f"{name}.json", doc.content, _MIME["json"]),
                ExportFile(f"{name}.p7s", doc.signature, _MIME["p7s"]),
            ]
        else:
            out.append(ExportFile(f"{name}.{fmt}", _table(doc.content, fmt), _MIME[fmt]))
    return out


def file_stem(number: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in number)
    return f"act-{safe}"


def mark_exported(
    db: Database, ref: str | int, files: Sequence[str], *, user: User | None = None, actor: str | None = None
) -> str:
    """Record an export; the first one of a signed act marks it sent. Returns the act's status."""
    with db.write() as s:
        act = find_act(s, ref)
        act = s.get(Act, act.id, with_for_update=True) or act
        s.refresh(act)
        if act.status == ActStatus.SIGNED:
            act.status = ActStatus.SENT
            audit.record(s, "act.sent", user=user, actor=actor, act_id=act.id, details={"files": list(files)})
        else:
            audit.record(s, "act.exported", user=user, actor=actor, act_id=act.id, details={"files": list(files)})
        announce(s, Event(act.id, "status"))
        return act.status


def export(
    db: Database, ref: str | int, out: Path, *, user: User | None = None, actor: str | None = None
) -> list[Path]:
    """Write a signed act beside `out` by its extension (.json also writes .p7s); returns the files written."""
    fmt = out.suffix.lower().lstrip(".")
    files = export_files(db, ref, fmt, stem=out.stem)
    written = []
    for f in files:
        target = out.with_name(f.name)
        partial = target.with_name(f".{target.name}.part")
        try:
            partial.write_bytes(f.data)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(target)
    mark_exported(db, ref, [p.name for p in written], user=user, actor=actor)
    return written


# --- the receiver's acceptance ---------------------------------------------------------------------------------


def verify_acceptance(settings: SigningSettings, content: bytes, signature: bytes) -> Verification:
    """Check the receiver's signature before anything is applied: every problem refuses (a path to a trusted
    root, valid when signed, not revoked; see trust.check_certificate). Raises SigningError."""
    result = signing_service.verify(settings, content, signature)
    if result.problems:
        raise SigningError(result.problems[0], certificate=result.info)
    return result


@dataclass(frozen=True)
class SurplusCode:
    code: str
    accepted: bool
    ours: bool  # still in our stock: it travelled without being on the act


@dataclass(frozen=True)
class ApplyResult:
    act_id: int
    number: str
    status: str
    decision: str
    transfer_part: int
    part: int
    parts: int
    returned: int  # codes back in stock
    returned_codes: list[str]  # the refused codes themselves (each with what is inside it)
    broken_up: list[str]  # aggregates the receiver took only part of
    surplus: list[SurplusCode]
    signer: CertificateInfo | None
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.act_id,
            "number": self.number,
            "status": self.status,
            "decision": self.decision,
            "transfer_part": self.transfer_part,
            "part": self.part,
            "parts": self.parts,
            "returned": self.returned,
            "returned_codes": self.returned_codes,
            "broken_up": self.broken_up,
            "surplus": [{"code": c.code, "accepted": c.accepted, "ours": c.ours} for c in self.surplus],
            "signer": self.signer.summary() if self.signer else None,
            "warnings": list(self.warnings),
        }


@dataclass
class _Answer:
    decision: Decision
    number: str
    date: str
    sender_bin: str
    receiver_bin: str
    source_sha256: str | None
    part: int
    parts: int
    nodes: list[tuple[str, bool, bool]]  # (code, accepted, listed with children), preorder
    surplus: list[tuple[str, bool]]


def _read_answer(content: bytes) -> _Answer:
    try:
        data = json.loads(content.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != ACCEPTANCE:
            raise ValueError("format")
        ref = data["act"]
        decision = Decision(str(data["decision"]))  # ValueError: not one of the three decisions
        nodes: list[tuple[str, bool, bool]] = []

        def walk(items: Any) -> None:
            if not isinstance(items, list):
                raise TypeError("products")
            for node in items:
                children = node.get("children")
                if not isinstance(node["code"], str) or not isinstance(node["accepted"], bool):
                    raise TypeError("node")
                nodes.append((node["code"], node["accepted"], children is not None))
                if children is not None:
                    walk(children)

        walk(data["products"])
        surplus = [(str(x["code"]), bool(x.get("accepted"))) for x in data.get("surplus") or []]
        return _Answer(
            decision,
            str(ref["number"]),
            str(ref["date"]),
            str(ref["sender"]["bin"]),
            str(ref["receiver"]["bin"]),
            ref.get("source_sha256") or None,
            int(data["part"]),
            int(data["parts"]),
            nodes,
            surplus,
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise ShippingError("not_acceptance") from None


def apply_acceptance(
    db: Database,
    ref: str | int,
    content: bytes,
    signature: bytes,
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
) -> ApplyResult:
    """Apply the receiver's signed acceptance of one part of a signed outgoing act.

    The signature is verified first; then the document must answer this act (number, date, parties, and the
    exact signed JSON when it names its SHA-256) and list only codes of the act. Codes refused return to
    stock with everything inside them; an aggregate the receiver took only part of stays shipped (its
    label is gone with the rest) and its refused contents come back loose. The status becomes the decision
    when every part has been answered. Raises SigningError or ShippingError; nothing is written then.
    """
    check = verify_acceptance(settings, content, signature)
    answer = _read_answer(content)
    at = utcnow()
    warnings: list[str] = list(check.warnings)
    with db.write() as s:
        act = find_act(s, ref)
        act = s.get(Act, act.id, with_for_update=True) or act
        s.refresh(act)
        if act.status == ActStatus.DRAFT:
            raise ShippingError("not_signed")
        documents = transfer_documents(s, act.id)
        transfer = _answered_part(act, documents, answer, warnings)
        if (
            answer.sender_bin != act.sender_bin
            or answer.receiver_bin != act.receiver_bin
            or answer.date != act.date.isoformat()
        ):
            raise ShippingError("wrong_act", number=answer.number, date=answer.date)
        if (
            s.execute(
                select(AcceptanceReceipt.id).where(
                    AcceptanceReceipt.act_id == act.id,
                    AcceptanceReceipt.transfer_part == transfer.part,
                    AcceptanceReceipt.part == answer.part,
                )
            ).first()
            is not None
        ):
            raise ShippingError("already_applied")
        if act.status not in AWAITING_ACCEPTANCE:
            raise ShippingError("act_closed")
        info = check.info
        if info is not None and info.bin and info.bin != act.receiver_bin:
            raise ShippingError("wrong_signer", bin=info.bin, receiver=act.receiver_bin)
        identities = [(code, stock.identity_of(code)[1]) for code, _a, _e in answer.nodes]
        _check_listed(s, act.id, identities)
        if answer.decision == Decision.REJECTED:
            refused = [stock.identity_of(code)[1] for code in _top_codes(transfer.content)]
            broken: list[str] = []
        else:
            refused = [
                ident
                for (code, accepted, expanded), (_c, ident) in zip(answer.nodes, identities, strict=True)
                if not accepted and not expanded
            ]
            broken = [code for code, _accepted, expanded in answer.nodes if expanded]
        returned, returned_codes = 0, []
        for identity in refused:
            n, code = _return(s, act.id, identity, user, at)
            returned += n
            if n:
                returned_codes.append(code)
        ours = stock.held_identities_of(s, [stock.identity_of(code)[1] for code, _a in answer.surplus])
        surplus = [SurplusCode(code, accepted, stock.identity_of(code)[1] in ours) for code, accepted in answer.surplus]
        document = SignedDocument(
            act_id=act.id,
            kind=ACCEPTANCE,
            part=answer.part,
            content=content,
            signature=signature,
            certificate=check.certificate.public_bytes(Encoding.DER) if check.certificate is not None else b"",
            signer=((info.name or info.subject or "") if info else "")[:300],
            signer_iin=info.iin if info else None,
            signer_bin=info.bin if info else None,
            cert_sha256=info.fingerprint_sha256 if info else "",
            user_id=user.id if user else None,
        )
        s.add(document)
        s.flush()
        s.add(
            AcceptanceReceipt(
                act_id=act.id,
                transfer_part=transfer.part,
                part=answer.part,
                parts=answer.parts,
                decision=answer.decision,
                document_id=document.id,
                returned=returned,
                detail={
                    "returned": returned_codes[:1000],
                    "broken_up": broken[:1000],
                    "surplus": [c.code for c in surplus][:1000],
                    "warnings": warnings,
                },
                user_id=user.id if user else None,
                created_at=at,
            )
        )
        s.flush()
        act.status = _status_after(s, act.id, len(documents))
        audit.record(
            s,
            "act.acceptance_applied",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "decision": answer.decision,
                "transfer_part": transfer.part,
                "part": answer.part,
                "parts": answer.parts,
                "returned": returned,
                "broken_up": len(broken),
                "surplus": len(surplus),
                "status": act.status,
                "document_sha256": hashlib.sha256(content).hexdigest(),
                "signer": info.name if info else None,
                "iin": info.iin if info else None,
                "certificate_sha256": info.fingerprint_sha256 if info else None,
                "warnings": warnings,
            },
        )
        announce(s, Event(act.id, "status"), STOCK_CHANGED)
        return ApplyResult(
            act.id,
            act.number,
            act.status,
            answer.decision,
            transfer.part,
            answer.part,
            answer.parts,
            returned,
            returned_codes,
            broken,
            surplus,
            info,
            tuple(warnings),
        )


def _answered_part(act: Act, documents: list[SignedDocument], answer: _Answer, warnings: list[str]) -> SignedDocument:
    """Which of our documents the acceptance answers: the one whose SHA-256 it names, else by number."""
    if not documents:
        raise ShippingError("not_signed")
    if answer.source_sha256:
        for doc in documents:
            if hashlib.sha256(doc.content).hexdigest() == answer.source_sha256:
                return doc
        warnings.append("other_file")
    for doc in documents:
        if part_number(act.number, doc.part, len(documents)) == answer.number:
            return doc
    raise ShippingError("wrong_act", number=answer.number, date=answer.date)


def _check_listed(s: Session, act_id: int, identities: list[tuple[str, str]]) -> None:
    wanted = sorted({ident for _code, ident in identities})
    known: set[str] = set()
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        known.update(
            s.execute(select(ActCode.identity).where(ActCode.act_id == act_id, ActCode.identity.in_(chunk))).scalars()
        )
    for code, ident in identities:
        if ident not in known:
            raise ShippingError("unknown_code", code=code)


def _top_codes(content: bytes) -> list[str]:
    products = _document_head(content).get("products") or []
    return [str(p["code"]) for p in products if isinstance(p, dict) and "code" in p]


def _return(s: Session, act_id: int, identity: str, user: User | None, at: datetime) -> tuple[int, str]:
    """A refused code comes back into stock with what is inside it, loose at the top of the tree."""
    row = s.execute(select(StockCode).where(StockCode.identity == identity)).scalar()
    if row is None or row.act_id != act_id or row.status != StockStatus.SHIPPED:
        return 0, ""  # returned already (an earlier part, a rejected whole), or never left with this act
    tree = stock.subtree(row.id)
    mine = select(StockCode.id).where(
        StockCode.id.in_(tree), StockCode.status == StockStatus.SHIPPED, StockCode.act_id == act_id
    )
    stock.move(s, mine, MoveKind.RETURNED, act_id=act_id, user_id=user.id if user else None, station=None, at=at)
    conn = s.connection()
    n = conn.execute(
        update(StockCode)
        .where(StockCode.id.in_(tree), StockCode.status == StockStatus.SHIPPED, StockCode.act_id == act_id)
        .values(status=StockStatus.IN_STOCK.value, act_id=None, updated_at=at)
    ).rowcount
    conn.execute(update(StockCode).where(StockCode.id == row.id).values(parent_id=None))
    return int(n), row.code


def _status_after(s: Session, act_id: int, transfer_parts: int) -> ActStatus:
    answered: dict[int, tuple[int, set[int], set[str]]] = {}
    for r in s.execute(select(AcceptanceReceipt).where(AcceptanceReceipt.act_id == act_id)).scalars():
        parts, seen, decisions = answered.get(r.transfer_part, (r.parts, set(), set()))
        seen.add(r.part)
        decisions.add(r.decision)
        answered[r.transfer_part] = (max(parts, r.parts), seen, decisions)
    complete = all(tp in answered and len(answered[tp][1]) >= answered[tp][0] for tp in range(1, transfer_parts + 1))
    if not complete:
        return ActStatus.SENT
    decisions = set().union(*(d for _p, _s, d in answered.values()))
    if len(decisions) == 1:  # every part answered alike
        return DECISION_STATUS[Decision(decisions.pop())]
    return ActStatus.DISCREPANCIES
