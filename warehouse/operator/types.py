"""The adapter's contract: value types and the `OperatorAdapter` protocol (../shared/operator.md §4).

Codes are the operator's normalised text (GS as U+001D inside, no brackets). BINs are 12 digits.
Times are aware UTC datetimes. Money is in tiyn (1/100 tenge), as the station keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = [
    "AcceptanceDecision",
    "AcceptanceMode",
    "Act",
    "ActLine",
    "ActSummary",
    "CodeInfo",
    "DocStatus",
    "OperatorAdapter",
    "OperatorError",
    "OutgoingLine",
    "Page",
    "Session",
    "Signer",
    "Submission",
    "SubmissionState",
]

T = TypeVar("T")


class OperatorError(Exception):
    """A call that did not give an answer the station can use.

    `reason` is one of: "unreachable" (no connection / timeout before sending), "timeout_after_send"
    (the request may have reached the operator: the caller looks the document up, never re-sends),
    "unauthorized" (token missing or expired: log in again), "forbidden", "rate_limited", "unavailable"
    (5xx), "refused" (4xx with the operator's message), "bad_answer" (an answer not of the profile's shape).
    `message` is the operator's own text when it gave one (shown to the lead as it is, it is the operator's
    word); `status` the HTTP status when there was one.
    """

    def __init__(self, reason: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(reason if message is None else f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    participant_bin: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActSummary:
    """One line of the operator's document list."""

    id: str  # the operator's document id
    number: str
    doc_date: datetime
    type: str
    status: str
    sender_bin: str
    sender_name: str
    receiver_bin: str
    receiver_name: str
    received_at: datetime | None = None
    related_doc_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None  # opaque (keyset: did + orderedColumnValue + pageDir); None on the last page


@dataclass(frozen=True, slots=True)
class ActLine:
    """One code of a shipment. `listed` is True for the codes the document itself lists (the top of
    each tree as the sender sent it); their contents come from the aggregate look-up."""

    code: str
    level: str  # the station's words: pallet | box | block | pack
    parent: str | None
    listed: bool
    gtin: str | None = None
    price_tiyn: int | None = None
    vat_tiyn: int | None = None


@dataclass(frozen=True, slots=True)
class Act:
    summary: ActSummary
    transfer_date: datetime | None
    turnover_type: str | None
    lines: tuple[ActLine, ...]  # preorder: a parent before its contents


class AcceptanceMode(StrEnum):
    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class AcceptanceDecision:
    """What the receiver answers. Only shipment codes: surplus stays local (the discrepancy notice).
    PARTIAL: `accepted` and `rejected` together cover the shipment's listed codes, an aggregate the
    shipment lists whose contents are split is given by its contents."""

    mode: AcceptanceMode
    accepted: frozenset[str] = frozenset()
    rejected: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OutgoingLine:
    code: str
    price_tiyn: int | None = None
    vat_tiyn: int | None = None


class SubmissionState(StrEnum):
    SENT = "sent"
    UNKNOWN = "unknown"  # the request may have reached the operator: look it up, never re-send


@dataclass(frozen=True, slots=True)
class Submission:
    state: SubmissionState
    doc_id: str | None
    payload_sha256: str


@dataclass(frozen=True, slots=True)
class DocStatus:
    doc_id: str
    status: str  # the operator's word: IN_PROGRESS, CHECKED_OK, CHECKED_NOT_OK, WAIT_ACCEPTANCE, ACCEPTED, ...
    final: bool
    errors: tuple[str, ...] = ()  # the operator's messages, as it gave them
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    status: str | None
    owner_bin: str | None
    error_code: str | None = None  # per item: "404" not found, "504" try again, "701" MRP mismatch
    error_message: str | None = None
    gtin: str | None = None
    package_type: str | None = None
    parent: str | None = None


class Signer(Protocol):
    """What the adapter needs of a signer (warehouse.signing.signers.Signer keeps it): DER of a detached
    CMS over exact bytes. The attached form the login needs is made from it (same signed attributes)."""

    def sign(self, content: bytes) -> bytes: ...


class OperatorAdapter(Protocol):
    def challenge(self) -> tuple[str, bytes]: ...
    def sign_in(self, uuid: str, attached_cms: bytes, participant_bin: str | None = None) -> Session: ...

    # The browser's NCALayer signs `challenge()`'s data itself and the station calls sign_in; the CLI
    # does both with a key file through `authenticate`.
    def authenticate(self, signer: Signer, participant_bin: str | None = None) -> Session: ...

    def list_incoming_acts(
        self,
        since: datetime,
        until: datetime,
        *,
        status: str | None = "WAIT_ACCEPTANCE",
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[ActSummary]: ...

    def get_act(self, doc_id: str, *, expand: Literal["listed", "tree"] = "tree") -> Act: ...

    def codes_info(self, codes: Sequence[str]) -> list[CodeInfo]: ...  # batches of <=1000, <=50 requests/s

    def acceptance_body(self, act: Act, decision: AcceptanceDecision, *, number: str, when: datetime) -> bytes: ...
    def shipment_body(
        self, *, number: str, when: datetime, receiver_bin: str, lines: Sequence[OutgoingLine]
    ) -> bytes: ...
    def cancel_body(self, shipment_doc_id: str) -> bytes: ...

    # The caller stores `body` and `signature` before calling: what was sent is kept whatever happens next.
    def submit(
        self, kind: Literal["acceptance", "shipment", "cancel"], body: bytes, signature: bytes
    ) -> Submission: ...

    def document_status(self, doc_id: str) -> DocStatus: ...
    def find_document(self, number: str, since: datetime) -> DocStatus | None: ...  # after UNKNOWN
