"""Accounts: e-mail verification, password reset by mail, password and e-mail changes ending the
other sessions, and the sessions list — through the web client and the real services, with the
links read from the mail the outbox delivered to files."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, T0, login
from sqlalchemy import select

from board.auth import services as accounts
from board.clock import utcnow
from board.extensions import db
from board.models import Event, Role, User
from board.models.accounts import AccountToken, TokenPurpose, UserSession
from board.notify import services as notify
from board.notify.models import OutgoingMail

NEW_PASSWORD = "another-long-secret-7"
REGISTRATION = {
    "email": "zhao.lei@example.org",
    "password": "long-enough-secret",
    "confirm": "long-enough-secret",
    "pen_name": "赵磊",
}
LINK = re.compile(r"http://127\.0\.0\.1:8000(/(?:verify-email|reset-password)/[\w-]+)")


def _delivered(app) -> list[email.message.EmailMessage]:
    """Send the outbox to the file sink and read every .eml written so far."""
    notify.deliver(now=utcnow() + timedelta(minutes=1))
    folder = Path(app.config["MAIL_DIR"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def _link_in_mail(app, address: str, kind: str) -> str:
    """The path of the newest link of `kind` mailed to `address`, read from its .eml file."""
    mails = [
        m
        for m in _delivered(app)
        if str(m["To"]) == address and str(m["X-Minsheng-Kind"]) == f"account_{kind}"
    ]
    assert mails, f"no account_{kind} mail to {address}"
    return LINK.search(mails[-1].get_content()).group(1)


def _user(address: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == address))


def _signed_in(client) -> bool:
    """Whether the client is still signed in (the account page answers instead of the login)."""
    return client.get("/account").status_code == 200


# ---------------------------------------------------------------------------------------------
# Verification


def test_registration_mails_a_link_and_only_a_verified_account_may_publish(app, client, directory):
    """Register → unverified (writing sends to the account page) → the mailed link, opened and
    confirmed, verifies the address → writing is open."""
    assert client.post("/register", data=REGISTRATION).status_code == 302
    user = _user(REGISTRATION["email"])
    assert not user.is_verified and user.email_verified_at is None

    blocked = client.get("/write?board=330100-secretary")
    assert blocked.status_code == 303 and blocked.headers["Location"].endswith("/account")
    assert "请先验证您的邮箱" in client.get("/account").get_data(as_text=True)

    path = _link_in_mail(app, REGISTRATION["email"], "verify")
    page = client.get(path)
    assert page.status_code == 200 and REGISTRATION["email"] in page.get_data(as_text=True)
    assert not _user(REGISTRATION["email"]).is_verified  # opening the page uses nothing
    assert client.post(path).status_code == 303
    assert _user(REGISTRATION["email"]).is_verified
    assert client.get("/write?board=330100-secretary").status_code == 200


def test_a_verification_link_works_once(app, client, directory):
    """Reusing a used link is refused with a clear page (400)."""
    client.post("/register", data=REGISTRATION)
    path = _link_in_mail(app, REGISTRATION["email"], "verify")
    assert client.post(path).status_code == 303
    again = client.post(path)
    assert again.status_code == 400 and "链接无效或已过期" in again.get_data(as_text=True)
    assert client.get(path).status_code == 400


def test_an_expired_verification_link_is_refused(app, directory):
    """Past VERIFY_LINK_LIFETIME the link no longer verifies."""
    user = accounts.register_citizen("old@example.org", "long-enough-secret", "旧", now=T0)
    (mail,) = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == user.email))
    token = LINK.search(mail.body).group(1).rsplit("/", 1)[1]
    with pytest.raises(accounts.LinkInvalid):
        accounts.verify_email(token, now=T0 + accounts.VERIFY_LINK_LIFETIME)
    assert accounts.verify_email(token, now=T0 + timedelta(days=1)).is_verified


def test_only_the_token_hash_is_stored(app, directory):
    """The database never holds a mailed token in clear."""
    user = accounts.register_citizen("hash@example.org", "long-enough-secret", "哈", now=T0)
    (mail,) = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == user.email))
    token = LINK.search(mail.body).group(1).rsplit("/", 1)[1]
    (row,) = db.session.scalars(select(AccountToken))
    assert row.token_hash != token and len(row.token_hash) == 64 and token not in row.token_hash


def test_staff_and_seeded_accounts_are_verified(citizen, handler, admin):
    """Accounts an administrator (or the CLI, or the demo seed) makes count as verified."""
    assert citizen.is_verified and handler.is_verified and admin.is_verified


def test_accounts_the_system_creates_directly_are_verified(app, directory):
    """The demo seed and the importer build User rows themselves: verified at creation."""
    from board.auth.services import hash_password

    user = User(email="seed@example.org", password_hash=hash_password("x" * 12),
                pen_name="种子", role=Role.CITIZEN, created_at=T0)  # fmt: skip
    db.session.add(user)
    db.session.commit()
    assert user.email_verified_at == T0


def test_an_unverified_account_gets_no_api_token(app, client, directory):
    """The API publishes too: creating a token waits for verification."""
    client.post("/register", data=REGISTRATION)
    response = client.post("/account/tokens", data={"name": "script"})
    assert response.status_code == 403 and "请先验证您的邮箱" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Password reset


def test_reset_answers_the_same_for_known_and_unknown_addresses(app, client, citizen):
    """No account enumeration: the same page and status; a mail only for the real account."""
    known = client.post("/reset-password", data={"email": citizen.email})
    unknown = client.post("/reset-password", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf_token"[^>]*>')
    assert strip.sub("", known.get_data(as_text=True)) == strip.sub(
        "", unknown.get_data(as_text=True)
    )
    recipients = db.session.scalars(select(OutgoingMail.recipient)).all()
    assert recipients == [citizen.email]


def test_reset_link_sets_a_new_password_once_and_signs_out_everywhere(app, client, citizen):
    """The mailed link sets a new password; the old one stops working, every other browser is
    signed out, and the link cannot be used again."""
    other = app.test_client()
    login(other, citizen)
    client.post("/reset-password", data={"email": citizen.email})
    path = _link_in_mail(app, citizen.email, "reset")
    assert client.get(path).status_code == 200
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    done = client.post(path, data=form)
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert not _signed_in(other)
    assert client.post(path, data=form).status_code == 400
    assert (
        client.post("/login", data={"email": citizen.email, "password": PASSWORD}).status_code
        == 422
    )
    login(client, citizen, NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, citizen):
    """Past RESET_LINK_LIFETIME the link is dead."""
    accounts.request_password_reset(citizen.email, now=T0)
    (mail,) = db.session.scalars(select(OutgoingMail))
    token = LINK.search(mail.body).group(1).rsplit("/", 1)[1]
    with pytest.raises(accounts.LinkInvalid):
        accounts.reset_password(token, NEW_PASSWORD, now=T0 + accounts.RESET_LINK_LIFETIME)


def test_reset_mails_to_one_account_are_limited_per_hour(app, citizen):
    """However often the form is sent, one account gets at most RESET_MAILS_PER_HOUR links an
    hour; the next hour it may get more."""
    for minute in range(6):
        accounts.request_password_reset(citizen.email, now=T0 + timedelta(minutes=minute))
    assert len(db.session.scalars(select(OutgoingMail)).all()) == accounts.RESET_MAILS_PER_HOUR
    accounts.request_password_reset(citizen.email, now=T0 + timedelta(minutes=70))
    assert len(db.session.scalars(select(OutgoingMail)).all()) == accounts.RESET_MAILS_PER_HOUR + 1


def test_reset_requests_are_rate_limited_per_address(database, tmp_path, citizen):
    """With rate limits on, the sixth request from one address within the hour gets a 429."""
    from conftest import make_test_app

    limited = make_test_app(database, tmp_path, RATELIMIT_ENABLED=True)
    client = limited.test_client()
    answers = [
        client.post("/reset-password", data={"email": f"x{n}@example.org"}).status_code
        for n in range(6)
    ]
    assert answers == [200] * 5 + [429]


# ---------------------------------------------------------------------------------------------
# Password and e-mail changes; sessions


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(app, client, citizen):
    """The browser that changed it stays signed in; another one is signed out."""
    other = app.test_client()
    login(client, citizen)
    login(other, citizen)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not-it", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert _signed_in(other)
    done = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status_code == 303
    assert _signed_in(client) and not _signed_in(other)


def test_changing_the_email_needs_the_password_verifies_again_and_ends_other_sessions(
    app, client, citizen
):
    """A new address: unverified until its own link is used; the old address's link is void."""
    old_address = citizen.email
    accounts.send_verification(citizen, now=T0)  # verified already: sends nothing
    other = app.test_client()
    login(client, citizen)
    login(other, citizen)
    done = client.post(
        "/account/email", data={"email": "chen.new@example.org", "current_password": PASSWORD}
    )
    assert done.status_code == 303
    user = _user("chen.new@example.org")
    assert user is not None and not user.is_verified
    assert _signed_in(client) and not _signed_in(other)
    path = _link_in_mail(app, "chen.new@example.org", "verify")
    assert client.post(path).status_code == 303 and _user("chen.new@example.org").is_verified
    assert _user(old_address) is None


