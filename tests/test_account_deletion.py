"""Deleting one's own account (PIPL art. 47, docs/accounts.md): the password confirms it, the old
address gets a confirmation and is then forgotten everywhere, public messages stay under
"已注销用户", petition files keep what the office must keep, every session ends, the change log
records it by account id only — through the web client and the real services."""

from __future__ import annotations

import email
import email.policy
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, T0, login
from PIL import Image
from sqlalchemy import select

from board.admin.models import AdminChange
from board.admin.services import set_active
from board.attachments import services as files
from board.auth import erasure
from board.auth import services as accounts
from board.clock import utcnow
from board.extensions import db
from board.follow import services as follow
from board.follow.models import Follow, SavedSearch
from board.models import ApiToken, Kind, Message, Role, Track, User
from board.models.accounts import UserSession
from board.notify import preferences
from board.notify import services as notify
from board.notify.models import MailOptOut, OutgoingMail
from board.privacy import DELETED_PEN_NAME

ADDRESS = "chen.ming@example.org"
PETITION = {
    "real_name": "林晓燕",
    "phone": "13698765432",
    "address": "杭州市西湖区文三路 100 号",
}


def _png() -> files.Prepared:
    """A tiny image upload whose original name carries the person's name."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return files.prepare("林晓燕身份证.png", buffer.getvalue())


def _delivered(app) -> list[email.message.EmailMessage]:
    """Send the outbox to the file sink and read every .eml written so far."""
    notify.deliver(now=max(utcnow(), T0) + timedelta(days=30))
    folder = Path(app.config["MAIL_DIR"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def _rows_naming(*needles: str) -> list[str]:
    """Every row of every table whose text contains one of `needles` (case-insensitive)."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            text = " ".join(str(value) for value in row).lower()
            if any(needle.lower() in text for needle in needles):
                found.append(f"{table.name}: {text[:200]}")
    return found


@pytest.fixture
def person(make_user, directory):
    """A citizen with a full profile and a known address."""
    return make_user(Role.CITIZEN, email=ADDRESS, pen_name="明月清风", locale="zh_CN", **PETITION)


