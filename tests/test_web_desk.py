"""The staff desk: coordinators route messages to units, handlers accept and answer them."""

import re
from datetime import timedelta

import pytest
from conftest import T0, login, unit
from flask import g

from board.errors import PermissionDenied
from board.extensions import db
from board.messages import services as msg
from board.models import ReplyState, State

REPLY = "经核查，该小区停车收费未经备案，已责令物业公司退还多收费用并公示收费标准。"


def _html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def other_coordinator(make_user, directory):
    """The coordinator of the 广州市委书记 board's office."""
    return make_user("coordinator", unit_code="440100-secretary-office")


@pytest.fixture
def other_handler(make_user, directory):
    """A handler at 杭州市交通运输局, a unit the test messages are not assigned to."""
    return make_user("handler", unit_code="330100-jt")


def test_coordinator_sees_received_message_and_assigns_it(client, coordinator, make_message):
    """The office of 330100-secretary lists its received message and hands it to 330100-zj."""
    m = make_message("received", title="待交办的留言")
    make_message(title="还在审核的留言")
    login(client, coordinator)
    html = _html(client.get("/desk/coordinator"))
    assert "待交办的留言" in html and "还在审核的留言" not in html
    assert 'value="330100-zj"' in html and 'value="440100-zj"' not in html
    assert _html(client.get(f"/desk/m/{m.code}")).count('name="unit"') == 1

    response = client.post(f"/desk/m/{m.code}/assign", data={"unit": "330100-zj"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/desk/coordinator")
    db.session.refresh(m)
    assert m.state == State.ASSIGNED and m.unit.code == "330100-zj"
    assert m.events[-1].action == "assign" and m.events[-1].actor_id == coordinator.id


def test_coordinator_queue_is_oldest_first(client, coordinator, make_message):
    """Received messages are listed in the order they were submitted."""
    make_message("received", title="后来的留言", now=T0 + timedelta(hours=8))
    make_message("received", title="先来的留言", now=T0)
    login(client, coordinator)
    html = _html(client.get("/desk/coordinator"))
    assert html.index("先来的留言") < html.index("后来的留言")


def test_coordinator_of_another_office_cannot_see_or_assign(
    client, other_coordinator, make_message
):
    """The Guangzhou office neither lists, opens nor assigns a Hangzhou message."""
    m = make_message("received", title="杭州的留言")
    login(client, other_coordinator)
    assert "杭州的留言" not in _html(client.get("/desk/coordinator"))
    assert client.get(f"/desk/m/{m.code}").status_code == 403
    response = client.post(f"/desk/m/{m.code}/assign", data={"unit": "330100-zj"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        msg.assign_message(m, unit("330100-zj"), other_coordinator, now=T0 + timedelta(days=1))
    db.session.refresh(m)
    assert m.state == State.RECEIVED and m.unit_id is None


@pytest.mark.parametrize(
    ("unit_code", "error"),
    [
        ("440100-zj", "办理单位必须在该留言板的辖区内。"),
        ("", "请选择办理单位。"),
        ("no-such-unit", "请选择办理单位。"),
    ],
)
def test_assigning_to_a_unit_outside_the_region_is_refused(
    client, coordinator, make_message, unit_code, error
):
    """A unit outside the board's region, or none, gives a field error and changes nothing."""
    m = make_message("received")
    login(client, coordinator)
    response = client.post(f"/desk/m/{m.code}/assign", data={"unit": unit_code})
    assert response.status_code == 422
    assert error in _html(response)
    db.session.refresh(m)
    assert m.state == State.RECEIVED and m.unit_id is None


def test_coordinator_supervises_messages_with_units_and_replied(client, coordinator, make_message):
    """Below the queue, the office sees what units hold now and what they answered."""
    make_message("assigned", title="交办出去的留言")
    make_message("replied", title="已经答复的留言")
    login(client, coordinator)
    html = _html(client.get("/desk/coordinator"))
    assert "交办出去的留言" in html and "已经答复的留言" in html
    assert "杭州市住房和城乡建设局" in html


def test_handler_accepts_and_replies(app, client, handler, coordinator, make_message):
    """The unit's handler accepts the message and replies; the office signs the reply off."""
    m = make_message("assigned", title="交给住建局的留言")
    login(client, handler)
    assert "交给住建局的留言" in _html(client.get("/desk/handler"))
    page = _html(client.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/accept" in page and f"/desk/m/{m.code}/reply" in page
    assert 'name="outcome"' not in page  # board track: no petition outcome

    response = client.post(f"/desk/m/{m.code}/accept")
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.state == State.IN_PROGRESS

    response = client.post(f"/desk/m/{m.code}/reply", data={"body": REPLY})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/desk/m/{m.code}")
    db.session.refresh(m)
    assert m.state == State.IN_PROGRESS  # the reply waits for the office's sign-off
    assert [r.state for r in m.replies] == [ReplyState.AWAITING_SIGNOFF]
    assert m.replies[0].unit.code == "330100-zj" and m.replies[0].author_id == handler.id
    assert REPLY not in _html(app.test_client().get(f"/m/{m.code}"))
    assert f"/desk/m/{m.code}/reply" not in _html(client.get(f"/desk/m/{m.code}"))

    office = app.test_client()
    login(office, coordinator)
    assert REPLY in _html(office.get("/desk/coordinator"))
    response = office.post(f"/desk/m/{m.code}/sign-off")
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.state == State.REPLIED
    assert [r.state for r in m.replies] == [ReplyState.PUBLISHED]
    assert REPLY in _html(app.test_client().get(f"/m/{m.code}"))
    assert "交给住建局的留言" not in _html(client.get("/desk/handler"))


def test_handler_queue_counts_and_filters(client, handler, make_message):
    """Counts by state head the queue; state and kind filters narrow it."""
    make_message("assigned", title="待受理投诉", now=T0)
    make_message("in_progress", title="办理中投诉", now=T0 + timedelta(hours=1))
    make_message("assigned", title="待受理咨询", kind="inquiry", now=T0 + timedelta(hours=2))
    login(client, handler)
    html = _html(client.get("/desk/handler"))
    # Nearest deadline first: the inquiry's 10 working days end before the complaint's 20.
    assert html.index("待受理咨询") < html.index("办理中投诉")
    assert re.search(r"<dt>待受理</dt><dd><a [^>]*>2</a>", html)
    assert re.search(r"<dt>办理中</dt><dd><a [^>]*>1</a>", html)

    html = _html(client.get("/desk/handler?state=in_progress"))
    assert "办理中投诉" in html and "待受理投诉" not in html and "待受理咨询" not in html
    html = _html(client.get("/desk/handler?kind=inquiry"))
    assert "待受理咨询" in html and "待受理投诉" not in html and "办理中投诉" not in html
    html = _html(client.get("/desk/handler?state=assigned&kind=complaint"))
    assert "待受理投诉" in html and "待受理咨询" not in html and "办理中投诉" not in html


def test_handler_of_another_unit_gets_403(client, other_handler, make_message):
    """A handler at 330100-jt can neither open nor act on a message assigned to 330100-zj."""
    m = make_message("assigned")
    login(client, other_handler)
    assert client.get(f"/desk/m/{m.code}").status_code == 403
    assert client.post(f"/desk/m/{m.code}/accept").status_code == 403
    assert client.post(f"/desk/m/{m.code}/reply", data={"body": REPLY}).status_code == 403
    assert m.title not in _html(client.get("/desk/handler"))
    db.session.refresh(m)
    assert m.state == State.ASSIGNED and not m.replies


def test_petition_reply_without_outcome_keeps_text(client, handler, make_message):
    """A petition reply needs 予以支持/解释说明/不予支持; without it the typed text comes back."""
    m = make_message(
        "in_progress", track="petition", kind="claim", address="杭州市西湖区文三路 1 号"
    )
    login(client, handler)
    page = _html(client.get(f"/desk/m/{m.code}"))
    assert 'name="outcome"' in page and "予以支持" in page
    response = client.post(f"/desk/m/{m.code}/reply", data={"body": REPLY, "outcome": ""})
    assert response.status_code == 422
    html = _html(response)
    assert "信访事项的答复须写明处理意见。" in html
    assert REPLY in html
    db.session.refresh(m)
    assert m.state == State.IN_PROGRESS and not m.replies

    response = client.post(f"/desk/m/{m.code}/reply", data={"body": REPLY, "outcome": "supported"})
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.state == State.IN_PROGRESS and m.replies[0].outcome == "supported"
    assert m.replies[0].state == ReplyState.AWAITING_SIGNOFF


def test_short_reply_is_refused_with_field_error(client, handler, make_message):
    """The service's length rule shows next to the body and keeps the text."""
    m = make_message("assigned")
    login(client, handler)
    response = client.post(f"/desk/m/{m.code}/reply", data={"body": "已处理"})
    assert response.status_code == 422
    html = _html(response)
    assert "答复至少 10 个字。" in html and "已处理" in html
    db.session.refresh(m)
    assert m.state == State.ASSIGNED


def test_handler_cannot_see_reporter_identity_on_report(
    app, client, handler, coordinator, make_message
):
    """A 检举控告 is routed with the reporter's identity withheld from the unit and the office."""
    m = make_message(
        "assigned",
        track="petition",
        kind="report",
        real_name="王检举",
        phone="13700001111",
        address="杭州市西湖区某路 8 号",
        private_note="举报人担心被报复",
    )
    secrets = ["王检举", "13700001111", "杭州市西湖区某路 8 号", "举报人担心被报复", "陈明"]
    login(client, handler)
    html = _html(client.get(f"/desk/m/{m.code}"))
    assert "身份已隐去" in html
    assert m.body in html  # the matter itself is shown
    for secret in secrets + [m.author.email]:
        assert secret not in html, secret

    office = app.test_client()
    login(office, coordinator)
    html = _html(office.get(f"/desk/m/{m.code}"))
    assert "身份已隐去" in html
    for secret in secrets + [m.author.email]:
        assert secret not in html, secret


def test_desk_message_shows_full_timeline_to_staff(client, coordinator, moderator, make_message):
    """Staff see every event with who acted, and the private note."""
    m = make_message("assigned", private_note="业主群名单")
    login(client, coordinator)
    html = _html(client.get(f"/desk/m/{m.code}"))
    assert html.index("提交留言") < html.index("通过审核") < html.index(moderator.pen_name)
    assert coordinator.pen_name in html
    assert "业主群名单" in html


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("citizen", "/desk/coordinator"),
        ("handler", "/desk/coordinator"),
        ("moderator", "/desk/coordinator"),
        ("citizen", "/desk/handler"),
        ("coordinator", "/desk/handler"),
        ("moderator", "/desk/handler"),
        ("admin", "/desk/handler"),
    ],
)
def test_wrong_roles_get_403_on_desk_lists(request, client, role, path):
    """Each desk list is for its own role (admins also supervise the coordinator desk)."""
    login(client, request.getfixturevalue(role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["citizen", "moderator"])
def test_others_get_403_on_desk_message(request, client, make_message, role):
    """Even the author and moderators are kept off the staff view of a message."""
    m = make_message("assigned")
    login(client, request.getfixturevalue(role))
    assert client.get(f"/desk/m/{m.code}").status_code == 403


def test_admin_opens_any_desk_message(client, admin, make_message):
    """Admins may open every message's staff view and the coordinator desk."""
    m = make_message("received", title="管理员可见的留言")
    login(client, admin)
    assert client.get(f"/desk/m/{m.code}").status_code == 200
    assert "管理员可见的留言" in _html(client.get("/desk/coordinator"))


def test_unknown_message_is_404(client, coordinator):
    """A code that does not exist is a 404 for staff."""
    login(client, coordinator)
    assert client.get("/desk/m/MS-2026-ZZZZZZ").status_code == 404


def test_anonymous_users_are_redirected_to_login(client, make_message):
    """Signed-out visitors are sent to the login page, and their POSTs change nothing."""
    m = make_message("received")
    for path in ("/desk/coordinator", "/desk/handler", f"/desk/m/{m.code}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/desk/m/{m.code}/assign", data={"unit": "330100-zj"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.refresh(m)
    assert m.state == State.RECEIVED


def test_desk_forms_carry_a_csrf_token(app, client, handler, coordinator, make_message):
    """With CSRF on, accept, reply and sign-off post with the page's token; forged posts fail."""
    m = make_message("assigned")
    login(client, handler)
    office = app.test_client()
    login(office, coordinator)
    app.config["WTF_CSRF_ENABLED"] = True
    html = _html(client.get(f"/desk/m/{m.code}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(f"/desk/m/{m.code}/accept").status_code == 400
    assert client.post(f"/desk/m/{m.code}/accept", data={"csrf_token": token}).status_code == 302
    response = client.post(f"/desk/m/{m.code}/reply", data={"body": REPLY, "csrf_token": token})
    assert response.status_code == 302
    g.pop("csrf_token", None)  # the test's app context outlives requests: forget client's token
    html = _html(office.get("/desk/coordinator"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert office.post(f"/desk/m/{m.code}/sign-off").status_code == 400
    response = office.post(f"/desk/m/{m.code}/sign-off", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(m)
    assert m.state == State.REPLIED
