"""The signed `transfer-act/1` documents of an outgoing act: built from the draft, signed, stored.

A draft is split at 30,000 codes per document without ever cutting an aggregate; the exact bytes are
signed, the tree is frozen into `act_codes` (the act's permanent record) and its codes leave the stock.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from warehouse import transfer_act
from warehouse.codes import Kind
from warehouse.db import Database
from warehouse.events import STOCK_CHANGED, Event, announce
from warehouse.models import (
    Act,
    MoveKind,
    SignedDocument,
    StockCode,
    StockStatus,
    User,
)
from warehouse.services import audit, importing, stock
from warehouse.services import signing as signing_service
from warehouse.services.shipping.draft import find_act, lock_draft
from warehouse.services.shipping.errors import ShippingError
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import Signer
from warehouse.signing.trust import SigningSettings, check_for_signing
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Level

FORMAT: Final = transfer_act.FORMAT  # transfer-act/1
MAX_CODES: Final = 30_000  # the operator takes about 30,000 codes per document


# --- the documents ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferDocument:
    part: int
    parts: int
    number: str
    codes: int
    content: bytes  # the exact bytes that are signed and sent
    sha256: str


def _pad(dialect: str, column: str) -> str:
    # Zero-padded ids concatenate into a path whose text order is the tree's preorder.
    return f"printf('%012d', {column})" if dialect == "sqlite" else f"lpad(CAST({column} AS text), 12, '0')"


def _roots(s: Session, act_id: int) -> list[tuple[int, int, str, str]]:
    """(root id, codes in its subtree, code, level) of a draft, in id order."""
    return [
        (int(r[0]), int(r[1]), r[2], r[3])
        for r in s.execute(
            text(
                "WITH RECURSIVE t(id, root) AS ("
                " SELECT id, id FROM stock_codes WHERE act_id = :act AND status = :st AND parent_id IS NULL"
                " UNION ALL SELECT c.id, t.root FROM stock_codes c JOIN t ON c.parent_id = t.id WHERE c.act_id = :act)"
                " SELECT t.root, count(*), r.code, r.level FROM t JOIN stock_codes r ON r.id = t.root"
                " GROUP BY t.root, r.code, r.level ORDER BY t.root"
            ),
            {"act": act_id, "st": StockStatus.RESERVED.value},
        )
    ]


def _kind(level: str, code: str) -> Kind:
    if level == Level.PACK:
        return Kind.PACK
    if level == Level.BLOCK:
        return Kind.BLOCK
    return Kind.SSCC if re.fullmatch(r"00\d{18}", code) else Kind.AGGREGATE


def _lines(s: Session, act_id: int) -> Iterator[tuple[int | None, transfer_act.ActLine]]:
    """A draft's codes in preorder, as act lines; the first item is the root id on a root line."""
    pad = _pad(s.get_bind().dialect.name, "id")
    pad_c = _pad(s.get_bind().dialect.name, "c.id")
    rows = s.execute(
        text(
            f"WITH RECURSIVE t(id, path) AS ("  # noqa: S608 - constant SQL: no user input is formatted in
            f" SELECT id, {pad} FROM stock_codes WHERE act_id = :act AND status = :st AND parent_id IS NULL"
            f" UNION ALL SELECT c.id, t.path || {pad_c} FROM stock_codes c JOIN t ON c.parent_id = t.id"
            f" WHERE c.act_id = :act)"
            " SELECT s.id, s.identity, s.code, s.level, s.gtin, s.name, s.declared_children, p.identity, ap.price"
            " FROM t JOIN stock_codes s ON s.id = t.id LEFT JOIN stock_codes p ON p.id = s.parent_id"
            " LEFT JOIN act_prices ap ON ap.act_id = :act AND ap.gtin = s.gtin AND ap.level = s.level"
            " ORDER BY t.path"
        ).execution_options(yield_per=20_000),
        {"act": act_id, "st": StockStatus.RESERVED.value},
    )
    for code_id, identity, code, level, gtin, name, declared, parent, price in rows:
        line = transfer_act.ActLine(
            "",
            code,
            identity,
            _kind(level, code),
            transfer_act.Level(level),
            parent,
            gtin,
            name,
            int(price) if price is not None else None,
            None,
            bool(declared) and level != Level.PACK,
        )
        yield (code_id if parent is None else None), line


