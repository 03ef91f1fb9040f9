"""Security defences (DESIGN §7): passwords, lockout, sessions, headers, API tokens, CSRF."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from conftest import PASSWORD, T0, login, make_test_app
from sqlalchemy import select

from board.auth import passwords
from board.auth import services as auth
from board.errors import ValidationFailed
from board.extensions import db
from board.models import ApiToken, LoginAttempt

# ---------------------------------------------------------------------------------------------
# Passwords


def test_common_password_list_ships_ten_thousand_entries():
    """The shipped list is the ~10k most common passwords, lower-cased, without comments."""
    common = passwords.common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "woaini1314"} <= common
    assert not any(p.startswith("#") for p in common)


@pytest.mark.parametrize("password", ["password123", "PassWord1", " 1qaz2wsx ", "woaini1314"])
def test_registration_refuses_common_passwords_with_a_field_error(client, directory, password):
    """A common password (any case) is refused next to the password field, in Chinese."""
    response = client.post(
        "/register",
        data={
            "email": "new@example.org",
            "password": password,
            "confirm": password,
            "pen_name": "新人",
        },
    )
    assert response.status_code == 422
    assert "这个密码太常见" in response.get_data(as_text=True)
    assert auth.find_user("new@example.org") is None


def test_service_refuses_common_passwords_for_staff_accounts_too(app, directory):
    """create_user (CLI and admin) applies the same rule."""
    with pytest.raises(ValidationFailed) as caught:
        auth.create_user("mod@example.org", "moderator", password="iloveyou", now=T0)
    assert "password" in caught.value.fields


def test_uncommon_long_password_is_accepted(client, directory):
    """A password that is long enough and not on the list opens the account."""
    response = client.post(
        "/register",
        data={
            "email": "ok@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "pen_name": "好",
        },
    )
    assert response.status_code == 302


# ---------------------------------------------------------------------------------------------
# Login lockout


def _fail(email: str, minutes: float):
    """One failed sign-in at T0 + minutes; returns the error raised."""
    with pytest.raises((auth.LoginFailed, auth.LoginLocked)) as caught:
        auth.sign_in(email, "wrong-password-1", now=T0 + timedelta(minutes=minutes))
    return caught.value


def test_five_failures_lock_the_account_for_fifteen_minutes(app, citizen):
    """The fifth failure within 15 minutes locks; the right password waits until the lock ends."""
    for minute in range(4):
        assert isinstance(_fail(citizen.email, minute), auth.LoginFailed)
    fifth = _fail(citizen.email, 4)
    assert isinstance(fifth, auth.LoginLocked)
    assert fifth.retry_at == T0 + timedelta(minutes=19)
    assert "北京时间" in fifth.message and "2026-03-02 09:19" in fifth.message
    with pytest.raises(auth.LoginLocked):
        auth.sign_in(citizen.email, PASSWORD, now=T0 + timedelta(minutes=18, seconds=59))
    user = auth.sign_in(citizen.email, PASSWORD, now=T0 + timedelta(minutes=19))
    assert user.id == citizen.id


def test_tries_while_locked_are_not_checked_or_counted(app, citizen):
    """Hammering a locked account does not extend the lock."""
    for minute in range(5):
        _fail(citizen.email, minute)
    count = db.session.query(LoginAttempt).count()
    for second in range(10):
        _fail(citizen.email, 5 + second / 60)
    assert db.session.query(LoginAttempt).count() == count
    assert auth.sign_in(citizen.email, PASSWORD, now=T0 + timedelta(minutes=19)).id == citizen.id


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(app, citizen):
    """Five failures 4 minutes apart (16 minutes in all) leave the account open."""
    for n in range(5):
        assert isinstance(_fail(citizen.email, n * 4), auth.LoginFailed)
    assert auth.sign_in(citizen.email, PASSWORD, now=T0 + timedelta(minutes=17)).id == citizen.id


def test_a_successful_sign_in_resets_the_count(app, citizen):
    """Four failures, a success, four failures: not locked."""
    for minute in range(4):
        _fail(citizen.email, minute)
    auth.sign_in(citizen.email, PASSWORD, now=T0 + timedelta(minutes=4))
    for minute in range(5, 9):
        assert isinstance(_fail(citizen.email, minute), auth.LoginFailed)


def test_unknown_emails_fail_and_lock_exactly_like_known_ones(app, citizen):
    """Same messages, same lock time for an address with no account: nothing to enumerate."""
    known = [_fail(citizen.email, m) for m in range(5)]
    unknown = [_fail("nobody@example.org", m) for m in range(5)]
    assert [type(e) for e in known] == [type(e) for e in unknown]
    assert [e.message for e in known] == [e.message for e in unknown]


def test_unknown_emails_cost_one_password_hash_check_like_known_ones(app, citizen, monkeypatch):
    """A password hash is checked for unknown e-mails too, so timing does not tell them apart."""
    checked = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    _fail("nobody@example.org", 0)
    _fail(citizen.email, 0)
    assert len(checked) == 2


def test_login_page_shows_the_same_error_for_unknown_and_known_emails(client, citizen):
    """The web answer to a wrong password and to an unknown e-mail is the same page."""
    wrong = client.post("/login", data={"email": citizen.email, "password": "wrong-pass-1"})
    unknown = client.post(
        "/login", data={"email": "nobody@example.org", "password": "wrong-pass-1"}
    )
    assert wrong.status_code == unknown.status_code == 422
    strip = lambda r, e: r.get_data(as_text=True).replace(e, "EMAIL")  # noqa: E731
    assert strip(wrong, citizen.email) == strip(unknown, "nobody@example.org")
    assert "邮箱或密码不正确" in wrong.get_data(as_text=True)


def test_login_page_says_when_a_locked_account_may_retry(client, citizen):
    """After five failures even the right password gets a 429 naming the retry time."""
    for _n in range(5):
        client.post("/login", data={"email": citizen.email, "password": "wrong-pass-1"})
    response = client.post("/login", data={"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 429
    assert 800 < int(response.headers["Retry-After"]) <= 900
    page = response.get_data(as_text=True)
    assert "该账户已暂时锁定" in page and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", page)


def test_login_starts_a_fresh_session(client, citizen):
    """Nothing planted in the session before sign-in survives it (session fixation)."""
    with client.session_transaction() as before:
        before["planted"] = "attacker-chosen"
    login(client, citizen)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("_user_id") == citizen.get_id()


# ---------------------------------------------------------------------------------------------
# Headers and cookies


PAGES = {
    "html": ("/", 200, "text/html"),
    "json": ("/api/v1/regions", 200, "application/json"),
    "error": ("/no-such-page", 404, "text/html"),
    "json-error": ("/api/v1/messages/NOPE", 404, "application/json"),
}


@pytest.mark.parametrize("kind", PAGES)
def test_security_headers_on_pages_api_answers_and_errors(client, directory, kind):
    """CSP with frame-ancestors 'none', nosniff, a referrer policy, DENY framing, everywhere."""
    path, status, mimetype = PAGES[kind]
    response = client.get(path)
    assert (response.status_code, response.mimetype) == (status, mimetype)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


@pytest.mark.parametrize("kind", PAGES)
def test_hsts_is_sent_only_over_tls(app, directory, kind):
    """Over HTTPS every answer, errors included, carries Strict-Transport-Security."""
    path, status, _mimetype = PAGES[kind]
    response = app.test_client().get(path, base_url="https://localhost")
    assert response.status_code == status
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def _session_cookie_header(client, user) -> str:
    """The Set-Cookie header of the session cookie set by signing in."""
    response = login(client, user)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_is_httponly_and_samesite_lax(client, citizen):
    """Scripts cannot read the session cookie and other sites' POSTs do not carry it."""
    cookie = _session_cookie_header(client, citizen)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # not configured: a plain-HTTP dev server must still work


