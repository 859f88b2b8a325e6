"""Fixtures: the app on a fresh real database (SQLite file or throwaway PostgreSQL), clients, login."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.pg import Cluster
from warehouse.db import Database, get_db
from warehouse.factory import create_app
from warehouse.services import demo, users
from warehouse.services.users import badge_key

# scrypt at N=2^10, not 2^15: 3 ms a hash instead of 90, for the thousands of logins and demo people the suite
# makes in this process (the stations and CLI calls it starts hash at full cost). Still scrypt, still salted.
users.HASH_METHOD = "scrypt:1024:8:1"

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind: integration tests using it run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"


def make_app(url: str, tmp_path: Path, **overrides: Any) -> Flask:
    app = create_app(
        {"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test", **overrides}, instance_path=tmp_path / "instance"
    )
    demo.load(get_db(app), act=False, badge_key=badge_key(app.config["SECRET_KEY"]))  # people, a station
    return app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(db_url, tmp_path)
    yield application
    get_db(application).dispose()


@pytest.fixture
def sqlite_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(sqlite_url, tmp_path)
    yield application
    get_db(application).dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return get_db(app)


class Auth:
    """Log in and out through the real forms, CSRF token included (Flask tutorial's AuthActions)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str = "staff", password: str | None = None) -> Any:
        return self.client.post(
            "/login", data={"username": username, "password": password or username, "csrf_token": self.csrf()}
        )

    def login_badge(self, badge: str) -> Any:
        return self.client.post("/login", data={"badge": badge, "csrf_token": self.csrf()})


def client_of(application: Flask) -> FlaskClient:
    return application.test_client()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class LiveServer:
    """The app served as `warehouse run` serves it (warehouse/web/serving.py: uvicorn, live screens on
    its event loop), in a thread, on a free port."""

    def __init__(self, application: Flask) -> None:
        from warehouse.web import serving

        self.app = application
        self.socket = serving.listen("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = serving.server(application)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def live_server(sqlite_app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(sqlite_app)
    yield server
    server.stop()


@pytest.fixture
def live_server_any_db(app: Flask) -> Iterator[LiveServer]:
    """The app served over HTTP on each kind of database (SQLite, then PostgreSQL): for the journeys that
    must hold on both."""
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def layer() -> Iterator[Any]:
    """A stand-in for NCALayer on ws://127.0.0.1 that signs with the minted chain's signing key."""
    from tests.signing.fake_ncalayer import FakeNcaLayer
    from tests.signing.pki import PASSWORD, minted
    from warehouse.signing.signers import Pkcs12Signer

    fake = FakeNcaLayer(Pkcs12Signer.open(minted().sign_key.read_bytes(), PASSWORD).sign)
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