def test_the_sessions_list_shows_each_browser_and_ends_one(app, client, citizen):
    """Two browsers: both listed (agent, truncated address); ending the other signs it out."""
    other = app.test_client()
    login(client, citizen)
    other.post(
        "/login",
        data={"email": citizen.email, "password": PASSWORD},
        headers={"User-Agent": "PhoneBrowser/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "PhoneBrowser/1.0" in page and "203.0.113.0" in page and "203.0.113.77" not in page
    assert "本设备" in page
    row = db.session.scalar(select(UserSession).where(UserSession.user_agent == "PhoneBrowser/1.0"))
    assert client.post(f"/account/sessions/{row.id}/end").status_code == 303
    assert not _signed_in(other) and _signed_in(client)


def test_another_persons_session_id_is_not_found(app, client, citizen, troll):
    """Ending someone else's session answers 404 and leaves it open."""
    victim = app.test_client()
    login(victim, citizen)
    login(client, troll)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == citizen.id))
    assert client.post(f"/account/sessions/{row.id}/end").status_code == 404
    assert _signed_in(victim)


def test_sign_out_everywhere_ends_every_session(app, client, citizen):
    """ "Sign out everywhere" signs out this browser and every other."""
    other = app.test_client()
    login(client, citizen)
    login(other, citizen)
    assert client.post("/account/sessions/end-all").status_code == 303
    assert not _signed_in(client) and not _signed_in(other)
    db.session.expire_all()
    assert all(row.ended_at is not None for row in db.session.scalars(select(UserSession)))


