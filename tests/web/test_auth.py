"""Login by password and badge, roles on every view, CSRF on every state change, language switch."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import Auth
from warehouse.db import get_db
from warehouse.layouts import typed_in_layout
from warehouse.models import AuditEntry, User
from warehouse.services import users
from warehouse.web.access import policy_of


def test_pages_need_a_login(client: FlaskClient) -> None:
    r = client.get("/acts")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/acts")
    r = client.get("/acts", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_password_login_and_logout(client: FlaskClient, auth: Auth) -> None:
    r = auth.login("staff")
    assert r.status_code == 302 and r.headers["Location"] == "/acts"
    assert "Айгерім Склад" in client.get("/acts").get_data(as_text=True)
    token = auth.csrf("/acts")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/acts").status_code == 302


def test_wrong_password_is_refused_and_audited(app: Flask, client: FlaskClient, auth: Auth) -> None:
    r = auth.login("staff", "wrong")
    assert r.status_code == 401
    assert "Wrong username or password" in r.get_data(as_text=True) or "Неверн" in r.get_data(as_text=True)
    assert client.get("/acts").status_code == 302
    with get_db(app).read() as s:
        actions = s.execute(select(AuditEntry.action)).scalars().all()
    assert "user.login_failed" in actions and "user.login" not in actions


# "BADGE-STAFF-0001" typed by a US-QWERTY scanner through the Russian and the Kazakh layout.
RUSSIAN_BADGE = "ИФВПУ-ЫЕФАА-0001"
KAZAKH_BADGE = 'ИФВПУөЫЕФААөқққ"'


def test_badge_login(client: FlaskClient, auth: Auth) -> None:
    assert auth.login_badge("BADGE-STAFF-0001\r\n").status_code == 302  # a scanner's suffix is tolerated
    assert "Айгерім Склад" in client.get("/acts").get_data(as_text=True)


def test_badge_login_under_a_russian_or_kazakh_layout(client: FlaskClient, auth: Auth) -> None:
    # The scanner types key positions: under a Russian layout "BADGE-STAFF-0001" arrives as Cyrillic letters.
    assert typed_in_layout(RUSSIAN_BADGE) and typed_in_layout(KAZAKH_BADGE)
    assert auth.login_badge(RUSSIAN_BADGE + "\r\n").status_code == 302
    assert "Айгерім Склад" in client.get("/acts").get_data(as_text=True)
    client.post("/logout", headers={"X-CSRFToken": auth.csrf()})
    assert auth.login_badge(KAZAKH_BADGE).status_code == 302


def test_a_badge_given_under_a_russian_layout_is_stored_as_printed(app: Flask, client: FlaskClient, auth: Auth) -> None:
    users.set_badge(get_db(app), "staff", "ИФВПУ-ЫЕФАА-0002", users.badge_key(app.config["SECRET_KEY"]), actor="admin")
    assert auth.login_badge("BADGE-STAFF-0002").status_code == 302


def test_unknown_badge(client: FlaskClient, auth: Auth) -> None:
    assert auth.login_badge("BADGE-NOBODY").status_code == 401


def test_password_is_stored_with_a_modern_kdf(app: Flask) -> None:
    with get_db(app).read() as s:
        user = s.execute(select(User).where(User.username == "staff")).scalar_one()
    assert user.password_hash.startswith("scrypt:") and "staff" not in user.password_hash


def test_state_changes_need_the_csrf_token(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/login", data={"username": "staff", "password": "staff"}).status_code == 400
    auth.login("staff")
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", headers={"X-CSRFToken": "forged"}).status_code == 400
    # htmx sends the token as a header: that is accepted.
    token = auth.csrf("/acts")
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302


def test_roles_are_enforced(client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    assert client.get("/admin/users").status_code == 403
    auth.login("admin")
    assert client.get("/admin/users").status_code == 200


def test_admin_creates_a_user_and_errors_change_nothing(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("admin")
    token = auth.csrf("/admin/users")
    r = client.post(
        "/admin/users", data={"username": "staff", "password": "long enough", "role": "staff", "csrf_token": token}
    )
    assert r.status_code == 400
    r = client.post(
        "/admin/users", data={"username": "<b>new</b>", "password": "secret1", "role": "lead", "csrf_token": token}
    )
    assert r.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "&lt;b&gt;new&lt;/b&gt;" in page and "<b>new</b>" not in page
    with get_db(app).read() as s:
        assert s.execute(select(User.role).where(User.username == "<b>new</b>")).scalar_one() == "lead"


def test_every_view_declares_who_may_open_it(app: Flask) -> None:
    with app.test_request_context():
        undeclared = [
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and policy_of(rule.endpoint) is False
        ]
    assert undeclared == []


def test_language_switch(client: FlaskClient, auth: Auth) -> None:
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log in" in page
    token = auth.csrf()
    client.post("/language", data={"lang": "kk", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="kk"' in page and "Кіру" in page
    client.post("/language", data={"lang": "ru", "next": "/login", "csrf_token": token})
    assert "Войти" in client.get("/login").get_data(as_text=True)


def test_login_redirect_stays_on_this_site(client: FlaskClient, auth: Auth) -> None:
    r = client.post(
        "/login?next=https://evil.example/", data={"username": "staff", "password": "staff", "csrf_token": auth.csrf()}
    )
    assert r.headers["Location"] == "/acts"
