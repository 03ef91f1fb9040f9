"""Following messages (关注): the button, the mails to followers, and "我的关注"."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from conftest import T0, login
from hypothesis import given
from sqlalchemy import select
from test_hostile_input import HEAVY, TEXT, not_5xx

from board.extensions import db
from board.follow import services as follow
from board.follow.models import Follow
from board.messages import services as msg
from board.notify import services as notify
from board.notify.models import OutgoingMail


def _follower_mails(address: str | None = None) -> list[OutgoingMail]:
    query = (
        select(OutgoingMail).where(OutgoingMail.kind.like("%:follower")).order_by(OutgoingMail.id)
    )
    if address is not None:
        query = query.where(OutgoingMail.recipient == address)
    return list(db.session.scalars(query))


def _eml_to(tmp_path, address: str) -> list[email.message.EmailMessage]:
    parsed = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        for f in sorted((tmp_path / "mail").glob("*.eml"))
    ]
    return [p for p in parsed if p["To"] == address]


def _reply_and_sign_off(message, handler, coordinator, *, at=T0 + timedelta(days=3)):
    msg.reply_message(message, handler, body="已责令物业退还多收的停车费。", now=at)
    return msg.sign_off_reply(message, coordinator, now=at + timedelta(hours=1))


def test_follower_is_mailed_once_when_replied_and_once_when_closed(
    client, make_message, troll, citizen, handler, coordinator, tmp_path
):
    """Follow with the page's button; a reply and the closing each send one mail (.eml sink)."""
    message = make_message("in_progress")
    login(client, troll)
    page = client.get(f"/m/{message.code}").get_data(as_text=True)
    assert f"/m/{message.code}/follow" in page
    response = client.post(f"/m/{message.code}/follow")
    assert response.status_code == 302 and response.location.endswith(f"/m/{message.code}")
    assert f"/m/{message.code}/unfollow" in client.get(f"/m/{message.code}").get_data(True)
    client.post(f"/m/{message.code}/follow")  # twice is still one follow
    assert db.session.scalar(select(Follow.id).where(Follow.user_id == troll.id)) is not None
    assert len(db.session.scalars(select(Follow)).all()) == 1

    _reply_and_sign_off(message, handler, coordinator)
    (answered,) = _follower_mails(troll.email)
    assert answered.kind == "sign_off:follower" and "有了新的答复" in answered.subject
    msg.rate_message(
        message, citizen, resolution=5, attitude=5, speed=5, comment="", now=T0 + timedelta(days=4)
    )
    mails = _follower_mails(troll.email)
    assert [m.kind for m in mails] == ["sign_off:follower", "rate:follower"]
    assert "已办结" in mails[1].subject
    # The author hears through their own mails, never as a follower.
    assert _follower_mails(citizen.email) == []

    notify.deliver(now=T0 + timedelta(days=5))
    delivered = _eml_to(tmp_path, troll.email)
    assert len(delivered) == 2
    body = delivered[0].get_content()
    assert f"http://127.0.0.1:8000/m/{message.code}" in body
    assert "/account/follows" in body
    assert "陈明亮" not in body and "13912345678" not in body


def test_no_mail_to_the_actor_and_one_mail_to_a_follower_who_cosigned(
    make_message, troll, make_user, handler, coordinator
):
    """The coordinator who signs off hears nothing as a follower; a co-signer gets one mail."""
    message = make_message("in_progress")
    follow.follow_message(message, coordinator, now=T0 + timedelta(days=1))
    follow.follow_message(message, troll, now=T0 + timedelta(days=1))
    msg.cosign_message(message, troll, now=T0 + timedelta(days=1))
    _reply_and_sign_off(message, handler, coordinator)
    assert _follower_mails(coordinator.email) == []
    to_troll = db.session.scalars(
        select(OutgoingMail).where(
            OutgoingMail.recipient == troll.email, OutgoingMail.kind.like("sign_off:%")
        )
    ).all()
    assert [m.kind for m in to_troll] == ["sign_off:cosigner"]


def test_follower_of_a_message_later_hidden_gets_nothing_more(
    client, make_message, troll, moderator, handler, coordinator
):
    """Once a moderator hides the message, its followers are not told of the reply, and the
    follows list shows only the code — no title, no state."""
    message = make_message("in_progress", title="小区物业乱收停车费")
    follow.follow_message(message, troll, now=T0 + timedelta(days=1))
    msg.hide_message(message, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=2))
    _reply_and_sign_off(message, handler, coordinator)
    assert _follower_mails() == []
    login(client, troll)
    page = client.get("/account/follows").get_data(as_text=True)
    assert message.code in page and "该留言已不再公开" in page
    assert "小区物业乱收停车费" not in page
    # The follow can still be ended from the list.
    response = client.post(f"/m/{message.code}/unfollow", data={"next": "follows"})
    assert response.status_code == 302 and response.location.endswith("/account/follows")
    assert db.session.scalars(select(Follow)).all() == []


