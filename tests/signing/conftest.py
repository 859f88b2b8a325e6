"""Fixtures for signing: the NCA test data, our own small CA, an app with the signing blueprint."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_app
from tests.factories import ActFactory
from tests.signing.pki import NCA, Pki, make_pki, minted
from warehouse.db import get_db
from warehouse.services import importing, receiving
from warehouse.services import trust as trust_service
from warehouse.web import signing as signing_web

if not NCA.is_dir():
    # The public NCA test keys are part of the test set-up (../shared/testdata/nca): without them the
    # signing tests must fail loudly, never pass by being skipped.
    raise pytest.UsageError(f"NCA test data not found in {NCA}: set WAREHOUSE_NCA_TESTDATA")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def signing_app(url: str, tmp_path: Path, *, trust: bool = True, **overrides: object) -> Flask:
    """The app with a trust store of our own minted chain (`warehouse trust update --from`, as a station
    does it), unless `trust` is false; the signing blueprint registered if the application does not yet."""
    application = make_app(url, tmp_path, **overrides)
    if trust:
        trust_service.update_from_folder(Path(application.config["TRUST_DIR"]), minted().store)
    if "signing" not in application.blueprints:
        application.register_blueprint(signing_web.bp)
    return application


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = signing_app(db_url, tmp_path)
    yield application
    get_db(application).dispose()


@pytest.fixture
def sqlite_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = signing_app(sqlite_url, tmp_path)
    yield application
    get_db(application).dispose()


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One SQLite app for the signing tests (the demo users take a second to create): tests that use
    it work on acts of their own."""
    folder = tmp_path_factory.mktemp("signing-app")
    application = signing_app(f"sqlite:///{folder / 'warehouse.sqlite3'}", folder)
    yield application
    get_db(application).dispose()


_numbers = itertools.count(1)


def decided_act(
    app: Flask, tmp_path: Path, decision: str = "accepted_with_discrepancies", scan_boxes: int = 1, **kw: object
) -> tuple[int, ActFactory]:
    """An imported act, partly received (the first `scan_boxes` boxes), closed and decided."""
    kw.setdefault("number", f"ТА-{next(_numbers):06d}")
    f = ActFactory(**kw)  # type: ignore[arg-type]
    db = get_db(app)
    act_id = importing.import_act(db, f.write(tmp_path / f"act-{f.number}.json")).act_id
    for code in f.codes["box"][:scan_boxes]:
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(db, act_id, actor="test")
    receiving.decide(
        db,
        act_id,
        decision,
        reason="shortage" if decision != "accepted" else None,
        comment="одна коробка не пришла" if decision != "accepted" else None,
        actor="lead",
    )
    return act_id, f
