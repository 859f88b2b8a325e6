"""Each fault the emulator injects ends in the right OperatorError or Submission state; nothing is sent twice."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.operator.conftest import Emulator
from warehouse.operator.http import HttpOperatorAdapter
from warehouse.operator.types import AcceptanceDecision, AcceptanceMode, OperatorError, SubmissionState
from warehouse.signing.signers import Pkcs12Signer

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC))


@pytest.fixture
def receiver(emulator: Emulator, receiver_key: Pkcs12Signer) -> Iterator[HttpOperatorAdapter]:
    with emulator.adapter(timeout=1.0) as adapter:
        adapter.authenticate(receiver_key)
        yield adapter


def _acceptance(emulator: Emulator, adapter: HttpOperatorAdapter, number: str) -> bytes:
    doc_id = emulator.seed(pallets=0, boxes_per_pallet=1, blocks_per_box=1, packs_per_block=1)["doc_id"]
    act = adapter.get_act(doc_id)
    return adapter.acceptance_body(
        act, AcceptanceDecision(AcceptanceMode.ACCEPT_ALL), number=number, when=datetime.now(UTC)
    )


def _posts(emulator: Emulator, since: int) -> int:
    return sum(1 for e in emulator.log(since) if e["method"] == "POST" and "/documents/" in e["path"])


def test_an_expired_token_logs_in_again_once(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    emulator.control("faults", {"expire_token": 1})
    old = receiver.session
    receiver.list_incoming_acts(*WINDOW)
    assert receiver.session != old  # a new token from a new login


def test_an_expired_token_without_a_signer_is_unauthorized(emulator: Emulator, receiver: HttpOperatorAdapter) -> None:
    with emulator.adapter(token=receiver.session.token) as bare:  # type: ignore[union-attr]
        emulator.control("faults", {"expire_token": 1})
        with pytest.raises(OperatorError) as e:
            bare.list_incoming_acts(*WINDOW)
    assert e.value.reason == "unauthorized"


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_burst_is_ridden_out_on_reads(emulator: Emulator, receiver: HttpOperatorAdapter, status: int) -> None:
    emulator.control("faults", {"burst": {"status": status, "count": 2}})
    assert receiver.list_incoming_acts(*WINDOW).items is not None


@pytest.mark.parametrize(("status", "reason"), [(429, "rate_limited"), (503, "unavailable")])
def test_a_long_burst_gives_up_and_a_document_is_never_retried(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer, status: int, reason: str
) -> None:
    body = _acceptance(emulator, receiver, f"ПР-B{status}")
    emulator.control("faults", {"burst": {"status": status, "count": 1, "path": "/documents/"}})
    start = len(emulator.log())
    with pytest.raises(OperatorError) as e:
        receiver.submit("acceptance", body, receiver_key.sign(body))
    assert e.value.reason == reason
    assert len([x for x in emulator.log(start) if "/documents/" in x["path"]]) == 1
    emulator.control("faults", {"burst": {"status": status, "count": 20}})
    with pytest.raises(OperatorError) as e:
        receiver.list_incoming_acts(*WINDOW)
    assert e.value.reason == reason


def test_a_lost_answer_is_unknown_and_found_by_number(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    body = _acceptance(emulator, receiver, "ПР-LOST")
    emulator.control("faults", {"drop_response": {"count": 1, "delay": 1.6}})
    start = len(emulator.log())
    submission = receiver.submit("acceptance", body, receiver_key.sign(body))
    assert submission.state is SubmissionState.UNKNOWN and submission.doc_id is None
    time.sleep(0.8)
    assert _posts(emulator, start) == 1  # sent once, never again
    found = receiver.find_document("ПР-LOST", datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.status in ("IN_PROGRESS", "CHECKED_OK")


def test_a_stuck_document_stays_in_progress(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    body = _acceptance(emulator, receiver, "ПР-STUCK")
    emulator.control("faults", {"stuck": 1})
    doc_id = receiver.submit("acceptance", body, receiver_key.sign(body)).doc_id
    assert doc_id
    time.sleep(0.2)
    status = receiver.document_status(doc_id)
    assert (status.status, status.final) == ("IN_PROGRESS", False)
    emulator.control("release", {})
    assert receiver.document_status(doc_id).status == "CHECKED_OK"


def test_a_processing_error_is_final_with_the_operators_words(
    emulator: Emulator, receiver: HttpOperatorAdapter, receiver_key: Pkcs12Signer
) -> None:
    body = _acceptance(emulator, receiver, "ПР-PERR")
    emulator.control("faults", {"processing_error": 1})
    doc_id = receiver.submit("acceptance", body, receiver_key.sign(body)).doc_id
    assert doc_id
    time.sleep(0.2)
    status = receiver.document_status(doc_id)
    assert (status.status, status.final, status.errors) == ("PROCESSING_ERROR", True, ("Ошибка обработки документа",))


def test_an_unreachable_operator(emulator: Emulator) -> None:
    with (
        HttpOperatorAdapter(
            "http://127.0.0.1:9/api/v3/true-api", emulator.profile, timeout=0.5, backoff=0.01
        ) as adapter,
        pytest.raises(OperatorError) as e,
    ):
        adapter.challenge()
    assert e.value.reason == "unreachable"


def test_at_most_50_requests_in_any_second(emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    # one code a look-up, four in flight at once: the limit, not the latency, must be what holds
    profile = dataclasses.replace(emulator.profile, codes_per_lookup=1)
    with HttpOperatorAdapter(emulator.url, profile, workers=4) as adapter:
        adapter.authenticate(receiver_key)
        start = len(emulator.log())
        began = time.monotonic()
        infos = adapter.codes_info([f"0487099999999{n:08d}" for n in range(130)])
        elapsed = time.monotonic() - began
    assert [i.error_code for i in infos] == ["404"] * 130
    times = sorted(e["t"] for e in emulator.log(start))
    assert len(times) == 130
    worst = max(sum(1 for t in times[i:] if t < first + 1.0) for i, first in enumerate(times))
    assert 40 <= worst <= 50  # near the limit, never over it
    assert elapsed >= 2.0  # 130 requests at <=50/s: more than two full windows