def test_session_cookie_is_secure_when_configured(app, database, tmp_path, citizen):
    """With SESSION_COOKIE_SECURE the session and remember cookies are Secure."""
    secure = make_test_app(database, tmp_path, SESSION_COOKIE_SECURE=True)
    assert secure.config["REMEMBER_COOKIE_SECURE"] is True
    client = secure.test_client()
    client.base_url = "https://localhost"
    response = client.post(
        "/login",
        data={"email": citizen.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert response.status_code == 302
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" in cookie and "HttpOnly" in cookie


# ---------------------------------------------------------------------------------------------
# API tokens page


def _create_token(client, name: str = "脚本") -> tuple[str, object]:
    """Create a token on the page; returns the plain token and the response."""
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    found = re.search(r'id="new-token">(ms_[A-Za-z0-9_-]+)<', response.get_data(as_text=True))
    assert found
    return found.group(1), response


def test_token_page_creates_a_token_shown_once_and_stored_hashed(client, citizen):
    """The new token appears once, is never cached, works for the API and only its hash is kept."""
    login(client, citizen)
    token, response = _create_token(client)
    assert response.headers["Cache-Control"] == "no-store"
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == citizen.id))
    assert row.name == "脚本"
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.name)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "脚本" in listing and token not in listing
    api = client.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_token_page_requires_a_name(client, citizen):
    """A token without a name is refused with a field error."""
    login(client, citizen)
    response = client.post("/account/tokens", data={"name": " "})
    assert response.status_code == 422 and "请为令牌起个名字" in response.get_data(as_text=True)
    assert db.session.query(ApiToken).count() == 0


