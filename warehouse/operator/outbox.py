"""The outbox's rules, pure: where a document goes after each answer of the operator, and when it is tried again.

A document is never sent twice and never lost:
- `queued` → (claimed, committed) `sending` → the request → `sent` (the operator's id) or `unknown` (the
  request may have reached it) or back to `queued` (it certainly did not: no connection, 429, 5xx, an
  expired token) with a growing pause;
- `sending` found at the start of a round (the process died while sending) is `unknown`;
- `unknown` is looked up by our number (`find_document`), never re-sent blindly; only when the look-up has
  not found it `LOOKUP_GRACE` after the request went out is it queued again;
- `sent` is polled until the operator's status is final: `accepted`, `rejected`, `error` (its messages
  kept), or for our shipment `waiting` for the receiver and then `accepted` or `cancelled`.

    >>> after_failure("unreachable").state, after_failure("timeout_after_send").state
    (<OutboxState.QUEUED: 'queued'>, <OutboxState.UNKNOWN: 'unknown'>)
    >>> state_for(OperatorDocKind.ACCEPTANCE, "CHECKED_OK"), state_for(OperatorDocKind.SHIPMENT, "WAIT_ACCEPTANCE")
    (<OutboxState.ACCEPTED: 'accepted'>, <OutboxState.WAITING: 'waiting'>)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from warehouse.vocab import OperatorDocKind, OutboxState

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "LOOKUP_GRACE",
    "Move",
    "after_failure",
    "after_lookup",
    "backoff",
    "state_for",
]

BACKOFF_BASE: Final = timedelta(seconds=30)
BACKOFF_CAP: Final = timedelta(minutes=30)
# How long after a request whose answer was lost a look-up that finds nothing still means "not yet listed".
LOOKUP_GRACE: Final = timedelta(minutes=10)
# Failures after which the operator certainly did not take the document: it waits and is sent again.
NOT_SENT: Final = frozenset({"unreachable", "rate_limited", "unavailable", "unauthorized"})
# Failures after which it may have: looked up. Anything else ("refused", "forbidden") is the operator's no.
MAYBE_SENT: Final = frozenset({"timeout_after_send", "bad_answer"})

# The operator's statuses (../shared/operator.md §2.6) per kind of our document; any other stays `sent`.
_ERRORS: Final = {"PARSE_ERROR": OutboxState.ERROR, "PROCESSING_ERROR": OutboxState.ERROR}
_STATES: Final[dict[OperatorDocKind, dict[str, OutboxState]]] = {
    OperatorDocKind.ACCEPTANCE: {
        "CHECKED_OK": OutboxState.ACCEPTED,
        "ACCEPTED": OutboxState.ACCEPTED,
        "CHECKED_NOT_OK": OutboxState.REJECTED,
        **_ERRORS,
    },
    OperatorDocKind.SHIPMENT: {
        "CHECKED_OK": OutboxState.WAITING,
        "WAIT_ACCEPTANCE": OutboxState.WAITING,
        "WAIT_PARTICIPANT_REGISTRATION": OutboxState.WAITING,
        "ACCEPTED": OutboxState.ACCEPTED,
        "CANCELLED": OutboxState.CANCELLED,
        "CHECKED_NOT_OK": OutboxState.REJECTED,
        **_ERRORS,
    },
    OperatorDocKind.CANCEL: {
        "CHECKED_OK": OutboxState.ACCEPTED,
        "CANCELLED": OutboxState.ACCEPTED,
        "CHECKED_NOT_OK": OutboxState.REJECTED,
        **_ERRORS,
    },
}


@dataclass(frozen=True, slots=True)
class Move:
    state: OutboxState
    retry: bool = False  # wait `backoff` before the next try


def state_for(kind: OperatorDocKind, status: str) -> OutboxState:
    """Our state for the operator's status of one of our documents (`sent` while it is still checking)."""
    return _STATES[kind].get(status, OutboxState.SENT)


def after_failure(reason: str) -> Move:
    """Where a document goes when `submit` raised OperatorError(reason)."""
    if reason in NOT_SENT:
        return Move(OutboxState.QUEUED, retry=True)
    if reason in MAYBE_SENT:
        return Move(OutboxState.UNKNOWN, retry=True)
    return Move(OutboxState.ERROR)


def after_lookup(found_status: str | None, kind: OperatorDocKind, sent_at: datetime | None, now: datetime) -> Move:
    """Where an `unknown` document goes after `find_document` by its number.

    >>> from datetime import UTC
    >>> t = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    >>> after_lookup(None, OperatorDocKind.ACCEPTANCE, t, t + timedelta(minutes=1)).state
    <OutboxState.UNKNOWN: 'unknown'>
    >>> after_lookup(None, OperatorDocKind.ACCEPTANCE, t, t + LOOKUP_GRACE).state
    <OutboxState.QUEUED: 'queued'>
    """
    if found_status is not None:
        return Move(state_for(kind, found_status))
    if sent_at is not None and now - sent_at < LOOKUP_GRACE:
        return Move(OutboxState.UNKNOWN, retry=True)
    return Move(OutboxState.QUEUED)


def backoff(attempts: int) -> timedelta:
    """The pause before the next try after `attempts` tries: 30 s, 1 min, 2 min, … at most 30 min.

    >>> backoff(1), backoff(3), backoff(50)
    (datetime.timedelta(seconds=30), datetime.timedelta(seconds=120), datetime.timedelta(seconds=1800))
    """
    if attempts <= 1:
        return BACKOFF_BASE
    pause: timedelta = BACKOFF_BASE * (2 ** min(attempts - 1, 16))
    return min(BACKOFF_CAP, pause)