def test_deleting_erases_the_person_and_keeps_public_messages_anonymous(
    app, client, person, make_message
):
    """After deletion no table holds the address, pen name, real name or phone; the public
    message still shows, under "已注销用户"; the board message's note, contacts and private
    attachment are gone; the confirmation mail reached the old address and then left the
    outbox's memory too."""
    public = make_message(
        "replied",
        author=person,
        private_note="身份证号 330106198503152310",
        body="我是林晓燕，小区物业今年起每月多收停车管理费两百元，业主多次反映无果。",
    )
    private_board = make_message(
        "assigned", author=person, wants_public=False, attachments=[_png()], **PETITION
    )
    someone_elses = make_message("received")  # by the `citizen` fixture, 陈明
    follow.follow_message(someone_elses, person, now=T0)
    follow.save_search(person, {"q": "停车"}, now=T0)
    person.email_verified_at = T0
    accounts.issue_token(person, name="script", now=T0)
    preferences.save_preferences(ADDRESS, set(), now=T0)
    login(client, person)
    before = db.session.scalar(select(Message.cosign_count).where(Message.id == public.id))

    page = client.get("/account/delete")
    assert page.status_code == 200 and "注销后不能恢复" in page.get_data(as_text=True)
    response = client.post("/account/delete", data={"current_password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert client.get("/account").status_code == 302  # signed out

    mails = [m for m in _delivered(app) if str(m["X-Minsheng-Kind"]) == "account_deleted"]
    assert len(mails) == 1 and str(mails[0]["To"]) == ADDRESS
    assert "已注销" in str(mails[0]["Subject"]) and mails[0]["List-Unsubscribe"]

    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert user.deleted_at is not None and not user.is_active_account
    assert user.email == f"deleted-{person.id}@deleted.invalid"
    assert (user.pen_name, user.real_name, user.phone, user.address) == (
        DELETED_PEN_NAME,
        None,
        None,
        None,
    )
    assert (
        _rows_naming(ADDRESS, "明月清风", "林晓燕", "13698765432", "文三路", "330106198503152310")
        == []
    )
    for model in (UserSession, ApiToken, Follow, SavedSearch):
        assert db.session.scalars(select(model).where(model.user_id == person.id)).all() == []
    assert db.session.scalars(select(MailOptOut)).all() == []

    kept = db.session.get(Message, public.id)
    assert kept.pen_name == DELETED_PEN_NAME and kept.private_note == ""
    assert kept.cosign_count == before and kept.state == "replied"
    shown = client.get(f"/m/{kept.code}").get_data(as_text=True)
    assert "已注销用户" in shown and "经核查" in shown
    assert "林**" in shown and "林晓燕" not in shown  # masked as before, now in the text itself
    client.get("/lang/en")
    assert "Deleted user" in client.get(f"/m/{kept.code}").get_data(as_text=True)

    untouched = db.session.get(Message, someone_elses.id)
    assert untouched.pen_name == "陈明" and untouched.author.email != user.email

    board_private = db.session.get(Message, private_board.id)
    assert (board_private.real_name, board_private.phone, board_private.address) == (None,) * 3
    assert board_private.attachments == []
    assert board_private.state == "assigned"  # the office still answers it


def test_a_petition_file_keeps_what_the_office_must_keep(app, client, person, make_message):
    """Petition track: real name, phone, address, note and private attachments stay (the
    office keeps the file); only the pen name, network address and file names go."""
    petition = make_message(
        "in_progress",
        author=person,
        track=Track.PETITION,
        kind=Kind.CLAIM,
        private_note="身份证号 330106198503152310",
        attachments=[_png()],
        ip="203.0.113.0",
        **PETITION,
    )
    erasure.delete_account(person, PASSWORD, now=T0 + timedelta(days=1))
    db.session.expire_all()
    kept = db.session.get(Message, petition.id)
    assert (kept.real_name, kept.phone, kept.address) == tuple(PETITION.values())
    assert kept.private_note == "身份证号 330106198503152310"
    assert kept.pen_name == DELETED_PEN_NAME and kept.author_ip is None
    (attachment,) = kept.attachments
    assert not attachment.is_public and "林晓燕" not in attachment.original_name
    assert re.fullmatch(r"附件-\d+\.png", attachment.original_name)


def test_every_session_ends_and_the_account_cannot_come_back(app, client, person):
    """Another signed-in browser is signed out too; the password, a reset mail and the admin's
    enable all find nothing; the address is free to register again."""
    other = app.test_client()
    login(other, person)
    login(client, person)
    assert client.post("/account/delete", data={"current_password": PASSWORD}).status_code == 303
    assert other.get("/account").status_code == 302

    assert client.post("/login", data={"email": ADDRESS, "password": PASSWORD}).status_code == 422
    db.session.execute(OutgoingMail.__table__.delete())
    accounts.request_password_reset(ADDRESS, now=T0)
    assert db.session.scalars(select(OutgoingMail)).all() == []

    registered = client.post(
        "/register",
        data={"email": ADDRESS, "password": "long-enough-secret", "confirm": "long-enough-secret",
              "pen_name": "新的我"},
    )  # fmt: skip
    assert registered.status_code == 302
    assert db.session.scalar(select(User).where(User.email == ADDRESS)).id != person.id


def test_the_change_log_records_the_deletion_by_id_only(app, client, person, admin):
    """The new entry and the earlier ones about the account name it `user:<id>`, never by
    its former address."""
    set_active(admin, person, active=False, now=T0)
    set_active(admin, person, active=True, now=T0)
    login(client, person)
    client.post("/account/delete", data={"current_password": PASSWORD})
    rows = db.session.scalars(select(AdminChange).order_by(AdminChange.id)).all()
    assert [r.kind for r in rows] == ["user.disable", "user.enable", "user.delete"]
    assert {r.target for r in rows} == {f"user:{person.id}"}
    assert rows[-1].actor_label == f"user:{person.id}"
    assert rows[-1].after == {"account": "deleted", "messages_kept": 0}
    _delivered(app)  # the confirmation was the last place with the address
    assert _rows_naming(ADDRESS) == []


def test_a_wrong_or_missing_password_deletes_nothing(app, client, person):
    """A wrong password, an empty one or an overlong one: 422, the account is untouched."""
    login(client, person)
    for password in ("wrong-password", "", "x" * 5000, "<script>alert(1)</script>"):
        response = client.post("/account/delete", data={"current_password": password})
        assert response.status_code == 422
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, person.id)
    assert user.deleted_at is None and user.email == ADDRESS
    assert client.get("/account").status_code == 200


def test_the_form_needs_its_csrf_token(app, database, tmp_path, person):
    """With CSRF on, a post without the page's token deletes nothing."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": ADDRESS, "password": PASSWORD, "csrf_token": token})
        refused = client.post("/account/delete", data={"current_password": PASSWORD})
        assert refused.status_code in (400, 422)
        assert db.session.get(User, person.id).deleted_at is None
        page = client.get("/account/delete").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        done = client.post(
            "/account/delete", data={"current_password": PASSWORD, "csrf_token": token}
        )
        assert done.status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("role", [Role.HANDLER, Role.COORDINATOR, Role.MODERATOR, Role.ADMIN])
def test_staff_cannot_delete_their_own_account(app, client, make_user, directory, role):
    """Staff are told to ask an admin (no form), and a post is refused with 403."""
    unit_code = "330100-zj" if role in (Role.HANDLER, Role.COORDINATOR) else None
    staff = make_user(role, unit_code=unit_code)
    login(client, staff)
    page = client.get("/account/delete")
    assert page.status_code == 200 and "工作人员账户不能自行注销" in page.get_data(as_text=True)
    assert 'name="current_password"' not in page.get_data(as_text=True)
    assert client.post("/account/delete", data={"current_password": PASSWORD}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, staff.id).deleted_at is None


def test_a_visitor_is_sent_to_sign_in(app, client, person):
    """Without an account there is nothing to delete: both methods go to the login page."""
    assert "/login" in client.get("/account/delete").headers["Location"]
    response = client.post("/account/delete", data={"current_password": PASSWORD})
    assert "/login" in response.headers["Location"]
    assert db.session.get(User, person.id).deleted_at is None


def test_the_confirmation_mail_is_forgotten_once_sent(app, person):
    """Until sent, the outbox row holds the address (it must reach it); after, neither the
    address nor the text."""
    erasure.delete_account(person, PASSWORD, now=T0)
    row = db.session.scalar(select(OutgoingMail).where(OutgoingMail.kind == "account_deleted"))
    assert row.recipient == ADDRESS
    _delivered(app)
    db.session.expire_all()
    row = db.session.get(OutgoingMail, row.id)
    assert row.state == "sent" and row.recipient == "" and row.body == ""


def test_the_confirmation_speaks_the_persons_language(app, make_user, directory):
    """An English account's confirmation is English: only the person's own pen name is not."""
    from board.notify.outbox import render

    english = make_user(Role.CITIZEN, email="reader@example.org", pen_name="Reader", locale="en")
    subject, body = render("account_deleted", locale="en", user=english, deleted_at=T0)
    assert subject == "[Minsheng] Your account is deleted"
    assert "reader@example.org" in body and "Deleted user" in body
    assert not re.search(r"[\u4e00-\u9fff]", subject + body)
