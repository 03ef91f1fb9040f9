"""The moderation pages: the queue, the review page and its approve / reject / hide decisions."""

import re
from datetime import timedelta

import pytest
from conftest import T0, login

from board.extensions import db
from board.models import State, Visibility
from board.moderation import views as moderation_views


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_moderator_sees_queue_oldest_first(client, moderator, make_message):
    """The queue lists submitted messages by submission time, the oldest first, and nothing else."""
    make_message(title="较新的留言", now=T0 + timedelta(hours=5))
    make_message(title="最早的留言", now=T0)
    make_message("received", title="已通过的留言")
    login(client, moderator)
    html = _html(client.get("/moderation/"))
    assert html.index("最早的留言") < html.index("较新的留言")
    assert "已通过的留言" not in html
    assert "共 2 条留言待审核" in html


def test_queue_highlights_messages_waiting_over_24_hours(
    client, moderator, make_message, monkeypatch
):
    """Age is shown in hours since submission; only those past the 24-hour target are flagged."""
    make_message(title="等了很久的留言", now=T0)
    make_message(title="刚提交的留言", now=T0 + timedelta(hours=20))
    monkeypatch.setattr(moderation_views, "utcnow", lambda: T0 + timedelta(hours=30))
    login(client, moderator)
    html = _html(client.get("/moderation/"))
    assert "30 小时" in html
    assert "10 小时" in html
    assert html.count("超过 24 小时") == 1
    assert html.index("超过 24 小时") < html.index("刚提交的留言")


def test_queue_is_paginated(app, client, moderator, make_message):
    """Past one page, the newest messages move to the next page."""
    app.config["PAGE_SIZE"] = 2
    for hour in range(3):
        make_message(title=f"第{hour}条留言", now=T0 + timedelta(hours=hour))
    login(client, moderator)
    first, second = _html(client.get("/moderation/")), _html(client.get("/moderation/?page=2"))
    assert "第0条留言" in first and "第1条留言" in first and "第2条留言" not in first
    assert "第2条留言" in second and "第0条留言" not in second


def test_review_shows_original_private_fields_and_masked_preview(client, moderator, make_message):
    """The moderator reads everything the author gave, and what the public would see."""
    m = make_message(
        track="petition",
        kind="claim",
        body="我的电话是13812345678，小区物业一直拖欠维修基金，请领导过问。",
        private_note="楼长王建国",
        real_name="陈明亮",
        phone="13912345678",
        address="杭州市西湖区文三路 1 号",
    )
    login(client, moderator)
    html = _html(client.get(f"/moderation/{m.code}"))
    assert "13812345678" in html  # the original
    assert "138****5678" in html  # the public preview
    assert "楼长王建国" in html
    assert "陈明亮" in html and "杭州市西湖区文三路 1 号" in html
    assert m.author.email in html
    assert 'value="approve"' in html and 'value="reject"' in html
    assert 'value="hide"' not in html  # nothing published yet