def test_signing_out_ends_the_session_row(app, client, citizen):
    """Sign-out closes this browser's row, so it leaves the sessions list."""
    login(client, citizen)
    client.post("/logout")
    db.session.expire_all()
    (row,) = db.session.scalars(select(UserSession))
    assert row.ended_at is not None


def test_link_purposes_do_not_mix(app, citizen):
    """A reset link does not verify and a verification link does not reset."""
    accounts.request_password_reset(citizen.email, now=T0)
    (mail,) = db.session.scalars(select(OutgoingMail))
    token = LINK.search(mail.body).group(1).rsplit("/", 1)[1]
    with pytest.raises(accounts.LinkInvalid):
        accounts.check_link(token, TokenPurpose.VERIFY, now=T0)


# ---------------------------------------------------------------------------------------------
# Profile


def test_profile_saves_private_details_and_the_mail_language(app, client, citizen, make_message):
    """Pen name, real name, a phone (stored canonical), address and English mail; the next mail
    to the person is English."""
    login(client, citizen)
    page = client.get("/account").get_data(as_text=True)
    assert "陈**" in page  # how lists show the pen name
    done = client.post(
        "/account",
        data={"pen_name": "陈小明", "real_name": "陈明亮", "phone": "138 0013 8000",
              "address": "杭州市西湖区文三路 1 号", "locale": "en"},
    )  # fmt: skip
    assert done.status_code == 303
    user = _user(citizen.email)
    assert (user.pen_name, user.phone, user.locale) == ("陈小明", "13800138000", "en")
    assert user.address == "杭州市西湖区文三路 1 号"
    message = make_message("approved")
    (mail,) = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == user.email))
    assert mail.subject == f"[Minsheng] Your message {message.code} has been approved"


def test_profile_refuses_an_invalid_phone_and_keeps_what_was_typed(client, citizen):
    """A phone that is not a mainland number: 422, the error next to the field, nothing saved."""
    login(client, citizen)
    refused = client.post(
        "/account",
        data={"pen_name": "新网名", "phone": "12345", "locale": "zh_CN"},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请填写有效的手机号码" in page and "新网名" in page
    assert _user(citizen.email).pen_name == "陈明"


# ---------------------------------------------------------------------------------------------
# Personal-information rights


def test_export_holds_the_persons_own_data_and_nothing_internal(
    app, client, citizen, make_message, make_user
):
    """/account/export: profile, own messages with their private parts, the public history and
    the person's own actions, ratings and co-signs; no staff-internal note, nobody else's data."""
    from board.messages import services as msg

    mine = make_message("replied", private_note="我的身份证号码写在这里")
    other_author = make_user(Role.CITIZEN, pen_name="别人")
    theirs = make_message("approved", author=other_author, title="别人的留言")
    msg.cosign_message(theirs, citizen, now=T0 + timedelta(days=1))
    from board.follow import services as follow

    follow.follow_message(theirs, citizen, now=T0 + timedelta(days=1))
    follow.follow_message(theirs, other_author, now=T0 + timedelta(days=1))
    follow.save_search(citizen, {"q": "路灯"}, name="路灯", now=T0 + timedelta(days=1))
    internal = Event(message=mine, action="note", note="仅内部可见的备注", is_public=False,
                     created_at=T0 + timedelta(days=2))  # fmt: skip
    db.session.add(internal)
    db.session.commit()
    login(client, citizen)
    response = client.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["profile"]["email"] == citizen.email and data["profile"]["phone"] == "13912345678"
    assert [m["code"] for m in data["messages"]] == [mine.code]
    assert data["messages"][0]["private_note"] == "我的身份证号码写在这里"
    assert {e["message"] for e in data["events"]} == {mine.code}
    assert any(e["action"] == "submit" and e["by_me"] for e in data["events"])
    assert "仅内部可见的备注" not in response.get_data(as_text=True)
    assert [c["message"] for c in data["cosigns"]] == [theirs.code]
    assert len(data["sessions"]) == 1 and data["sessions"][0]["ended_at"] is None
    assert data["ratings"] == []
    assert [f["message"] for f in data["follows"]] == [theirs.code]  # not the other's follow
    assert [(x["name"], x["daily_mail"]) for x in data["saved_searches"]] == [("路灯", True)]
    assert other_author.email not in response.get_data(as_text=True)
