"""The outbox's rules (warehouse/operator/outbox.py): where each answer of the operator takes a document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warehouse.operator.outbox import BACKOFF_CAP, LOOKUP_GRACE, after_failure, after_lookup, backoff, state_for
from warehouse.vocab import OperatorDocKind, OutboxState

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("reason", ["unreachable", "rate_limited", "unavailable", "unauthorized"])
def test_a_request_the_operator_certainly_did_not_take_waits_in_the_queue(reason: str) -> None:
    move = after_failure(reason)
    assert (move.state, move.retry) == (OutboxState.QUEUED, True)


@pytest.mark.parametrize("reason", ["timeout_after_send", "bad_answer"])
def test_a_request_that_may_have_reached_it_is_looked_up_never_sent_again(reason: str) -> None:
    assert after_failure(reason).state is OutboxState.UNKNOWN


@pytest.mark.parametrize("reason", ["refused", "forbidden"])
def test_the_operators_no_is_final(reason: str) -> None:
    assert after_failure(reason).state is OutboxState.ERROR and OutboxState.ERROR.final


@pytest.mark.parametrize(
    ("kind", "status", "state"),
    [
        (OperatorDocKind.ACCEPTANCE, "IN_PROGRESS", OutboxState.SENT),
        (OperatorDocKind.ACCEPTANCE, "CHECKED_OK", OutboxState.ACCEPTED),
        (OperatorDocKind.ACCEPTANCE, "CHECKED_NOT_OK", OutboxState.REJECTED),
        (OperatorDocKind.ACCEPTANCE, "PROCESSING_ERROR", OutboxState.ERROR),
        (OperatorDocKind.ACCEPTANCE, "PARSE_ERROR", OutboxState.ERROR),
        (OperatorDocKind.SHIPMENT, "IN_PROGRESS", OutboxState.SENT),
        (OperatorDocKind.SHIPMENT, "WAIT_ACCEPTANCE", OutboxState.WAITING),
        (OperatorDocKind.SHIPMENT, "ACCEPTED", OutboxState.ACCEPTED),
        (OperatorDocKind.SHIPMENT, "CANCELLED", OutboxState.CANCELLED),
        (OperatorDocKind.CANCEL, "CHECKED_OK", OutboxState.ACCEPTED),
        (OperatorDocKind.CANCEL, "SOMETHING_NEW", OutboxState.SENT),
    ],
)
def test_the_operators_status_gives_our_state(kind: OperatorDocKind, status: str, state: OutboxState) -> None:
    assert state_for(kind, status) is state


def test_waiting_is_not_final_for_our_shipment() -> None:
    assert not OutboxState.WAITING.final and not OutboxState.SENT.final and not OutboxState.UNKNOWN.final


def test_a_lookup_that_finds_the_document_takes_its_status() -> None:
    move = after_lookup("IN_PROGRESS", OperatorDocKind.ACCEPTANCE, T0, T0 + timedelta(seconds=5))
    assert move.state is OutboxState.SENT
    assert after_lookup("CHECKED_OK", OperatorDocKind.ACCEPTANCE, T0, T0).state is OutboxState.ACCEPTED


def test_a_lookup_that_finds_nothing_queues_again_only_after_the_grace() -> None:
    assert after_lookup(None, OperatorDocKind.ACCEPTANCE, T0, T0 + LOOKUP_GRACE / 2).state is OutboxState.UNKNOWN
    assert after_lookup(None, OperatorDocKind.ACCEPTANCE, T0, T0 + LOOKUP_GRACE).state is OutboxState.QUEUED


def test_the_pause_grows_and_is_capped() -> None:
    pauses = [backoff(n) for n in range(1, 12)]
    assert pauses == sorted(pauses) and pauses[0] == timedelta(seconds=30) and pauses[-1] == BACKOFF_CAP
