"""Logins that hold up against guessing and replay: throttling with lockout (audited once per burst), a
badge alone only for staff, keyed badge digests, sessions that end for real, security headers."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import Auth, make_app
from warehouse.cli.users import users_cli
from warehouse.db import get_db
from warehouse.models import AuditEntry, LoginSession, User
from warehouse.services import users


def audit_actions(app: Flask) -> list[str]:
    with get_db(app).read() as s:
        return list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def logged_in(client: FlaskClient) -> bool:
    return client.get("/acts").status_code == 200


# --- throttling -------------------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_user_even_for_the_right_one(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="1000 per minute")
    client = app.test_client()
    auth = Auth(client)
    for _ in range(20):
        assert auth.login("admin", "wrong").status_code in (401, 429)
    r = auth.login("admin", "admin")
    assert r.status_code == 429 and not logged_in(client)
    page = r.get_data(as_text=True)
    assert "Try again in" in page or "Повторите" in page or "Қайталап" in page
    actions = audit_actions(app)
    # one entry opens the burst, one records the lockout: never one per try
    assert actions.count("user.login_failed") == 1 and actions.count("user.login_locked") == 1
    assert "user.login" not in actions


def test_the_lockout_message_is_in_the_users_language(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="1000 per minute")
    client = app.test_client()
    auth = Auth(client)
    client.post("/language", data={"lang": "kk", "next": "/login", "csrf_token": auth.csrf()})
    for _ in range(5):
        auth.login("lead", "wrong")
    page = auth.login("lead", "lead").get_data(as_text=True)
    assert "қайталап көріңіз" in page and "мин" in page


def test_a_lockout_ends_and_grows(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="1000 per minute", LOGIN_LOCKOUT_SECONDS=1)
    client = app.test_client()
    auth = Auth(client)
    for _ in range(5):
        auth.login("staff", "wrong")
    assert auth.login("staff", "staff").status_code == 429
    time.sleep(1.1)
    assert auth.login("staff", "staff").status_code == 302 and logged_in(client)
    assert "user.login" in audit_actions(app)


def test_an_unknown_username_locks_like_a_known_one(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="1000 per minute")
    auth = Auth(app.test_client())
    statuses = [auth.login("nobody-here", "wrong").status_code for _ in range(7)]
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429] * 3  # names cannot be probed by the lockout


def test_many_failures_from_one_address_are_limited(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="6 per minute")
    client = app.test_client()
    auth = Auth(client)
    statuses = [auth.login(f"user{i}", "wrong").status_code for i in range(10)]
    assert statuses[:6] == [401] * 6 and set(statuses[6:]) == {429}
    assert auth.login("staff", "staff").status_code == 429 and not logged_in(client)
    actions = audit_actions(app)
    assert actions.count("user.login_throttled") == 1  # one entry for the address's burst


def test_successful_logins_do_not_use_up_the_address_limit(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="3 per minute")
    client = app.test_client()
    auth = Auth(client)
    for _ in range(6):
        assert auth.login("staff").status_code == 302


# --- badges and PINs -------------------------------------------------------------------------------------


def test_a_badge_alone_logs_in_staff(client: FlaskClient, auth: Auth) -> None:
    assert auth.login_badge("BADGE-STAFF-0001\r\n").status_code == 302 and logged_in(client)


def test_a_leads_badge_alone_is_not_enough(app: Flask, client: FlaskClient, auth: Auth) -> None:
    r = auth.login_badge("BADGE-LEAD-0001")
    assert r.status_code == 200 and 'name="pin"' in r.get_data(as_text=True)
    assert not logged_in(client)
    r = client.post("/login", data={"pin": "0000", "csrf_token": auth.csrf()})
    assert r.status_code == 401 and not logged_in(client)


def test_a_leads_badge_with_the_pin_logs_in(client: FlaskClient, auth: Auth) -> None:
    auth.login_badge("BADGE-LEAD-0001")
    r = client.post("/login", data={"pin": "1234", "csrf_token": auth.csrf()})
    assert r.status_code == 302 and "Ерлан Логист" in client.get("/acts").get_data(as_text=True)


def test_a_leads_badge_with_the_password_logs_in(client: FlaskClient, auth: Auth) -> None:
    auth.login_badge("BADGE-LEAD-0001")
    assert client.post("/login", data={"pin": "lead", "csrf_token": auth.csrf()}).status_code == 302
    assert logged_in(client)


def test_a_pin_step_without_a_badge_step_logs_in_no_one(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/login", data={"pin": "1234", "csrf_token": auth.csrf()}).status_code == 401
    assert not logged_in(client)


def test_badge_digests_are_keyed_with_the_instance_secret(app: Flask) -> None:
    badge = "BADGE-STAFF-0001"
    with get_db(app).read() as s:
        stored = set(s.execute(select(User.badge_digest).where(User.badge_digest.is_not(None))).scalars())
    unkeyed = {
        hashlib.sha256(badge.encode()).hexdigest(),
        hashlib.sha256(b"warehouse-badge\x00" + badge.encode()).hexdigest(),
    }
    assert stored and not stored & unkeyed
    other = users.badge_key("another station's secret")
    assert users.badge_digest(badge, other) not in stored


def test_an_unkeyed_digest_is_rekeyed_at_the_next_badge_login(app: Flask, client: FlaskClient, auth: Auth) -> None:
    legacy = hashlib.sha256(b"warehouse-badge\x00BADGE-STAFF-0001").hexdigest()
    with get_db(app).write() as s:
        s.execute(User.__table__.update().where(User.username == "staff").values(badge_digest=legacy))
    assert auth.login_badge("BADGE-STAFF-0001").status_code == 302
    with get_db(app).read() as s:
        digest = s.execute(select(User.badge_digest).where(User.username == "staff")).scalar_one()
    assert digest not in (None, legacy)


def test_the_cli_sets_a_pin_and_a_badge(app: Flask) -> None:
    runner = app.test_cli_runner()
    r = runner.invoke(users_cli, ["set-pin", "admin"], input="4321\n4321\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(users_cli, ["set-badge", "admin"], input="BADGE-ADMIN-7\nBADGE-ADMIN-7\n")
    assert r.exit_code == 0, r.output
    assert runner.invoke(users_cli, ["set-pin", "admin"], input="12\n12\n").exit_code != 0
    assert runner.invoke(users_cli, ["set-pin", "nobody"], input="4321\n4321\n").exit_code != 0
    client = app.test_client()
    auth = Auth(client)
    auth.login_badge("BADGE-ADMIN-7")
    assert client.post("/login", data={"pin": "4321", "csrf_token": auth.csrf()}).status_code == 302


def test_the_cli_unlocks_a_user(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, LOGIN_ADDRESS_LIMIT="1000 per minute")
    auth = Auth(app.test_client())
    for _ in range(5):
        auth.login("staff", "wrong")
    assert auth.login("staff").status_code == 429
    assert app.test_cli_runner().invoke(users_cli, ["unlock", "staff"]).exit_code == 0
    assert auth.login("staff").status_code == 302


# --- sessions --------------------------------------------------------------------------------------------


def test_a_replayed_cookie_after_logout_gets_the_login_page(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    cookie = client.get_cookie("session")
    assert cookie is not None and logged_in(client)
    client.post("/logout", data={"csrf_token": auth.csrf("/acts")})
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    r = replay.get("/acts")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_a_session_ends_after_the_idle_time(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, SESSION_IDLE_SECONDS=1)
    client = app.test_client()
    Auth(client).login("staff")
    assert logged_in(client)
    time.sleep(0.6)
    assert logged_in(client)  # a request is activity: the idle time starts again
    time.sleep(0.6)
    assert logged_in(client)
    time.sleep(1.3)
    r = client.get("/acts", headers={"Accept-Language": "en"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "without activity" in page
    with get_db(app).read() as s:
        assert s.execute(select(LoginSession.end_reason)).scalar_one() == "idle"


def test_a_live_stream_is_no_activity_by_itself(sqlite_url: str, tmp_path: Path) -> None:
    from warehouse.web import access

    app = make_app(sqlite_url, tmp_path, SESSION_IDLE_SECONDS=1)
    client = app.test_client()
    Auth(client).login("staff")
    with app.test_request_context("/acts/1/events", headers={"Accept": "text/event-stream"}):
        assert not access.counts_as_activity()
    with app.test_request_context("/acts/1/scan", method="POST"):
        assert access.counts_as_activity()


def test_logging_in_again_replaces_the_session(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    first = client.get_cookie("session")
    assert first is not None
    auth.login("lead")
    old = app.test_client()
    old.set_cookie("session", first.value)
    assert old.get("/acts").status_code == 302


def test_a_deactivated_person_is_logged_out(app: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    with get_db(app).write() as s:
        s.execute(User.__table__.update().where(User.username == "staff").values(active=False))
    assert client.get("/acts").status_code == 302


# --- headers ---------------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client: FlaskClient, auth: Auth) -> None:
    for r in (client.get("/login"), client.get("/static/css/app.css"), client.get("/acts")):
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert r.headers["X-Frame-Options"] == "DENY"
    assert "wss://127.0.0.1:13579" in client.get("/login").headers["Content-Security-Policy"]


def test_pages_are_not_cached_but_static_files_are(client: FlaskClient, auth: Auth) -> None:
    auth.login("staff")
    assert "no-store" in client.get("/acts").headers["Cache-Control"]
    assert "no-store" in client.get("/login").headers["Cache-Control"]
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_cookies_are_secure_over_tls(client: FlaskClient, auth: Auth) -> None:
    r = auth.login("staff")
    assert "Secure" not in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    secure = client.get("/login", base_url="https://station.local")
    assert "; Secure" in secure.headers["Set-Cookie"]


def test_cookies_can_be_forced_secure_behind_a_tls_proxy(sqlite_url: str, tmp_path: Path) -> None:
    app = make_app(sqlite_url, tmp_path, SESSION_COOKIE_SECURE=True)
    r = app.test_client().get("/login")
    assert "; Secure" in r.headers["Set-Cookie"]