def test_approve_publishes_message(app, client, moderator, make_message):
    """Approving moves the message to received and makes its public page readable by anyone."""
    m = make_message()
    login(client, moderator)
    response = client.post(f"/moderation/{m.code}", data={"action": "approve", "note": "内容清楚"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderation/")
    db.session.refresh(m)
    assert m.state == State.RECEIVED
    assert m.visibility == Visibility.PUBLIC and m.is_public
    assert m.events[-1].action == "approve" and m.events[-1].actor_id == moderator.id
    assert m.events[-1].note == "内容清楚"
    assert app.test_client().get(f"/m/{m.code}").status_code == 200


def test_reject_with_reason_stores_reason(client, moderator, make_message):
    """Rejecting records the reason code on the message and an internal event."""
    m = make_message()
    login(client, moderator)
    response = client.post(
        f"/moderation/{m.code}", data={"action": "reject", "reason": "duplicate", "note": ""}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/moderation/")
    db.session.refresh(m)
    assert m.state == State.REJECTED
    assert m.rejection_reason == "duplicate"
    assert m.events[-1].action == "reject" and not m.events[-1].is_public
    assert not m.is_public


@pytest.mark.parametrize("reason", ["", "no-such-reason", "hide:unlawful"])
def test_reject_without_valid_reason_is_422_with_field_error(
    client, moderator, make_message, reason
):
    """A missing, unknown or hide-only reason code keeps the message and shows a field error."""
    m = make_message()
    login(client, moderator)
    response = client.post(
        f"/moderation/{m.code}", data={"action": "reject", "reason": reason, "note": "补充说明"}
    )
    assert response.status_code == 422
    html = _html(response)
    assert "请选择一个有效的理由。" in html
    assert "补充说明" in html  # what the moderator typed is kept
    db.session.refresh(m)
    assert m.state == State.SUBMITTED and m.rejection_reason is None


def test_hide_takes_published_message_off_the_board(app, client, moderator, make_message):
    """Hiding a published message records the reason and removes it from public view."""
    m = make_message("received")
    assert m.is_public
    login(client, moderator)
    page = _html(client.get(f"/moderation/{m.code}"))
    assert 'value="hide"' in page and 'value="approve"' not in page
    response = client.post(
        f"/moderation/{m.code}", data={"action": "hide", "reason": "hide:privacy_leak"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/moderation/{m.code}")
    db.session.refresh(m)
    assert m.is_hidden and m.hidden_reason == "hide:privacy_leak"
    assert not m.is_public
    assert m.state == State.RECEIVED
    assert "公开内容涉及个人隐私" in _html(client.get(f"/moderation/{m.code}"))


def test_hide_with_a_reject_reason_is_refused(client, moderator, make_message):
    """Hiding needs a hide reason code; a reject code gives a field error."""
    m = make_message("received")
    login(client, moderator)
    response = client.post(f"/moderation/{m.code}", data={"action": "hide", "reason": "duplicate"})
    assert response.status_code == 422
    assert "请选择一个有效的理由。" in _html(response)
    db.session.refresh(m)
    assert not m.is_hidden


@pytest.mark.parametrize("role", ["citizen", "handler", "coordinator"])
def test_non_moderators_get_403_on_moderation_pages(request, client, make_message, role):
    """Citizens and desk staff can neither see the queue nor decide on a message."""
    m = make_message()
    login(client, request.getfixturevalue(role))
    assert client.get("/moderation/").status_code == 403
    assert client.get(f"/moderation/{m.code}").status_code == 403
    assert client.post(f"/moderation/{m.code}", data={"action": "approve"}).status_code == 403
    db.session.refresh(m)
    assert m.state == State.SUBMITTED


def test_admin_may_moderate(client, admin, make_message):
    """Admins use the moderation pages too."""
    m = make_message(title="管理员看到的留言")
    login(client, admin)
    assert "管理员看到的留言" in _html(client.get("/moderation/"))
    assert client.post(f"/moderation/{m.code}", data={"action": "approve"}).status_code == 302
    db.session.refresh(m)
    assert m.state == State.RECEIVED


def test_unknown_message_is_404(client, moderator):
    """Reviewing a code that does not exist is a 404."""
    login(client, moderator)
    assert client.get("/moderation/MS-2026-ZZZZZZ").status_code == 404


def test_anonymous_users_are_redirected_to_login(client, make_message):
    """Signed-out visitors are sent to the login page."""
    m = make_message()
    for path in ("/moderation/", f"/moderation/{m.code}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    response = client.post(f"/moderation/{m.code}", data={"action": "approve"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.refresh(m)
    assert m.state == State.SUBMITTED


def test_decisions_carry_a_csrf_token(app, client, moderator, make_message):
    """With CSRF on, the page's own form token lets a decision through; a forged post is refused."""
    m = make_message()
    login(client, moderator)
    app.config["WTF_CSRF_ENABLED"] = True
    html = _html(client.get(f"/moderation/{m.code}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    forged = client.post(f"/moderation/{m.code}", data={"action": "approve"})
    assert forged.status_code == 400
    db.session.refresh(m)
    assert m.state == State.SUBMITTED
    response = client.post(f"/moderation/{m.code}", data={"action": "approve", "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.state == State.RECEIVED
