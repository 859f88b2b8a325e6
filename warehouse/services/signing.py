"""Signing a decided act: build its acceptance document(s), sign or accept signatures, store, audit.

Two ways in, one way out:
- `sign_act` with a server-side `Signer` (PKCS#12 file, NCANode): the CLI and the key-file form;
- `accept_signatures` with CMS made elsewhere (NCALayer in the browser): the documents are rebuilt
  from the database with the same `created_at` — the bytes are deterministic — and every signature is
  verified against them before anything is stored;
- both end in `_store`: one transaction writes a SignedDocument per part, marks the act signed and
  appends the audit entry, after checking that nobody signed or changed the decision meanwhile.
Nothing is written when anything fails. The key and its password never reach this module's storage:
only the certificate is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.db import Database
from warehouse.matching import SURPLUS_CLASSES
from warehouse.models import Act, ActCode, Decision, LineResolution, OperatorCodeCheck, Scan, SignedDocument, User
from warehouse.services import audit
from warehouse.services.acts import find_act
from warehouse.signing import acceptance
from warehouse.signing.acceptance import AcceptanceDocument, SignerRef
from warehouse.signing.certs import CertificateInfo
from warehouse.signing.cms import Verification, verify_detached
from warehouse.signing.errors import SigningError
from warehouse.signing.signers import NcaNodeClient, Signer
from warehouse.signing.trust import SigningSettings, check_certificate, check_for_signing
from warehouse.timeutil import utcnow
from warehouse.vocab import ActStatus, Direction

KIND = acceptance.FORMAT
# Failures of the signature itself; anything else a verification reports is about the certificate.
SIGNATURE_PROBLEMS = frozenset(
    {
        "not_cms",
        "multiple_signers",
        "signer_not_found",
        "content_mismatch",
        "bad_signature",
        "unsupported_algorithm",
        "gost_unsupported",
    }
)
# How long a page may hold a document before its signature is posted back (NCALayer path).
MAX_DOCUMENT_AGE = timedelta(hours=12)
_CODES_BATCH = 20_000
_IDS_BATCH = 500  # ids per IN (...) when the listed codes' text is fetched


@dataclass(frozen=True)
class Prepared:
    """The documents to sign for one act, as of one moment."""

    act_id: int
    number: str
    decision_id: int
    created_at: datetime
    documents: list[AcceptanceDocument]


@dataclass(frozen=True)
class SigningOutcome:
    act_id: int
    number: str
    document_ids: list[int]
    documents: list[AcceptanceDocument]
    signatures: list[bytes]
    certificate: CertificateInfo
    warnings: tuple[str, ...]
    backend: str


def _latest_decision(s: Session, act_id: int) -> Decision | None:
    return s.execute(select(Decision).where(Decision.act_id == act_id).order_by(Decision.id.desc()).limit(1)).scalar()


def _signable(s: Session, act: Act) -> Decision:
    if act.status == ActStatus.SIGNED:
        raise SigningError("already_signed")
    decision = _latest_decision(s, act.id)
    if act.direction != Direction.INCOMING or act.status != ActStatus.DECIDED or decision is None:
        raise SigningError("act_not_decided")
    return decision


def _username(s: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = s.get(User, user_id)
    return user.username if user is not None else None


def _latest_resolutions(s: Session, act_id: int) -> tuple[dict[int, LineResolution], dict[int, LineResolution]]:
    """The resolution in force per missing code and per surplus scan (append-only: the newest wins)."""
    by_code: dict[int, LineResolution] = {}
    by_scan: dict[int, LineResolution] = {}
    stmt = select(LineResolution).where(LineResolution.act_id == act_id).order_by(LineResolution.id)
    for r in s.execute(stmt).scalars():
        if r.act_code_id is not None:
            by_code[r.act_code_id] = r
        elif r.scan_id is not None:
            by_scan[r.scan_id] = r
    return by_code, by_scan


def _accepted_codes(
    s: Session, act_id: int, decision: str, resolutions: dict[int, LineResolution]
) -> Iterator[tuple[int, int | None, str, str | None, bool, LineResolution | None]]:
    """The act's codes in preorder: (id, parent id, level, GTIN, accepted, own resolution). A resolution on
    a missing aggregate covers the codes inside it, which carry no resolution of their own (`inherited`
    stays as small as they are). The signed document and every printed figure come from this one walk."""
    stmt = (
        select(ActCode.id, ActCode.parent_id, ActCode.level, ActCode.gtin, ActCode.credited_scan_id)
        .where(ActCode.act_id == act_id)
        .order_by(ActCode.pos, ActCode.id)
        .execution_options(yield_per=_CODES_BATCH)
    )
    inherited: dict[int, LineResolution] = {}
    # A code the operator says is not the sender's or not in circulation is accepted only by the lead's word.
    flagged = set(s.execute(select(OperatorCodeCheck.act_code_id).where(OperatorCodeCheck.act_id == act_id)).scalars())
    for code_id, parent_id, level, gtin, credited_scan_id in s.connection().execute(stmt):  # Core: no ORM rows
        own = resolutions.get(code_id)
        resolution = own or (inherited.get(parent_id) if parent_id is not None else None)
        if resolution is not None:
            inherited[code_id] = resolution
        accepted = acceptance.code_accepted(
            decision,
            credited_scan_id is not None and code_id not in flagged,
            resolution.resolution if resolution else None,
        )
        yield code_id, parent_id, level, gtin, accepted, own


def _code_lines(
    s: Session, act_id: int, decision: str, resolutions: dict[int, LineResolution]
) -> Iterator[acceptance.CodeLine]:
    for code_id, parent_id, level, _gtin, accepted, own in _accepted_codes(s, act_id, decision, resolutions):
        # Without the code's text: the document lists few codes of a truck; code_text fetches those.
        yield acceptance.CodeLine(
            code_id, parent_id, None, level, accepted, own.reason if own else None, own.comment if own else None
        )


def accepted_counts(s: Session, act_id: int) -> dict[tuple[str, str], int] | None:
    """Accepted codes per (GTIN or "", level) as the signed document counts them; None while the act is not
    decided. The document's rule (acceptance._Tree.listed): a code with nothing inside it in the act is
    accepted by its own flag, an aggregate as a whole exactly when everything inside it is."""
    decision = _latest_decision(s, act_id)
    if decision is None:
        return None
    by_code, _ = _latest_resolutions(s, act_id)
    counts: dict[tuple[str, str], int] = {}
    open_: list[list[Any]] = []  # the ancestors of the current code: [id, level, gtin, own, all inside, any inside]

    def close() -> None:
        _id, level, gtin, own, inside_ok, has_inside = open_.pop()
        ok = inside_ok if has_inside else own
        if ok:
            key = (gtin or "", str(level))
            counts[key] = counts.get(key, 0) + 1
        if open_:
            open_[-1][4] = open_[-1][4] and ok
            open_[-1][5] = True

    for code_id, parent_id, level, gtin, accepted, _own in _accepted_codes(s, act_id, decision.decision, by_code):
        while open_ and open_[-1][0] != parent_id:
            close()
        open_.append([code_id, level, gtin, accepted, True, False])
    while open_:
        close()
    return counts


def _code_text(s: Session) -> acceptance.CodeText:
    def code_text(ids: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(ids), _IDS_BATCH):
            rows = s.execute(select(ActCode.id, ActCode.code).where(ActCode.id.in_(ids[start : start + _IDS_BATCH])))
            found.update((code_id, code) for code_id, code in rows)  # a Result has keys(): not a mapping
        return found

    return code_text


def _surplus_lines(
    s: Session, act_id: int, decision: str, resolutions: dict[int, LineResolution]
) -> list[acceptance.SurplusLine]:
    lines: list[acceptance.SurplusLine] = []
    seen: set[str] = set()
    stmt = select(Scan).where(Scan.act_id == act_id, Scan.scan_class.in_(SURPLUS_CLASSES)).order_by(Scan.id)
    for scan in s.execute(stmt).scalars():
        code = scan.normalized or scan.raw
        if code in seen:  # the same foreign code scanned twice is one line
            continue
        seen.add(code)
        r = resolutions.get(scan.id)
        lines.append(
            acceptance.SurplusLine(
                code,
                scan.kind,
                scan.scan_class,
                acceptance.surplus_accepted(decision, r.resolution if r else None),
                r.reason if r else None,
                r.comment if r else None,
            )
        )
    return lines


def _act_ref(act: Act) -> acceptance.ActRef:
    basis = tuple(
        acceptance.BasisDoc(str(b.get("type", "")), str(b.get("number", "")), str(b["date"]) if b.get("date") else None)
        for b in (act.basis or [])
        if isinstance(b, dict)
    )
    return acceptance.ActRef(
        act.number,
        act.date,
        acceptance.Party(act.sender_name, act.sender_bin),
        acceptance.Party(act.receiver_name, act.receiver_bin),
        basis,
        act.turnover,
        act.source_sha256,
    )


def prepare(
    db: Database,
    ref: str | int,
    *,
    signer: SignerRef,
    created_at: datetime,
    demo: bool = False,
    max_codes: int = acceptance.MAX_CODES,
) -> Prepared:
    """The acceptance document(s) of a decided act; `demo` (the station's demo mode) marks them as such.
    Raises SigningError "no_act", "act_not_decided", "already_signed". Deterministic for the same act
    state, signer, `created_at` and mode."""
    with db.read() as s:
        act = find_act(s, ref, refuse=SigningError)
        decision = _signable(s, act)
        by_code, by_scan = _latest_resolutions(s, act.id)
        info = acceptance.DecisionInfo(
            decision.decision, decision.reason, decision.comment, decision.created_at, _username(s, decision.user_id)
        )
        documents = acceptance.build(
            _act_ref(act),
            info,
            _code_lines(s, act.id, decision.decision, by_code),
            _surplus_lines(s, act.id, decision.decision, by_scan),
            signer,
            created_at.replace(microsecond=0),
            max_codes=max_codes,
            code_text=_code_text(s),
            demo=demo,
        )
        return Prepared(act.id, act.number, decision.id, created_at.replace(microsecond=0), documents)


def signer_ref(user: User | None, actor: str | None, certificate: x509.Certificate | None) -> SignerRef:
    return SignerRef(
        user.username if user else actor,
        (user.full_name or None) if user else None,
        CertificateInfo.from_certificate(certificate) if certificate is not None else None,
    )


def verify(settings: SigningSettings, content: bytes, signature: bytes) -> Verification:
    """Check a detached signature over exact bytes. A GOST signature goes to NCANode when configured.

    Also a document that names its signer's certificate must be signed with that certificate.
    """
    # The certificate is judged by the same check that signing makes (trust.check_certificate).
    result = verify_detached(
        content, signature, check=lambda cert, chain, at: check_certificate(cert, settings, chain, at)
    )
    if result.gost and settings.ncanode_url:
        valid = NcaNodeClient(settings.ncanode_url).verify(content, signature)
        result = Verification(
            () if valid else ("bad_signature",),
            ("verified_by_ncanode",),
            result.certificate,
            result.info,
            result.signing_time,
            result.digest_algorithm,
            None,
            True,
        )
    summary = acceptance.read_summary(content)
    if (
        summary is not None
        and summary.certificate_sha256
        and result.info is not None
        and summary.certificate_sha256 != result.info.fingerprint_sha256
    ):
        result = Verification(
            (*result.problems, "signer_mismatch"),
            result.warnings,
            result.certificate,
            result.info,
            result.signing_time,
            result.digest_algorithm,
            result.status,
            result.gost,
        )
    return result


def sign_act(
    db: Database,
    ref: str | int,
    signer: Signer,
    *,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    now: datetime | None = None,
    max_codes: int = acceptance.MAX_CODES,
    before_commit: Callable[[SigningOutcome], None] | None = None,
) -> SigningOutcome:
    """Sign the acceptance document(s) of a decided act with a server-side signer and store them.

    `before_commit` runs inside the storing transaction (the CLI moves its files into place there):
    if it raises, nothing is stored. Raises SigningError; nothing is written then.
    """
    warnings = check_for_signing(signer.certificate, settings, signer.chain)
    prepared = prepare(
        db,
        ref,
        signer=signer_ref(user, actor, signer.certificate),
        created_at=now or utcnow(),
        demo=settings.demo,
        max_codes=max_codes,
    )
    try:
        signatures = [signer.sign(doc.content) for doc in prepared.documents]
    finally:
        close = getattr(signer, "close", None)  # NCANode's signer holds the key file and password until here
        if callable(close):
            close()
    for doc, signature in zip(prepared.documents, signatures, strict=True):
        # What we store must verify: catch a backend that signed other bytes or with another key.
        check = verify(settings, doc.content, signature)
        broken = [p for p in check.problems if p in SIGNATURE_PROBLEMS - {"gost_unsupported"}]
        if broken or check.info is None or check.info.fingerprint_sha256 != _fingerprint(signer.certificate):
            raise SigningError(broken[0] if broken else "signer_mismatch")
    return _store(db, prepared, signatures, signer.certificate, warnings, signer.backend, user, actor, before_commit)


def accept_signatures(
    db: Database,
    ref: str | int,
    signatures: Sequence[bytes],
    *,
    created_at: datetime,
    settings: SigningSettings,
    user: User | None = None,
    actor: str | None = None,
    backend: str = "ncalayer",
    now: datetime | None = None,
) -> SigningOutcome:
    """Store signatures made elsewhere (NCALayer) over the documents `prepare` gives for `created_at`.

    Each must verify against its part, all by one certificate that may sign here. Raises SigningError.
    """
    moment = now or utcnow()
    if not moment - MAX_DOCUMENT_AGE <= created_at <= moment + timedelta(minutes=5):
        raise SigningError("stale_document")
    prepared = prepare(db, ref, signer=signer_ref(user, actor, None), created_at=created_at, demo=settings.demo)
    certificate, warnings = posted_signer(settings, [d.content for d in prepared.documents], signatures)
    return _store(db, prepared, list(signatures), certificate, warnings, backend, user, actor, None)


def posted_signer(
    settings: SigningSettings, contents: Sequence[bytes], signatures: Sequence[bytes]
) -> tuple[x509.Certificate, tuple[str, ...]]:
    """Signatures made elsewhere (NCALayer), one per document part: each must verify against its part, all
    by one certificate that may sign here. Its certificate and the warnings; raises SigningError."""
    if len(signatures) != len(contents):
        raise SigningError("signature_count")
    certificate: x509.Certificate | None = None
    for content, signature in zip(contents, signatures, strict=True):
        check = verify(settings, content, signature)
        broken = [p for p in check.problems if p in SIGNATURE_PROBLEMS]
        if broken or check.certificate is None:
            raise SigningError(broken[0] if broken else "signer_not_found", certificate=check.info)
        if certificate is not None and check.certificate != certificate:
            raise SigningError("signer_mismatch", certificate=check.info)
        certificate = check.certificate
    assert certificate is not None
    return certificate, check_for_signing(certificate, settings)


def _fingerprint(cert: x509.Certificate) -> str:
    return CertificateInfo.from_certificate(cert).fingerprint_sha256


def _store(
    db: Database,
    prepared: Prepared,
    signatures: list[bytes],
    certificate: x509.Certificate,
    warnings: tuple[str, ...],
    backend: str,
    user: User | None,
    actor: str | None,
    before_commit: Callable[[SigningOutcome], None] | None,
) -> SigningOutcome:
    info = CertificateInfo.from_certificate(certificate)
    cert_der = certificate.public_bytes(Encoding.DER)
    with db.write() as s:
        act = s.get(Act, prepared.act_id, with_for_update=True)
        if act is None:
            raise SigningError("no_act")
        decision = _signable(s, act)
        if decision.id != prepared.decision_id:
            raise SigningError("stale_document")
        rows = store_signed(s, act.id, KIND, prepared.documents, signatures, cert_der, info, user)
        act.status = ActStatus.SIGNED
        s.flush()
        details: dict[str, Any] = {
            "kind": KIND,
            "parts": len(rows),
            "backend": backend,
            "signer": info.name,
            "iin": info.iin,
            "bin": info.bin,
            "certificate_sha256": info.fingerprint_sha256,
            "issuer": info.issuer,
            "documents": [
                {"id": r.id, "part": d.part, "codes": d.codes, "sha256": d.sha256}
                for r, d in zip(rows, prepared.documents, strict=True)
            ],
            "warnings": list(warnings),
            "decision_id": decision.id,
        }
        audit.record(s, "act.signed", user=user, actor=actor, act_id=act.id, details=details)
        outcome = SigningOutcome(
            act.id, act.number, [r.id for r in rows], prepared.documents, signatures, info, warnings, backend
        )
        if before_commit is not None:
            before_commit(outcome)
        return outcome


def documents(db: Database, act_id: int) -> list[SignedDocument]:
    with db.read() as s:
        stmt = select(SignedDocument).where(SignedDocument.act_id == act_id).order_by(SignedDocument.part)
        return list(s.execute(stmt).scalars())


# Enough bytes to hold an acceptance document's head (the keys before "products") in any real act.
_HEAD_BYTES = 256 * 1024


def demo_signed(s: Session, act_id: int) -> bool:
    """Was the act's decision signed in demo mode? Told by the signed bytes themselves (acceptance.is_demo),
    so no later setting can make a demo signature look legal, or a legal one look like a demo."""
    stmt = (
        select(func.substr(SignedDocument.content, 1, _HEAD_BYTES), func.length(SignedDocument.content))
        .where(SignedDocument.act_id == act_id, SignedDocument.kind == KIND)
        .order_by(SignedDocument.part)
        .limit(1)
    )
    row = s.execute(stmt).first()
    if row is None:
        return False
    head, size = bytes(row[0]), row[1]
    if size > _HEAD_BYTES and acceptance.FORMAT.encode() not in head:  # a head longer than that: read it all
        content = s.execute(
            select(SignedDocument.content)
            .where(SignedDocument.act_id == act_id, SignedDocument.kind == KIND)
            .order_by(SignedDocument.part)
            .limit(1)
        ).scalar_one()
        return acceptance.is_demo(content)
    return acceptance.is_demo(head)


def is_demo_signed(db: Database, act_id: int) -> bool:
    """`demo_signed` in a read transaction of its own (the pages' question)."""
    with db.read() as s:
        return demo_signed(s, act_id)


def document(db: Database, document_id: int) -> SignedDocument | None:
    with db.read() as s:
        return s.get(SignedDocument, document_id)


class _Part(Protocol):
    @property
    def part(self) -> int: ...
    @property
    def content(self) -> bytes: ...


def store_signed(
    s: Session,
    act_id: int,
    kind: str,
    documents: Sequence[_Part],
    signatures: Sequence[bytes],
    certificate: bytes,
    info: CertificateInfo,
    user: User | None,
) -> list[SignedDocument]:
    """Keep each part's exact bytes with its detached signature and the signer (a decision or an outgoing act)."""
    rows = [
        SignedDocument(
            act_id=act_id,
            kind=kind,
            part=doc.part,
            content=doc.content,
            signature=signature,
            certificate=certificate,
            signer=(info.name or info.subject or "")[:300],
            signer_iin=info.iin,
            signer_bin=info.bin,
            cert_sha256=info.fingerprint_sha256,
            user_id=user.id if user else None,
        )
        for doc, signature in zip(documents, signatures, strict=True)
    ]
    s.add_all(rows)
    return rows
