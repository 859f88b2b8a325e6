"""The lead's operator pages without an operator answering: what they say, and who may see them."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Auth, make_app
from warehouse.db import get_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def away_app(sqlite_url: str, tmp_path: Path) -> Iterator[Flask]:
    url = f"http://127.0.0.1:{_closed_port()}/api/v3/true-api"
    # retried reads wait 0.01 s, not 0.25 s doubled four times (3.75 s a page): the refusal is the same
    application = make_app(sqlite_url, tmp_path, OPERATOR_URL=url, OPERATOR_BACKOFF_SECONDS=0.01)
    yield application
    get_db(application).dispose()


def _lead(app: Flask, lang: str = "en") -> FlaskClient:
    client = app.test_client()
    auth = Auth(client)
    assert auth.login("lead").status_code == 302
    client.post("/language", data={"lang": lang, "next": "/login", "csrf_token": auth.csrf("/login")})
    return client


def test_without_an_operator_the_page_says_how_to_configure_one(sqlite_app: Flask) -> None:
    page = _lead(sqlite_app).get("/operator").get_data(as_text=True)
    assert "WAREHOUSE_OPERATOR_URL" in page and "Sync now" not in page


def test_an_operator_that_does_not_answer_is_told_and_the_page_still_works(away_app: Flask) -> None:
    client = _lead(away_app)
    page = client.get("/operator").get_data(as_text=True)
    assert "cannot be reached" in page and "Log in to the operator" in page and "Sync now" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post("/operator/sync", data={"csrf_token": token.group(1)}, follow_redirects=True)
    assert "Log in to the operator: the station has no session there" in answer.get_data(as_text=True)


def test_the_page_reads_in_russian(away_app: Flask) -> None:
    page = _lead(away_app, "ru").get("/operator").get_data(as_text=True)
    assert "Обмен с оператором" in page and "Войдите к оператору" in page


def test_staff_may_not_see_it(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    Auth(client).login("staff")
    assert client.get("/operator").status_code == 403


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_operator_page_reads_in_one_language(away_app: Flask, lang: str) -> None:
    from tests.web.test_page_languages import leaks, visible_text, without_data

    page = _lead(away_app, lang).get("/operator").get_data(as_text=True)
    data = {"WAREHOUSE_OPERATOR_URL", "NCALayer", "UTC", "lead", "Ерлан Логист"}  # settings, names, the lead
    text = without_data(visible_text(page), data)
    assert leaks(lang, text) == []
