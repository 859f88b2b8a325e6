"""In Chromium: the lead logs in to the operator through NCALayer (the stand-in signs the challenge attached),
syncs, and reads the acceptance's state at the operator on the act's page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.conftest import LiveServer, make_app
from tests.operator.conftest import RECEIVER, Emulator, _serve, signer_for
from tests.signing.fake_ncalayer import FakeNcaLayer
from tests.signing.pki import minted
from warehouse import transfer_act
from warehouse.db import get_db
from warehouse.models import OperatorOrigin
from warehouse.operator.profile import get_profile
from warehouse.services import operator_outbox, operator_session, receiving
from warehouse.services import signing as signing_service
from warehouse.services import trust as trust_service
from warehouse.services.operator_session import OperatorSettings
from warehouse.signing.signers import Pkcs12Signer
from warehouse.signing.trust import load_settings
from warehouse.timeutil import utcnow
from warehouse.vocab import Level

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from _serve(tmp_path_factory.mktemp("emulator"), get_profile("kz_ismet_v3"))


@pytest.fixture(scope="module")
def receiver_key() -> Pkcs12Signer:
    return signer_for(RECEIVER.bin)


@pytest.fixture
def receiver_layer(receiver_key: Pkcs12Signer) -> Iterator[FakeNcaLayer]:
    fake = FakeNcaLayer(receiver_key.sign)
    yield fake
    fake.close()


@pytest.fixture
def server(receiver_layer: FakeNcaLayer, emulator: Emulator, tmp_path: Path) -> Iterator[LiveServer]:
    app = make_app(
        f"sqlite:///{tmp_path / 'w.sqlite3'}",
        tmp_path,
        OPERATOR_URL=emulator.url,
        NCALAYER_URL=receiver_layer.url,
        OPERATOR_TIMEOUT_SECONDS=2.0,
    )
    trust_service.update_from_folder(Path(app.config["TRUST_DIR"]), minted().store)
    live = LiveServer(app)
    yield live
    live.stop()
    get_db(app).dispose()


def _login(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username", exact=True).fill("lead")
    page.get_by_label("Password", exact=True).fill("lead")
    page.get_by_role("button", name="Log in", exact=True).click()


def test_the_lead_logs_in_to_the_operator_syncs_and_sees_the_documents_state(
    page: Page, server: LiveServer, emulator: Emulator, receiver_key: Pkcs12Signer, receiver_layer: FakeNcaLayer
) -> None:
    seeded = emulator.seed()
    _login(page, server, "/operator")
    expect(page.locator("#operator-login-prompt")).to_contain_text("Log in to the operator")
    page.get_by_role("button", name="Log in with NCALayer").click()
    expect(page.get_by_text(f"Logged in to the operator as {RECEIVER.bin}.")).to_be_visible()
    assert receiver_layer.requests[-1]["args"][1:4:2] == ["AUTHENTICATION", True]

    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("Synced: 1 acts received, 0 documents sent.")).to_be_visible()

    app, db = server.app, get_db(server.app)
    with db.read() as s:
        act_id = s.execute(select(OperatorOrigin.act_id).where(OperatorOrigin.doc_id == seeded["doc_id"])).scalar_one()
    seed = int(str(seeded["number"]).rsplit("-", 1)[1])
    lines = transfer_act.read_act(emulator.tmp / f"act-{seed}.json").lines()
    for code in [line.code for line in lines if line.level is Level.PALLET]:
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, source="cli", client_scan_id=str(uuid.uuid4())))
    receiving.close_act(db, act_id)
    receiving.decide(db, act_id, "accepted")
    signing_service.sign_act(db, act_id, receiver_key, settings=load_settings(app.config), actor="test")
    settings = OperatorSettings.from_config(app.config)
    draft = operator_outbox.acceptance_draft(db, act_id, operator_session.adapter(settings), when=utcnow())
    operator_outbox.enqueue(db, draft, operator_outbox.sign_draft(draft, receiver_key, load_settings(app.config)))

    page.goto(f"{server.url}/acts/{act_id}/operator")
    row = page.locator(f'tr[data-number="{draft.number}"]')
    expect(row).to_contain_text("Waiting to be sent")
    for _ in range(10):
        page.get_by_role("button", name="Sync now").click()
        if "Accepted by the operator" in row.inner_text():
            break
        page.wait_for_timeout(150)
    expect(row).to_contain_text("Accepted by the operator")
