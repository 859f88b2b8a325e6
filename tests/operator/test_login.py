"""Login: the operator's challenge signed (attached CMS made from the signer's detached one), verified."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.operator.conftest import RECEIVER, Emulator, signer_for
from tests.signing.pki import NCA_PASSWORD, RSA_KEY
from warehouse.operator.types import OperatorError
from warehouse.signing.cms import attach
from warehouse.signing.signers import Pkcs12Signer


def test_a_key_with_the_bin_logs_in(emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    with emulator.adapter() as adapter:
        session = adapter.authenticate(receiver_key)
    assert session.participant_bin == RECEIVER.bin
    assert datetime.now(UTC) < session.expires_at <= datetime.now(UTC) + timedelta(hours=10, minutes=1)
    assert session.token.count(".") == 2


def test_an_individuals_key_names_the_participant(emulator: Emulator) -> None:
    signer = Pkcs12Signer.open(RSA_KEY.read_bytes(), NCA_PASSWORD)  # the public NCA test key: no BIN
    with emulator.adapter() as adapter:
        assert adapter.authenticate(signer, RECEIVER.bin).participant_bin == RECEIVER.bin
        with pytest.raises(OperatorError) as e:
            adapter.authenticate(signer)
    assert e.value.reason == "refused" and "inn" in (e.value.message or "")


def test_a_signature_over_other_data_is_refused(emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    with emulator.adapter() as adapter:
        uuid, data = adapter.challenge()
        forged = attach(receiver_key.sign(b"X" * 30), data)  # the digest is of other bytes
        with pytest.raises(OperatorError) as e:
            adapter.sign_in(uuid, forged)
        assert (e.value.reason, e.value.message) == ("refused", "Ошибка при проверке подписи")
        with pytest.raises(OperatorError) as again:  # a challenge is used once
            adapter.sign_in(uuid, attach(receiver_key.sign(data), data))
        assert again.value.message == "UUID не найден в хранилище ключей"


def test_a_bin_other_than_the_certificates_is_forbidden(emulator: Emulator, receiver_key: Pkcs12Signer) -> None:
    with emulator.adapter() as adapter, pytest.raises(OperatorError) as e:
        adapter.authenticate(receiver_key, "990340001230")
    assert e.value.reason == "forbidden"


def test_no_token_is_unauthorized(emulator: Emulator) -> None:
    with emulator.adapter() as adapter:
        adapter._adopt("x.eyJpbm4iOiIwNTExNDAwMDQ1NjIifQ.y")  # a token the emulator did not issue
        with pytest.raises(OperatorError) as e:
            adapter.codes_info(["04870102340017ABCDEFG"])
    assert (e.value.reason, e.value.status) == ("unauthorized", 401)


def test_the_raw_sign_in_answers_as_the_manual_says(emulator: Emulator) -> None:
    key = httpx.get(f"{emulator.url}/auth/key").json()
    assert set(key) == {"uuid", "data"} and len(key["data"]) == 30 and key["data"].isupper()
    signer = signer_for(None)
    cms = attach(signer.sign(key["data"].encode()), key["data"].encode())
    r = httpx.post(
        f"{emulator.url}/auth/simpleSignIn",
        json={"uuid": key["uuid"], "data": base64.b64encode(cms).decode(), "inn": RECEIVER.bin},
    )
    assert r.status_code == 200 and set(r.json()) == {"token"}
