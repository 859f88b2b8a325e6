"""Fixtures for shipping: two stations of two companies (two databases), stock to ship, a signer.

The minted chain's signing key (tests/signing/pki.py) signs on both sides; both stations have its trust
store, installed as a station does it (`warehouse trust update --from`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_app
from tests.factories import ActFactory
from tests.signing.pki import NCA, PASSWORD, minted
from warehouse.db import Database, get_db
from warehouse.messages import WarehouseError
from warehouse.services import importing, receiving, stock
from warehouse.services import trust as trust_service
from warehouse.signing.signers import Pkcs12Signer
from warehouse.signing.trust import SigningSettings, load_settings
from warehouse.web import shipping as shipping_web

if not NCA.is_dir():
    # The public NCA test keys are part of the test set-up (../shared/testdata/nca): without them the
    # signing tests must fail loudly, never pass by being skipped.
    raise pytest.UsageError(f"NCA test data not found in {NCA}: set WAREHOUSE_NCA_TESTDATA")

# Valid БИН (check digit by the Kazakh algorithm): ours, and the receiver's.
WHOLESALER_BIN = "123456789013"  # the first round of weights gives 10, the second 3
SHOP_BIN = "100000000001"


@contextmanager
def refused(error: type[WarehouseError], reason: str) -> Iterator[pytest.ExceptionInfo[WarehouseError]]:
    """Expect `error` with this stable reason (its text is the person's language, not the reason)."""
    with pytest.raises(error) as e:
        yield e
    assert e.value.reason == reason, e.value


def station_app(url: str, folder: Path, **config: object) -> Flask:
    """The application as a station runs it, with the shipping blueprint (registered here until the
    application registers it itself)."""
    application = make_app(url, folder, **config)
    trust_service.update_from_folder(Path(application.config["TRUST_DIR"]), minted().store)
    if "shipping" not in application.blueprints:
        application.register_blueprint(shipping_web.bp)
    return application


def wholesaler_app(url: str, folder: Path, **config: object) -> Flask:
    """The wholesaler's station: the company that ships."""
    return station_app(url, folder / "wholesaler", COMPANY_NAME="ТОО «Опт & Ко»", COMPANY_BIN=WHOLESALER_BIN, **config)


@pytest.fixture
def other_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second empty database of the same kind as `db_url`: the other company's."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'other.sqlite3'}"
    return str(request.getfixturevalue("pg_cluster").new_database())


@dataclass
class Stations:
    wholesaler: Flask
    shop: Flask

    @property
    def a(self) -> Database:
        return get_db(self.wholesaler)

    @property
    def b(self) -> Database:
        return get_db(self.shop)


@pytest.fixture
def stations(db_url: str, other_url: str, tmp_path: Path) -> Iterator[Stations]:
    wholesaler = wholesaler_app(db_url, tmp_path)
    shop = station_app(other_url, tmp_path / "shop", COMPANY_NAME='ТОО "Магазин <1>"', COMPANY_BIN=SHOP_BIN)
    yield Stations(wholesaler, shop)
    get_db(wholesaler).dispose()
    get_db(shop).dispose()


@pytest.fixture
def station(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The wholesaler's station on each kind of database."""
    application = wholesaler_app(db_url, tmp_path)
    yield application
    get_db(application).dispose()


@pytest.fixture
def wholesaler(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    """One station on SQLite, for tests that need no second company."""
    application = wholesaler_app(sqlite_url, tmp_path)
    yield application
    get_db(application).dispose()


def signer() -> Pkcs12Signer:
    return Pkcs12Signer.open(minted().sign_key.read_bytes(), PASSWORD)


def settings(app: Flask) -> SigningSettings:
    return load_settings(app.config)


def stocked(db: Database, tmp_path: Path, **factory: object) -> ActFactory:
    """An act from the manufacturer, received whole and accepted: its codes are in stock."""
    factory.setdefault("number", f"ПР-{len(list(tmp_path.glob('in-*.json'))) + 1:04d}")
    f = ActFactory(**factory)  # type: ignore[arg-type]
    act_id = importing.import_act(db, f.write(tmp_path / f"in-{f.number}.json")).act_id
    for code in f.codes["pallet"]:
        receiving.record_scan(db, act_id, receiving.ScanInput(raw=code, source="cli"))
    receiving.close_act(db, act_id, actor="test")
    receiving.decide(db, act_id, "accepted", actor="lead")
    stock.enter_accepted(db, act_id, actor="lead")
    return f