def _header(act: Act, number: str) -> transfer_act.ActHeader:
    basis = tuple(
        transfer_act.BasisDocument(str(b.get("type", "")), str(b.get("number", "")), str(b.get("date", "")))
        for b in (act.basis or [])
        if isinstance(b, dict)
    )
    return transfer_act.ActHeader(
        FORMAT,
        number,
        act.date,
        transfer_act.Party(act.sender_name, act.sender_bin),
        transfer_act.Party(act.receiver_name, act.receiver_bin),
        basis,
        act.turnover,
    )


def part_number(number: str, part: int, parts: int) -> str:
    """Each part travels as an act of its own: ТА-000042/2 when there are several."""
    return number if parts == 1 else f"{number}/{part}"


def _documents(s: Session, act: Act, max_codes: int) -> list[TransferDocument]:
    roots = _roots(s, act.id)
    if not roots:
        raise ShippingError("empty_act")
    part_of: dict[int, int] = {}
    part, filled = 0, 0
    for root_id, n, code, level in roots:
        if n > max_codes:
            raise ShippingError("too_big", code=code, level=level, count=n, max=max_codes)
        if filled and filled + n > max_codes:
            part, filled = part + 1, 0
        part_of[root_id] = part
        filled += n
    parts = part + 1
    documents: list[TransferDocument] = []
    with tempfile.TemporaryDirectory(prefix="warehouse-act-") as folder:
        path = Path(folder) / "part.json"

        def render(index: int, lines: list[transfer_act.ActLine]) -> None:
            number = part_number(act.number, index + 1, parts)
            transfer_act.write_json(path, _header(act, number), lines)
            content = path.read_bytes()
            documents.append(
                TransferDocument(index + 1, parts, number, len(lines), content, hashlib.sha256(content).hexdigest())
            )

        current, lines = 0, list[transfer_act.ActLine]()
        for root, line in _lines(s, act.id):
            if root is not None and part_of[root] != current:
                render(current, lines)
                current, lines = part_of[root], []
            lines.append(line)
        render(current, lines)
    return documents


@dataclass(frozen=True)
class Prepared:
    act_id: int
    number: str
    documents: list[TransferDocument]


def prepare(db: Database, ref: str | int, *, max_codes: int = MAX_CODES) -> Prepared:
    """The transfer-act document(s) a draft would be signed as. Deterministic for the same draft.
    Raises ShippingError "no_act", "not_outgoing", "not_draft", "empty_act", "too_big"."""
    with db.read() as s:
        act = find_act(s, ref)
        if act.status != ActStatus.DRAFT:
            raise ShippingError("not_draft")
        return Prepared(act.id, act.number, _documents(s, act, max_codes))


@dataclass(frozen=True)
class SignOutcome:
    act_id: int
    number: str
    documents: list[TransferDocument]
    certificate: CertificateInfo
    warnings: tuple[str, ...]


def sign(
    db: Database,
    ref: str | int,
    signer: Signer,
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    max_codes: int = MAX_CODES,
) -> SignOutcome:
    """Sign a draft with a server-side signer (PKCS#12 key file, NCANode): documents, signatures, codes shipped.
    Raises SigningError or ShippingError; nothing is written then."""
    warnings = check_for_signing(signer.certificate, settings, signer.chain)
    prepared = prepare(db, ref, max_codes=max_codes)
    try:
        signatures = [signer.sign(doc.content) for doc in prepared.documents]
    finally:
        close = getattr(signer, "close", None)
        if callable(close):
            close()
    fingerprint = CertificateInfo.from_certificate(signer.certificate).fingerprint_sha256
    for doc, signature in zip(prepared.documents, signatures, strict=True):
        check = signing_service.verify(settings, doc.content, signature)
        broken = [p for p in check.problems if p in signing_service.SIGNATURE_PROBLEMS - {"gost_unsupported"}]
        if broken or check.info is None or check.info.fingerprint_sha256 != fingerprint:
            raise SigningError(broken[0] if broken else "signer_mismatch")
    return _store(db, prepared, signatures, signer.certificate, warnings, user, actor, max_codes, signer.backend)


def accept_signatures(
    db: Database,
    ref: str | int,
    signatures: Sequence[bytes],
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    backend: str = "ncalayer",
    max_codes: int = MAX_CODES,
) -> SignOutcome:
    """Store signatures made in the browser (NCALayer) over the documents `prepare` gives now: each must
    verify against its part, all with one certificate that may sign here. Raises SigningError."""
    prepared = prepare(db, ref, max_codes=max_codes)
    certificate, warnings = signing_service.posted_signer(settings, [d.content for d in prepared.documents], signatures)
    return _store(db, prepared, list(signatures), certificate, warnings, user, actor, max_codes, backend)


