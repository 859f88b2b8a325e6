"""The database schema: typed SQLAlchemy 2 models.

The schema changes only through Alembic migrations (`warehouse/migrations`); a test checks that these
models and the head revision agree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from warehouse.timeutil import UTC, utcnow
from warehouse.vocab import (
    ActStatus,
    Direction,
    DiscrepancyKind,
    Level,
    Mode,
    OperatorDocKind,
    OutboxState,
    Resolution,
    Role,
    ScanClass,
)
from warehouse.vocab import Decision as DecisionKind

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def vocab_column(words: type[StrEnum], length: int) -> Enum:
    """A column holding one of a closed set of `warehouse.vocab`: stored as the member's value in a
    VARCHAR(length) (no native enum, no CHECK), so the schema is the string column it always was."""
    return Enum(
        words, native_enum=False, create_constraint=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


# SQLite has no 64-bit autoincrement BIGINT primary key: it must be INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Badges are looked up by scanning them, so this is a keyed digest (HMAC with a key derived from the
    # instance secret), not a salted KDF: a copy of the database alone cannot test badge guesses.
    badge_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A lead's or an administrator's badge needs a PIN (or the password) too: scrypt, like the password.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(vocab_column(Role, 16))
    language: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionEnd(StrEnum):
    LOGOUT = "logout"
    IDLE = "idle"  # no request for longer than the idle time of the person's role
    EXPIRED = "expired"  # older than the longest session (a shift)
    DEACTIVATED = "deactivated"  # the person was deactivated


class LoginSession(Base):
    """A browser's login, checked on every request: the cookie names it, the server decides if it lives.

    The cookie carries a random token; only its SHA-256 is stored, so a copy of the database cannot be
    replayed as a cookie. A session ended (logout, idle, expired) stays ended whatever the cookie says.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[SessionEnd | None] = mapped_column(vocab_column(SessionEnd, 16))
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed logins of one username (known or not, so a lockout tells nothing about who exists).

    One row per burst of failures: removed by a successful login, started afresh when the last failure is
    older than the burst window. `failures` counts since the burst began or its last lockout ended.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)  # failed and refused tries of the whole burst
    lockouts: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column()


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Scanner(Base):
    """A physical scanner, bound to a station and a person: every scan it sends is attributed."""

    __tablename__ = "scanners"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_key: Mapped[str] = mapped_column(String(255), unique=True)  # by-id path, serial port, API
    kind: Mapped[str] = mapped_column(String(16))  # evdev | serial | browser | api
    name: Mapped[str] = mapped_column(String(200), default="")
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)  # handheld API token
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    # A handheld token's scope and life (`warehouse.services.devices`): it always scans, into its station's
    # acts only; importing and reading are granted at issue. No expiry means refused, never "forever".
    may_import: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    may_read: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_expires_at: Mapped[datetime | None] = mapped_column()
    token_revoked_at: Mapped[datetime | None] = mapped_column()