def test_revoked_token_stops_working(client, citizen):
    """Revoking on the page makes the API answer 401 for that token."""
    login(client, citizen)
    token, _response = _create_token(client)
    row = db.session.scalar(select(ApiToken))
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)
    api = client.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_tokens_are_listed_and_revoked_only_by_their_owner(client, citizen, troll):
    """Another user neither sees nor can revoke someone's token."""
    auth.issue_token(citizen, name="陈的令牌", now=T0)
    row = db.session.scalar(select(ApiToken))
    login(client, troll)
    assert "陈的令牌" not in client.get("/account/tokens").get_data(as_text=True)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404  # not confirmed
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_token_page_needs_sign_in(client, directory):
    """Visitors are sent to the login page."""
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------------------------------------
# CSRF


def _post_rules(app) -> list:
    """Every HTML route that accepts POST (the JSON API uses bearer tokens instead)."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    ]


def test_every_html_form_post_without_a_csrf_token_is_refused(
    app, database, tmp_path, make_message, citizen, admin
):
    """With CSRF on, each state-changing POST lacking a token gets the 400 CSRF page."""
    message = make_message("approved")
    auth.issue_token(admin, name="t", now=T0)
    token_id = db.session.scalar(select(ApiToken.id))
    protected = make_test_app(database, tmp_path, WTF_CSRF_ENABLED=True)
    rules = _post_rules(protected)
    assert len(rules) >= 12
    client = protected.test_client()
    values = {"code": message.code, "token_id": token_id}
    values["mail_id"] = 1  # /admin/mail/<mail_id>/retry: refused before the row is looked up
    values["word_id"] = 1  # /moderation/words/<word_id>/delete: likewise
    values["name"] = "board_moderation"  # /admin/deadlines/<name>
    values.update(user_id=1, invitation_id=1, token="x", action="disable", change="retire")
    values["token"] = "not-a-real-link"  # /verify-email/<token>, /reset-password/<token>, …
    values["session_id"] = 1  # /account/sessions/<session_id>/end
    for rule in rules:
        with protected.test_request_context():
            url = protected.url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
        response = client.post(url, data={"email": admin.email, "password": PASSWORD})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert "CSRF" in response.get_data(as_text=True), rule.rule


def test_a_form_post_with_its_csrf_token_is_accepted(app, database, tmp_path, citizen):
    """The same app accepts a sign-in that carries the token from the form (the control case)."""
    protected = make_test_app(database, tmp_path, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": citizen.email, "password": PASSWORD, "csrf_token": csrf}
    )
    assert response.status_code == 302
    with client.session_transaction() as current:
        assert current.get("_user_id") == citizen.get_id()