def _freeze(s: Session, act_id: int) -> None:
    """Copy the draft's tree into act_codes: the act's permanent record (reports, totals after signing)."""
    conn = s.connection()
    params = {"act": act_id, "st": StockStatus.RESERVED.value}
    conn.execute(
        text(
            "INSERT INTO act_codes (act_id, parent_id, identity, code, level, gtin, name, price, vat, "
            "declared_children,"
            " credited_scan_id, pos, last)"
            " SELECT :act, NULL, s.identity, s.code, s.level, s.gtin, s.name, ap.price, NULL, s.declared_children,"
            " NULL, NULL, NULL FROM stock_codes s"
            " LEFT JOIN act_prices ap ON ap.act_id = :act AND ap.gtin = s.gtin AND ap.level = s.level"
            " WHERE s.act_id = :act AND s.status = :st ORDER BY s.id"
        ),
        params,
    )
    conn.execute(
        text(
            "UPDATE act_codes SET parent_id = (SELECT pa.id FROM stock_codes sc"
            " JOIN stock_codes sp ON sp.id = sc.parent_id"
            " JOIN act_codes pa ON pa.act_id = :act AND pa.identity = sp.identity"
            " WHERE sc.identity = act_codes.identity) WHERE act_id = :act"
        ),
        {"act": act_id},
    )
    importing.number_tree(conn, act_id)
    conn.execute(
        text(
            "INSERT INTO act_counters (act_id, level, gtin, expected, credited) "
            "SELECT act_id, level, coalesce(gtin, ''), count(*), 0 FROM act_codes WHERE act_id = :act "
            "GROUP BY act_id, level, coalesce(gtin, '')"
        ),
        {"act": act_id},
    )


def _store(
    db: Database,
    prepared: Prepared,
    signatures: list[bytes],
    certificate: x509.Certificate,
    warnings: tuple[str, ...],
    user: User | None,
    actor: str | None,
    max_codes: int,
    backend: str,
) -> SignOutcome:
    info = CertificateInfo.from_certificate(certificate)
    der = certificate.public_bytes(Encoding.DER)
    at = utcnow()
    with db.write() as s:
        act = lock_draft(s, prepared.act_id)
        documents = _documents(s, act, max_codes)
        if [d.sha256 for d in documents] != [d.sha256 for d in prepared.documents]:
            raise SigningError("stale_document")  # a scan changed the draft while it was being signed
        expected = sum(d.codes for d in documents)
        _freeze(s, act.id)
        stock.move(
            s,
            select(StockCode.id).where(StockCode.act_id == act.id, StockCode.status == StockStatus.RESERVED),
            MoveKind.SHIPPED,
            act_id=act.id,
            user_id=user.id if user else None,
            station=None,
            at=at,
        )
        shipped = (
            s.connection()
            .execute(
                update(StockCode)
                .where(StockCode.act_id == act.id, StockCode.status == StockStatus.RESERVED)
                .values(status=StockStatus.SHIPPED.value, updated_at=at)
            )
            .rowcount
        )
        if shipped != expected:
            raise ShippingError("changed")
        rows = signing_service.store_signed(s, act.id, FORMAT, documents, signatures, der, info, user)
        act.status = ActStatus.SIGNED
        s.flush()
        audit.record(
            s,
            "act.signed",
            user=user,
            actor=actor,
            act_id=act.id,
            details={
                "kind": FORMAT,
                "parts": len(rows),
                "codes": expected,
                "backend": backend,
                "signer": info.name,
                "iin": info.iin,
                "bin": info.bin,
                "certificate_sha256": info.fingerprint_sha256,
                "documents": [
                    {"id": r.id, "part": d.part, "number": d.number, "codes": d.codes, "sha256": d.sha256}
                    for r, d in zip(rows, documents, strict=True)
                ],
                "warnings": list(warnings),
            },
        )
        announce(s, Event(act.id, "status"), STOCK_CHANGED)
        return SignOutcome(act.id, act.number, documents, info, warnings)


# --- export ---------------------------------------------------------------------------------------------------


def transfer_documents(s: Session, act_id: int) -> list[SignedDocument]:
    return list(
        s.execute(
            select(SignedDocument)
            .where(SignedDocument.act_id == act_id, SignedDocument.kind == FORMAT)
            .order_by(SignedDocument.part)
        ).scalars()
    )


def count_lines(content: bytes) -> int:
    # Our writer puts every line on its own: `{"code": …`; the header has no "code" key. No JSON parse needed.
    return content.count(b'{"code": ')
