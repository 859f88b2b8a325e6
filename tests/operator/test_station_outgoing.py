"""Our outgoing act to the operator and its cancellation while it waits, over real HTTP (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from tests.factories import gtin
from tests.operator.conftest import Emulator, signer_for
from tests.shipping.conftest import SHOP_BIN, WHOLESALER_BIN, settings, signer, stocked, wholesaler_app
from warehouse.db import get_db
from warehouse.services import operator_outbox, operator_session, operator_sync, shipping
from warehouse.services.operator_errors import OperatorServiceError
from warehouse.services.operator_session import OperatorSettings
from warehouse.timeutil import utcnow
from warehouse.vocab import OutboxState


@pytest.fixture
def station(db_url: str, tmp_path: Path, emulator: Emulator) -> Iterator[Flask]:
    application = wholesaler_app(db_url, tmp_path, OPERATOR_URL=emulator.url, OPERATOR_TIMEOUT_SECONDS=2.0)
    yield application
    get_db(application).dispose()


def _round(app: Flask) -> None:
    operator_sync.sync_round(get_db(app), Path(app.instance_path), OperatorSettings.from_config(app.config))


def _state(app: Flask, doc_id: int) -> OutboxState:
    return next(d for d in operator_outbox.documents(get_db(app)) if d.id == doc_id).state


def _settle(app: Flask, doc_id: int, want: OutboxState) -> OutboxState:
    for _ in range(20):
        _round(app)
        if _state(app, doc_id) is want:
            break
        time.sleep(0.1)
    return _state(app, doc_id)


def test_a_signed_outgoing_act_is_shipped_and_cancelled_while_it_waits(
    station: Flask, emulator: Emulator, tmp_path: Path
) -> None:
    db = get_db(station)
    factory = stocked(db, tmp_path, number="ПР-7001", start=7000)
    # The operator knows the codes as ours and in circulation (seeded as owned, no shipment).
    owned = json.loads((tmp_path / "in-ПР-7001.json").read_text(encoding="utf-8"))
    owned["receiver"] = {"name": "ТОО «Опт & Ко»", "bin": WHOLESALER_BIN}  # "owned": the receiver's stock
    seed = tmp_path / "owned.json"
    seed.write_text(json.dumps(owned, ensure_ascii=False), encoding="utf-8")
    r = httpx.post(f"{emulator.root}/_emu/seed", content=seed.read_bytes(), params={"mode": "owned"})
    assert r.status_code == 200, r.text

    out = shipping.new_act(db, receiver_bin=SHOP_BIN, receiver_name="Магазин", sender=shipping.company(station.config))
    for pallet in factory.codes["pallet"]:
        assert shipping.add_code(db, out.id, pallet).added
    for product in (1001, 1002):
        shipping.set_price(db, out.id, gtin(product), "block", 112_000, actor="test")
    shipping.sign(db, out.id, signer(), settings=settings(station), actor="lead")

    key = signer_for(WHOLESALER_BIN, "ПЕТРОВ ПЁТР")
    instance, config = Path(station.instance_path), OperatorSettings.from_config(station.config)
    operator_session.login_with_signer(instance, config, key)
    adapter = operator_session.session_adapter(instance, config)
    with pytest.raises(OperatorServiceError) as early:
        operator_outbox.cancel_draft(db, out.id, adapter, when=utcnow())
    assert early.value.reason == "not_sent"
    draft = operator_outbox.shipment_draft(db, out.id, adapter, when=utcnow())
    shipment = operator_outbox.enqueue(db, draft, operator_outbox.sign_draft(draft, key, settings(station)))
    state = _settle(station, shipment, OutboxState.WAITING)
    assert state is OutboxState.WAITING, [d.messages for d in operator_outbox.documents(db)]

    cancel = operator_outbox.cancel_draft(db, out.id, adapter, when=utcnow())
    cancel_id = operator_outbox.enqueue(db, cancel, operator_outbox.sign_draft(cancel, key, settings(station)))
    assert _settle(station, cancel_id, OutboxState.ACCEPTED) is OutboxState.ACCEPTED
    assert _settle(station, shipment, OutboxState.CANCELLED) is OutboxState.CANCELLED
