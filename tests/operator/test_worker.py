"""The worker `warehouse run` starts: silent without an operator, a round on its schedule with one."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from flask import Flask

from tests.operator.conftest import RECEIVER, Emulator
from warehouse.db import get_db
from warehouse.services import operator_session, operator_sync
from warehouse.services.operator_session import OperatorSettings
from warehouse.signing.signers import Pkcs12Signer


def test_without_an_operator_url_no_worker_starts(sqlite_app: Flask, tmp_path: Path) -> None:
    assert operator_sync.start_worker(get_db(sqlite_app), dict(sqlite_app.config), tmp_path) is None


def test_the_worker_waits_for_a_login_quietly_then_syncs(
    sqlite_app: Flask, emulator: Emulator, receiver_key: Pkcs12Signer, caplog: pytest.LogCaptureFixture
) -> None:
    config = dict(sqlite_app.config, OPERATOR_URL=emulator.url, COMPANY_BIN=RECEIVER.bin, OPERATOR_SYNC_SECONDS=0.2)
    instance = Path(sqlite_app.instance_path)
    db = get_db(sqlite_app)
    worker = operator_sync.start_worker(db, config, instance)
    assert worker is not None
    try:
        with caplog.at_level(logging.INFO, logger="warehouse.services.operator_sync"):
            time.sleep(0.3)
        assert worker.waiting_for_login and worker.failures == 0 and worker.rounds == 0
        told = [r for r in caplog.records if "log in to the operator" in r.getMessage().lower()]
        assert len(told) == 1 and told[0].levelno == logging.INFO  # said once, not alarmed
        assert worker.pause() == 0.2
        seeded = emulator.seed()
        operator_session.login_with_signer(instance, OperatorSettings.from_config(config), receiver_key)
        deadline = time.monotonic() + 10
        while worker.rounds == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.rounds >= 1
        last = operator_sync.last_sync(db)
        assert last is not None and last.ok and last.imported >= 1
        assert seeded["doc_id"]
    finally:
        worker.stop()