class Act(Base):
    __tablename__ = "acts"
    __table_args__ = (UniqueConstraint("direction", "sender_bin", "number", "date", name="uq_acts_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[Direction] = mapped_column(vocab_column(Direction, 16))
    number: Mapped[str] = mapped_column(String(100))
    date: Mapped[date] = mapped_column(Date)
    sender_name: Mapped[str] = mapped_column(String(300))
    sender_bin: Mapped[str] = mapped_column(String(12))
    receiver_name: Mapped[str] = mapped_column(String(300))
    receiver_bin: Mapped[str] = mapped_column(String(12))
    basis: Mapped[list[Any]] = mapped_column(default=list)
    turnover: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[ActStatus] = mapped_column(vocab_column(ActStatus, 16), index=True)
    mode: Mapped[Mode] = mapped_column(vocab_column(Mode, 16), default=Mode.TRUSTED)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    codes: Mapped[list[ActCode]] = relationship(back_populates="act", lazy="raise")


class ActCode(Base):
    """One code of an act's tree. Credited at most once: `credited_scan_id` is set by one scan only."""

    __tablename__ = "act_codes"
    __table_args__ = (
        # The only index by identity: every row an import writes lands at a random place of each such
        # index, and a second one (identity alone) cost a quarter of the import. A code in another open
        # act is found by probing this one per open act (there are a few).
        UniqueConstraint("act_id", "identity", name="uq_act_codes_act_identity"),
        Index("ix_act_codes_parent", "parent_id"),
        Index("ix_act_codes_act_pos", "act_id", "pos"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("act_codes.id"))
    identity: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(120))
    level: Mapped[Level] = mapped_column(vocab_column(Level, 8))
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str | None] = mapped_column(String(300))
    price: Mapped[int | None] = mapped_column(BigInteger)
    vat: Mapped[int | None] = mapped_column(Integer)
    declared_children: Mapped[bool] = mapped_column(Boolean, default=True)
    # No foreign key: scans.act_code_id already points here, and a cycle of keys cannot be created
    # in one step on SQLite. The scan journal is append-only, so the id stays valid.
    credited_scan_id: Mapped[int | None] = mapped_column(BigId)
    # Nested intervals over the preorder of the act's tree: the subtree of a code is exactly the rows
    # with pos in [pos, last], one index range scan however big the pallet.
    pos: Mapped[int | None] = mapped_column(BigInteger)
    last: Mapped[int | None] = mapped_column(BigInteger)

    act: Mapped[Act] = relationship(back_populates="codes")


class ActCounter(Base):
    """Expected and credited codes per act, level and GTIN, kept in step by every scan."""

    __tablename__ = "act_counters"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[Level] = mapped_column(vocab_column(Level, 8), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)  # "" when the code carries none
    expected: Mapped[int] = mapped_column(Integer, default=0)
    credited: Mapped[int] = mapped_column(Integer, default=0)


class ScanTally(Base):
    """Scans per act and class (matched, duplicate, surplus, ...), kept in step by every scan."""

    __tablename__ = "scan_tallies"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    scan_class: Mapped[ScanClass] = mapped_column(vocab_column(ScanClass, 16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReceivingSession(Base):
    __tablename__ = "receiving_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[Mode] = mapped_column(vocab_column(Mode, 16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column()  # frozen counters at close


class Scan(Base):
    """The scan journal: one row per read, written in the same transaction as its effect."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_act_id", "act_id", "id"), Index("ix_scans_act_identity", "act_id", "identity"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_scan_id: Mapped[str | None] = mapped_column(String(80), unique=True)  # idempotent retries
    act_id: Mapped[int | None] = mapped_column(ForeignKey("acts.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("receiving_sessions.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scanner_id: Mapped[int | None] = mapped_column(ForeignKey("scanners.id"))
    source: Mapped[str] = mapped_column(String(16))  # evdev | serial | browser | api | cli | image
    raw: Mapped[str] = mapped_column(Text)
    raw_events: Mapped[bytes | None] = mapped_column(LargeBinary)  # evidence that can be replayed
    kind: Mapped[str] = mapped_column(String(16))
    identity: Mapped[str | None] = mapped_column(String(100))
    normalized: Mapped[str | None] = mapped_column(String(120))
    scan_class: Mapped[ScanClass] = mapped_column(vocab_column(ScanClass, 16))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column()
    act_code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("act_codes.id"))
    credited: Mapped[int] = mapped_column(Integer, default=0)  # codes this scan credited
    reverses_scan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("scans.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # when the journal wrote the row
    received_at: Mapped[datetime | None] = mapped_column()  # when the scanner sent its terminator


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), index=True)
    decision: Mapped[DecisionKind] = mapped_column(vocab_column(DecisionKind, 40))
    reason: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LineResolution(Base):
    """The lead's word on one discrepancy line: append-only, the newest entry for a line is in force."""

    __tablename__ = "line_resolutions"
    __table_args__ = (Index("ix_line_resolutions_act", "act_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"))
    act_code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("act_codes.id"))  # a missing code
    scan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("scans.id"))  # a surplus scan
    resolution: Mapped[Resolution] = mapped_column(vocab_column(Resolution, 16))
    reason: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignedDocument(Base):
    """Exact signed bytes and their detached CMS; the key and its password are never stored."""

    __tablename__ = "signed_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    part: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    signer: Mapped[str] = mapped_column(String(300))
    signer_iin: Mapped[str | None] = mapped_column(String(12))
    signer_bin: Mapped[str | None] = mapped_column(String(12))
    cert_sha256: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only, hash-chained: database triggers refuse UPDATE and DELETE (see the migration)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    act_id: Mapped[int | None] = mapped_column(ForeignKey("acts.id"), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # UNIQUE: two writers appending at once cannot both chain onto the same entry.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- Stock ledger and outgoing acts (issue 9) ---------------------------------------------------------------


class StockStatus(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"  # on a draft outgoing act
    SHIPPED = "shipped"  # left with a signed outgoing act
    DISAGGREGATED = "disaggregated"  # an aggregate opened here: its contents are held individually


class MoveKind(StrEnum):
    RECEIVED = "received"  # entered from an accepted incoming act
    DISAGGREGATED = "disaggregated"
    RESERVED = "reserved"
    RELEASED = "released"  # taken off a draft
    SHIPPED = "shipped"
    RETURNED = "returned"  # refused by the receiver of an outgoing act


class StockCode(Base):
    """One code the company owns or owned, with its place in the aggregation tree while in stock.

    One row per identity (unique): a code is on at most one outgoing act at a time by construction, and it
    moves between statuses only by compare-and-set updates (see services/stock.py).
    """

    __tablename__ = "stock_codes"
    __table_args__ = (
        UniqueConstraint("identity", name="uq_stock_codes_identity"),
        Index("ix_stock_codes_parent", "parent_id"),
        Index("ix_stock_codes_act", "act_id", "status"),
        Index("ix_stock_codes_status", "status", "gtin", "level"),
        Index("ix_stock_codes_source_code", "source_code_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(120))
    level: Mapped[Level] = mapped_column(vocab_column(Level, 8))
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str | None] = mapped_column(String(300))
    price: Mapped[int | None] = mapped_column(BigInteger)  # as the supplier's act gave it, tiyn
    declared_children: Mapped[bool] = mapped_column(Boolean, default=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_codes.id"))
    status: Mapped[StockStatus] = mapped_column(vocab_column(StockStatus, 16))
    source_act_id: Mapped[int | None] = mapped_column(ForeignKey("acts.id"))
    # The act_codes row it entered with; no foreign key, like act_codes.credited_scan_id.
    source_code_id: Mapped[int | None] = mapped_column(BigId)
    act_id: Mapped[int | None] = mapped_column(ForeignKey("acts.id"))  # the outgoing act it is on or left with
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockMove(Base):
    """The ledger's journal: one row per code per movement, append-only."""

    __tablename__ = "stock_moves"
    __table_args__ = (Index("ix_stock_moves_code", "stock_code_id", "id"), Index("ix_stock_moves_act", "act_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stock_code_id: Mapped[int] = mapped_column(BigId, ForeignKey("stock_codes.id"))
    kind: Mapped[MoveKind] = mapped_column(vocab_column(MoveKind, 16))
    act_id: Mapped[int | None] = mapped_column(ForeignKey("acts.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    station: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class StockReceipt(Base):
    """An incoming act entered into stock. The primary key makes entering an act happen at most once."""

    __tablename__ = "stock_receipts"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), primary_key=True)
    decision: Mapped[DecisionKind] = mapped_column(vocab_column(DecisionKind, 40))
    codes: Mapped[int] = mapped_column(Integer, default=0)
    surplus: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)  # codes already in stock, left as they were
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActPrice(Base):
    """The price an outgoing act gives a GTIN at a level (block or pack), tiyn."""

    __tablename__ = "act_prices"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    level: Mapped[Level] = mapped_column(vocab_column(Level, 8), primary_key=True)
    price: Mapped[int] = mapped_column(BigInteger)


class AcceptanceReceipt(Base):
    """A receiver's signed acceptance applied to one part of an outgoing act; each part applies once."""

    __tablename__ = "acceptance_receipts"
    __table_args__ = (UniqueConstraint("act_id", "transfer_part", "part", name="uq_acceptance_receipts_part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), index=True)
    transfer_part: Mapped[int] = mapped_column(Integer)  # which of our transfer-act documents it answers
    part: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer)
    decision: Mapped[DecisionKind] = mapped_column(vocab_column(DecisionKind, 40))
    document_id: Mapped[int] = mapped_column(ForeignKey("signed_documents.id"))
    returned: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- The exchange with the operator (issue 18) ---------------------------------------------------------------


class OperatorOrigin(Base):
    """An incoming act that came from the operator: its document there. One act per operator document,
    so a second sync of the same document imports nothing."""

    __tablename__ = "operator_origins"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(100), unique=True)
    number: Mapped[str] = mapped_column(String(100))
    doc_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(40))  # the operator's word, as it last said it
    doc_date: Mapped[datetime | None] = mapped_column()
    sender_bin: Mapped[str] = mapped_column(String(12))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorRefusal(Base):
    """An operator document the station could not take as an act (the importer refused it, or its act is
    another document's): remembered by the operator's id with what was listed for it, so the next round
    does not download it again unless the operator lists it differently (`listed_sha256` changes)."""

    __tablename__ = "operator_refusals"

    doc_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    number: Mapped[str] = mapped_column(String(100))
    sender_bin: Mapped[str] = mapped_column(String(12))
    listed_sha256: Mapped[str] = mapped_column(String(64))  # of the document list's entry, canonical JSON
    problem: Mapped[str] = mapped_column(Text)  # what made it refused, as the importer said it
    refused_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorDocument(Base):
    """The outbox: a document for the operator, its exact bytes and detached CMS stored before it is sent.

    `state` moves only forward through the states of `OutboxState` (warehouse/operator/outbox.py), each move
    audited; `number` is ours and unique, so a document whose answer was lost is found by it again.
    """

    __tablename__ = "operator_documents"
    __table_args__ = (Index("ix_operator_documents_state", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id"), index=True)
    direction: Mapped[Direction] = mapped_column(vocab_column(Direction, 16))
    kind: Mapped[OperatorDocKind] = mapped_column(vocab_column(OperatorDocKind, 16))
    number: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[OutboxState] = mapped_column(vocab_column(OutboxState, 16))
    doc_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # the operator's, once known
    status: Mapped[str | None] = mapped_column(String(40))  # the operator's word
    messages: Mapped[list[Any]] = mapped_column(default=list)  # the operator's texts, as it gave them
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()  # the last request that may have reached the operator
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorCodeCheck(Base):
    """The operator's word on a code of an incoming act that is not as it should be before accepting: not
    owned by the sender, or not in circulation. Replaced as a whole by each check of the act."""

    __tablename__ = "operator_code_checks"

    act_id: Mapped[int] = mapped_column(ForeignKey("acts.id", ondelete="CASCADE"), primary_key=True)
    act_code_id: Mapped[int] = mapped_column(BigId, ForeignKey("act_codes.id"), primary_key=True)
    problem: Mapped[DiscrepancyKind] = mapped_column(vocab_column(DiscrepancyKind, 24))
    status: Mapped[str | None] = mapped_column(String(40))
    owner_bin: Mapped[str | None] = mapped_column(String(12))
    error_code: Mapped[str | None] = mapped_column(String(16))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorSync(Base):
    """One sync round with the operator: what it did, or why it stopped. The newest is `status`'s last sync."""

    __tablename__ = "operator_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    polled: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(64))  # an OperatorError reason
    message: Mapped[str | None] = mapped_column(Text)