def test_private_message_cannot_be_followed_and_looks_missing(client, make_message, troll, citizen):
    """Another citizen gets the same 404 as for a code that does not exist; so does its author
    (a private message has no followers)."""
    private = make_message("assigned", wants_public=False)
    login(client, troll)
    assert client.post(f"/m/{private.code}/follow").status_code == 404
    assert client.post("/m/MS-2026-ZZZZZZ/follow").status_code == 404
    assert client.post(f"/m/{private.code}/unfollow").status_code == 404
    client2 = client.application.test_client()
    login(client2, citizen)
    assert client2.post(f"/m/{private.code}/follow").status_code == 404
    assert db.session.scalars(select(Follow)).all() == []


def test_follow_needs_sign_in_and_a_csrf_token(app, client, make_message, troll):
    """Anonymous: to the login page. Without the CSRF token: 400 and nothing stored."""
    message = make_message("assigned")
    response = client.post(f"/m/{message.code}/follow")
    assert response.status_code == 302 and "/login" in response.location
    login(client, troll)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/m/{message.code}/follow").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalars(select(Follow)).all() == []


def test_follows_page_lists_state_and_last_public_change_in_both_languages(
    client, make_message, troll, handler, coordinator
):
    """我的关注 shows each message's public state and the time of its last public event."""
    quiet = make_message("assigned", title="路灯不亮三个月")
    busy = make_message("in_progress", title="小区物业乱收停车费")
    for m in (quiet, busy):
        follow.follow_message(m, troll, now=T0 + timedelta(days=1))
    _reply_and_sign_off(busy, handler, coordinator)
    login(client, troll)
    page = client.get("/account/follows").get_data(as_text=True)
    assert page.index("小区物业乱收停车费") < page.index("路灯不亮三个月")  # newest change first
    assert "已回复" in page and "2026-03-05 10:00" in page
    client.get("/lang/en?next=/")
    english = client.get("/account/follows").get_data(as_text=True)
    assert "My follows" in english and "Unfollow" in english
    assert client.get("/account/follows?page=99999999999999999999999999").status_code == 200


def test_follows_listing_is_only_the_users_own(make_message, troll, make_user):
    """Each user's list holds their own follows only."""
    other = make_user(pen_name="旁观者")
    message = make_message("assigned")
    follow.follow_message(message, troll, now=T0)
    rows, total = follow.follow_rows(other, page=1)
    assert rows == [] and total == 0
    rows, total = follow.follow_rows(troll, page=1)
    assert total == 1 and rows[0].message.code == message.code and rows[0].is_visible


@pytest.mark.parametrize("state", ["submitted", "rejected", "withdrawn"])
def test_messages_not_public_cannot_be_followed(make_message, troll, state):
    """Only public messages can be followed."""
    message = make_message(state)
    from board.errors import NotFound

    with pytest.raises(NotFound):
        follow.follow_message(message, troll, now=T0 + timedelta(days=1))


@HEAVY
@given(code=TEXT, next_=TEXT)
def test_follow_routes_never_500_on_hostile_codes(app, make_message, troll, code, next_):
    """Hostile codes and `next` values: a 4xx or a redirect to our own pages, never a 500."""
    client = app.test_client()
    login(client, troll)
    path = code.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
    for action in ("follow", "unfollow"):
        response = client.post(f"/m/{path}/{action}", data={"next": next_})
        not_5xx(response)
        if response.status_code == 302:
            assert response.location.startswith(("/m/", "/account/follows", "http://localhost/"))
    not_5xx(client.get("/account/follows", query_string={"page": next_}))


def test_api_follow_list_and_unfollow_with_a_token(client, make_message, troll, moderator):
    """PUT / DELETE /api/v1/messages/CODE/follow and GET /api/v1/follows, for token holders;
    a message that stops being public is listed by its code only."""
    from board.auth.services import issue_token

    message = make_message("assigned")
    private = make_message("assigned", wants_public=False)
    auth = {"Authorization": f"Bearer {issue_token(troll, now=T0)}"}
    assert client.put(f"/api/v1/messages/{message.code}/follow").status_code == 401
    assert client.get("/api/v1/follows").status_code == 401
    response = client.put(f"/api/v1/messages/{message.code}/follow", headers=auth)
    assert response.status_code == 200 and response.get_json()["following"] is True
    assert client.put(f"/api/v1/messages/{private.code}/follow", headers=auth).status_code == 404
    listed = client.get("/api/v1/follows", headers=auth).get_json()
    assert listed["total"] == 1 and listed["items"][0]["title"] == message.title
    msg.hide_message(message, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=1))
    (item,) = client.get("/api/v1/follows", headers=auth).get_json()["items"]
    assert item["code"] == message.code and item["title"] is None and item["is_public"] is False
    response = client.delete(f"/api/v1/messages/{message.code}/follow", headers=auth)
    assert response.status_code == 200 and response.get_json()["following"] is False
    assert client.get("/api/v1/follows", headers=auth).get_json()["total"] == 0
    assert client.delete(f"/api/v1/messages/{message.code}/follow", headers=auth).status_code == 404
    assert client.get("/api/v1/follows?page=x", headers=auth).status_code == 422
