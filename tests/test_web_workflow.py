"""The whole workflow through the web forms: desk steps, sign-off, requests, reviews, author steps.

Every form is posted through the test client on both databases; the pages' clocks run on a
fixed time (the `at` fixture) so due dates and marks are exact.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from conftest import T0, login

from board.extensions import db
from board.models import Clock, ClockState, Message, ReplyState, State

PETITION_REPLY = "经调查核实，您反映的拖欠工资问题属实，已责令用人单位于本月底前足额支付。"
BOARD_REPLY = "经现场核查，该小区停车收费未经备案，已责令物业公司退还多收费用并公示收费标准。"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _text(response) -> str:
    """The page's visible text, roughly: tags dropped."""
    return re.sub(r"<[^>]+>", " ", _html(response))


def _clock(message: Message, policy: str) -> Clock | None:
    """The message's latest clock of a policy."""
    db.session.expire_all()
    clocks = [c for c in db.session.query(Clock).filter_by(message_id=message.id, policy=policy)]
    return clocks[-1] if clocks else None


def _counters(html: str) -> dict[str, str]:
    """The counters at the top of a desk: label → number."""
    return dict(re.findall(r"<dt>([^<]+)</dt><dd><a [^>]*>(\d+)</a>", html))


def _request_id(html: str, code: str) -> int:
    """The id of the request a page's approve / decline form names for a message."""
    start = html.index(f"/desk/m/{code}/approve-request")
    return int(re.search(r'name="request"[^>]*value="(\d+)"', html[start:]).group(1))


def _reload(message: Message) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message.id)


@pytest.fixture
def at(monkeypatch):
    """Set the time the web pages and their services see (naive UTC)."""

    def set_time(moment: datetime) -> datetime:
        for target in ("board.desk.views.utcnow", "board.messages.views.utcnow"):
            monkeypatch.setattr(target, lambda: moment)
        return moment

    set_time(T0 + timedelta(days=1))
    return set_time


@pytest.fixture
def as_user(app):
    """Factory: a test client signed in as `user`."""

    def make(user):
        client = app.test_client()
        login(client, user)
        return client

    return make


@pytest.fixture
def county(make_user, directory):
    """The 西湖区委书记 board's office, a handler at 西湖区住建局, and the province office."""
    from board.models import Unit

    db.session.add(Unit(code="330106-jt", name="西湖区交通运输局", region_code="330106"))
    db.session.commit()
    return {
        "office": make_user("coordinator", unit_code="330106-secretary-office"),
        "handler": make_user("handler", unit_code="330106-zj"),
        "province": make_user("coordinator", unit_code="330000-secretary-office"),
    }


def _petition(make_message, state="received", **extra):
    """A 申诉求决 petition on the 西湖区委书记 board."""
    return make_message(
        state,
        track="petition",
        kind="claim",
        board_code="330106-secretary",
        region_code="330106",
        title="公司拖欠工资三个月",
        body="我在西湖区某公司工作，公司已经连续三个月拖欠工资，多次讨要无果，请求帮助。",
        address="杭州市西湖区文三路 1 号",
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# A petition from receipt to the re-review decision


def test_petition_from_acceptance_to_rereview(
    at, as_user, client, citizen, coordinator, county, make_message
):
    """Assign → accept with notice → reply → send back → reply → sign off → review → decide →
    re-review → hearing → final decision, each through its form."""
    m = _petition(make_message)
    office, handler = as_user(county["office"]), as_user(county["handler"])
    author = as_user(citizen)

    at(T0 + timedelta(days=1))
    assert office.post(f"/desk/m/{m.code}/assign", data={"unit": "330106-zj"}).status_code == 302
    page = _html(handler.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/accept" in page and f"/desk/m/{m.code}/not-accept" in page
    assert 'id="accept-note"' in page  # the acceptance notice
    assert "受理告知" in page and "15 日（自然日）" in page  # its clock explains itself

    notice = "您的信访事项已于今日受理，我们将在 60 日内办结并书面答复。"
    assert handler.post(f"/desk/m/{m.code}/accept", data={"note": notice}).status_code == 302
    m = _reload(m)
    assert m.state == State.IN_PROGRESS
    handling = _clock(m, "petition_handling")
    # 60 days from 2026-03-03 is Saturday 05-02, 劳动节; no schedule loaded, so by law the
    # make-up Monday 05-04 rests too → 05-05.
    assert handling.state == ClockState.OPEN and handling.due_on == date(2026, 5, 5)
    assert notice in _text(client.get(f"/m/{m.code}"))

    # The reply goes to sign-off, not to the public.
    response = handler.post(f"/desk/m/{m.code}/reply", data={"body": PETITION_REPLY})
    assert response.status_code == 422 and PETITION_REPLY in _html(response)  # no outcome
    data = {"body": PETITION_REPLY, "outcome": "supported"}
    assert handler.post(f"/desk/m/{m.code}/reply", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.IN_PROGRESS
    assert [r.state for r in m.replies] == [ReplyState.AWAITING_SIGNOFF]
    assert PETITION_REPLY not in _html(client.get(f"/m/{m.code}"))
    assert "待签发" in _html(handler.get(f"/desk/m/{m.code}"))
    assert _counters(_html(handler.get("/desk/handler")))["待签发"] == "1"

    # The office sees the draft, sends it back with a note, and the handler edits it.
    desk = _html(office.get("/desk/coordinator"))
    assert m.code in desk and PETITION_REPLY in desk
    response = office.post(f"/desk/m/{m.code}/decline-sign-off", data={"note": ""})
    assert response.status_code == 422 and "请填写说明" in _html(response)
    note = "请写明支付的期限和监督方式。"
    assert office.post(f"/desk/m/{m.code}/decline-sign-off", data={"note": note}).status_code == 302
    page = _html(handler.get(f"/desk/m/{m.code}"))
    assert note in page and PETITION_REPLY in page  # the draft comes back for editing
    assert _counters(_html(handler.get("/desk/handler")))["退回修改"] == "1"
    revised = PETITION_REPLY + "劳动监察大队将跟踪支付情况。"
    data = {"body": revised, "outcome": "supported"}
    assert handler.post(f"/desk/m/{m.code}/reply", data=data).status_code == 302

    at(T0 + timedelta(days=5))
    assert office.post(f"/desk/m/{m.code}/sign-off").status_code == 302
    m = _reload(m)
    assert m.state == State.REPLIED
    public = _text(client.get(f"/m/{m.code}"))
    assert revised in public and "予以支持" in public
    assert note not in public  # the send-back note is internal

    # The author asks for review inside the window; the form shows the window's due date.
    page = _html(author.get(f"/m/{m.code}"))
    window = _clock(m, "petition_review_request")
    assert window.due_on.isoformat() in page and "申请复查" in page
    response = author.post(f"/m/{m.code}/review-request", data={"body": "太短"})
    assert response.status_code == 422 and "太短" in _html(response)
    reasons = "用人单位至今没有支付，处理意见没有落实，请求上一级机关复查。"
    assert author.post(f"/m/{m.code}/review-request", data={"body": reasons}).status_code == 302
    m = _reload(m)
    assert m.state == State.REVIEW_REQUESTED and m.review_unit.code == "330100-secretary-office"

    # The county office is not the review body; the city office is.
    assert office.post(f"/desk/m/{m.code}/decide", data={"body": revised}).status_code == 403
    city = as_user(coordinator)
    assert m.code in _html(city.get("/desk/coordinator"))
    page = _html(city.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/decide" in page and "复查意见" in page
    decision = "经复查，原处理意见认定事实清楚，维持原处理意见，并督促用人单位限期支付。"
    response = city.post(f"/desk/m/{m.code}/decide", data={"body": decision})
    assert response.status_code == 422 and decision in _html(response)
    data = {"body": decision, "outcome": "supported"}
    assert city.post(f"/desk/m/{m.code}/decide", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.REVIEWED
    assert decision in _text(client.get(f"/m/{m.code}"))

    # Re-review: the province office holds a hearing (the clock grows) and decides, finally.
    at(T0 + timedelta(days=8))
    page = _html(author.get(f"/m/{m.code}"))
    assert "申请复核" in page
    assert author.post(f"/m/{m.code}/review-request", data={"body": reasons}).status_code == 302
    m = _reload(m)
    assert m.state == State.REREVIEW_REQUESTED
    assert m.review_unit.code == "330000-secretary-office"
    province = as_user(county["province"])
    before = _clock(m, "petition_rereview").due_on
    response = province.post(f"/desk/m/{m.code}/hearing", data={"days": "0", "note": "x"})
    assert response.status_code == 422 and "1 到 60" in _html(response)
    data = {"days": "10", "note": "定于下周举行听证"}
    assert province.post(f"/desk/m/{m.code}/hearing", data=data).status_code == 302
    after = _clock(m, "petition_rereview").due_on
    assert after >= before + timedelta(days=10)
    page = _html(province.get(f"/desk/m/{m.code}"))
    assert after.isoformat() in page and "听证" in page
    final = "经复核，维持复查意见。本复核意见为终结意见。"
    data = {"body": final, "outcome": "supported"}
    assert province.post(f"/desk/m/{m.code}/decide", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.REREVIEWED
    public = _text(client.get(f"/m/{m.code}"))
    assert final in public and decision in public and "已复核" in public
    assert f"/m/{m.code}/review-request" not in _html(author.get(f"/m/{m.code}"))  # final


# ---------------------------------------------------------------------------------------------
# A board message: extension, interim reply, urge, sign-off, dissatisfied rating, reopen


def test_board_message_extension_reopen_and_second_reply(
    at, as_user, client, citizen, coordinator, handler, make_message
):
    """Assign → accept → extension asked and approved → second extension refused → interim →
    urge (private) → reply + sign-off → dissatisfied rating → reopen → reply + sign-off → rate."""
    m = make_message("received")
    office, unit, author = as_user(coordinator), as_user(handler), as_user(citizen)
    at(T0 + timedelta(days=1))
    assert office.post(f"/desk/m/{m.code}/assign", data={"unit": "330100-zj"}).status_code == 302
    assert unit.post(f"/desk/m/{m.code}/accept").status_code == 302
    reply_clock = _clock(m, "board_reply_long")
    first_due = reply_clock.due_on

    # One extension per round: the request waits for the office; a second one is refused.
    reason = "需要会同市场监管部门现场核查收费备案情况"
    assert unit.post(f"/desk/m/{m.code}/extend", data={"reason": "太短"}).status_code == 422
    assert unit.post(f"/desk/m/{m.code}/extend", data={"reason": reason}).status_code == 302
    response = unit.post(f"/desk/m/{m.code}/extend", data={"reason": reason})
    assert response.status_code == 409 and reason in _html(response)  # kept, with the refusal
    assert 'class="flash flash-error"' in _html(response)
    desk = _html(office.get("/desk/coordinator"))
    assert "延期申请" in desk and reason in desk
    request_id = _request_id(desk, m.code)
    approve = f"/desk/m/{m.code}/approve-request"
    assert unit.post(approve, data={"request": request_id}).status_code == 403
    assert office.post(approve, data={"request": request_id + 1}).status_code == 409
    assert office.post(approve, data={"request": request_id}).status_code == 302
    extended = _clock(m, "board_reply_long")
    assert extended.due_on > first_due
    page = _html(unit.get(f"/desk/m/{m.code}"))
    assert extended.due_on.isoformat() in page and "延期" in page
    assert f"/desk/m/{m.code}/extend" not in page  # used up in this round
    response = unit.post(f"/desk/m/{m.code}/extend", data={"reason": reason})
    assert response.status_code == 409
    public = _text(client.get(f"/m/{m.code}"))
    assert reason in public and extended.due_on.isoformat() in public

    # An interim reply is public at once; an urge is not.
    interim = "我局已会同市场监管部门约谈物业公司，核查结果将于近日答复。"
    assert unit.post(f"/desk/m/{m.code}/interim", data={"body": interim}).status_code == 302
    urge = "请加快办理，本周内答复。"
    assert office.post(f"/desk/m/{m.code}/urge", data={"note": urge}).status_code == 302
    public = _text(client.get(f"/m/{m.code}"))
    assert interim in public and "阶段性答复" in public
    assert urge not in public and urge not in _text(author.get(f"/m/{m.code}"))
    assert urge in _text(unit.get(f"/desk/m/{m.code}"))

    assert unit.post(f"/desk/m/{m.code}/reply", data={"body": BOARD_REPLY}).status_code == 302
    assert office.post(f"/desk/m/{m.code}/sign-off").status_code == 302
    assert _reload(m).state == State.REPLIED

    # Dissatisfied → the office reopens (重办) once; the unit answers again.
    stars = {"resolution": "1", "attitude": "2", "speed": "1", "comment": "没有退钱"}
    assert author.post(f"/m/{m.code}/rate", data=stars).status_code == 302
    assert _reload(m).state == State.CLOSED
    desk = _html(office.get("/desk/coordinator"))
    assert f"/desk/m/{m.code}/reopen" in desk
    response = office.post(f"/desk/m/{m.code}/reopen", data={"note": ""})
    assert response.status_code == 422
    order = "留言人反映费用仍未退还，请重新核查办理。"
    assert office.post(f"/desk/m/{m.code}/reopen", data={"note": order}).status_code == 302
    m = _reload(m)
    assert m.state == State.REOPENED and m.handling_round == 2
    assert f"/desk/m/{m.code}/reopen" not in _html(office.get("/desk/coordinator"))
    page = _html(unit.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/extend" in page  # a new round may be extended again

    second = "经再次核查，物业公司已将多收的停车费全部退还业主，并在小区公示。"
    assert unit.post(f"/desk/m/{m.code}/reply", data={"body": second}).status_code == 302
    assert office.post(f"/desk/m/{m.code}/sign-off").status_code == 302
    m = _reload(m)
    assert m.state == State.REPLIED
    page = _html(author.get(f"/m/{m.code}"))
    assert second in page and f"/m/{m.code}/rate" in page  # the new round can be rated
    stars = {"resolution": "5", "attitude": "5", "speed": "4", "comment": "已退"}
    assert author.post(f"/m/{m.code}/rate", data=stars).status_code == 302
    assert _reload(m).state == State.CLOSED
    response = office.post(f"/desk/m/{m.code}/reopen", data={"note": order})
    assert response.status_code in (409, 422)  # only once, and only after dissatisfaction
    assert _reload(m).state == State.CLOSED


# ---------------------------------------------------------------------------------------------
# The handler's desk: nearest deadline first, marks, counts, filters


def test_handler_desk_orders_by_deadline_and_marks_it(at, as_user, handler, make_message):
    """Nearest open deadline first; due soon / overdue / seriously overdue marks and counters."""
    # Accepted complaints (20 working days) assigned at different times; an inquiry (10). No
    # schedule is loaded, so 元旦 and 春节 2026 (02-16…02-19) rest by law.
    make_message("in_progress", title="很早交办的投诉", now=T0 - timedelta(days=70))
    make_message("in_progress", title="刚超期的投诉", now=T0 - timedelta(days=35))
    make_message("in_progress", title="快到期的咨询", kind="inquiry", now=T0 - timedelta(days=12))
    make_message("in_progress", title="新交办的投诉", now=T0 - timedelta(hours=3))
    at(T0 + timedelta(hours=2))
    client = as_user(handler)
    html = _html(client.get("/desk/handler"))
    titles = ("很早交办的投诉", "刚超期的投诉", "快到期的咨询", "新交办的投诉")
    order = [html.index(t) for t in titles]
    assert order == sorted(order)
    rows = {title: next(r for r in html.split("<tr") if title in r) for title in titles}
    assert "严重超期" in rows["很早交办的投诉"]
    assert "已超期" in rows["刚超期的投诉"] and "严重超期" not in rows["刚超期的投诉"]
    assert "即将到期" in rows["快到期的咨询"]
    assert "即将到期" not in rows["新交办的投诉"] and "还剩" in rows["新交办的投诉"]
    counts = _counters(html)
    assert counts["在办"] == "4" and counts["即将到期"] == "1"
    assert counts["已超期"] == "2" and counts["严重超期"] == "1"

    html = _html(client.get("/desk/handler?due=overdue"))
    assert "刚超期的投诉" in html and "很早交办的投诉" in html and "新交办的投诉" not in html
    html = _html(client.get("/desk/handler?due=due_soon&kind=inquiry"))
    assert "快到期的咨询" in html and "刚超期的投诉" not in html
    html = _html(client.get("/desk/handler?board=330100-secretary"))
    assert "新交办的投诉" in html
    html = _html(client.get("/desk/handler?board=440100-secretary"))
    assert "新交办的投诉" not in html
    assert client.get("/desk/handler?due=bogus&state=nothing&page=x").status_code == 200


def test_coordinator_desk_counts_and_lists_overdue(at, as_user, coordinator, make_message):
    """The office sees its overdue and seriously overdue cases, with counters."""
    make_message("in_progress", title="很早交办的投诉", now=T0 - timedelta(days=70))
    make_message("in_progress", title="刚超期的投诉", now=T0 - timedelta(days=35))
    make_message("received", title="待交办的留言", now=T0 - timedelta(hours=5))
    at(T0 + timedelta(hours=2))
    html = _html(as_user(coordinator).get("/desk/coordinator"))
    counts = _counters(html)
    assert counts["待交办"] == "1" and counts["已超期"] == "2" and counts["严重超期"] == "1"
    overdue = html[html.index('id="overdue-heading"') : html.index('id="dissatisfied-heading"')]
    rows = {t: next(r for r in overdue.split("<tr") if t in r) for t in ("很早", "刚超期")}
    assert "严重超期" in rows["很早"] and "严重超期" not in rows["刚超期"]
    assert "待交办的留言" not in overdue


def test_desk_message_explains_each_clock(at, as_user, handler, make_message):
    """The staff page lists every clock with due date, days left and how it was counted."""
    m = make_message("assigned")
    at(T0 + timedelta(days=1))
    html = _text(as_user(handler).get(f"/desk/m/{m.code}"))
    clock = _clock(m, "board_reply_long")
    assert clock.due_on.isoformat() in html
    assert "20 个工作日" in html and "还剩" in html and "期限如何计算" in html
    assert "退回" in html  # the return window is shown too


# ---------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("role", "state", "path", "data"),
    [
        ("citizen", "assigned", "accept", {}),
        ("coordinator", "assigned", "accept", {}),
        ("coordinator", "in_progress", "reply", {"body": BOARD_REPLY}),
        ("coordinator", "in_progress", "interim", {"body": BOARD_REPLY}),
        ("coordinator", "in_progress", "extend", {"reason": "需要更多时间核查情况"}),
        ("handler", "in_progress", "urge", {"note": "快办"}),
        ("handler", "in_progress", "transfer", {"unit": "330100-jt"}),
        ("handler", "received", "assign", {"unit": "330100-zj"}),
        ("moderator", "received", "assign", {"unit": "330100-zj"}),
        ("handler", "in_progress", "decide", {"body": BOARD_REPLY, "outcome": "supported"}),
        ("citizen", "in_progress", "sign-off", {}),
    ],
)
def test_wrong_role_gets_403(request, as_user, make_message, role, state, path, data):
    """Each step belongs to one side; the others get 403 and nothing changes."""
    m = make_message(state)
    before = (m.state, len(m.events))
    client = as_user(request.getfixturevalue(role))
    assert client.post(f"/desk/m/{m.code}/{path}", data=data).status_code == 403
    m = _reload(m)
    assert (m.state, len(m.events)) == before


def test_handler_cannot_sign_off_own_reply(at, as_user, handler, make_message):
    """The unit sends its reply for sign-off; only the office publishes it."""
    m = make_message("in_progress")
    unit = as_user(handler)
    assert unit.post(f"/desk/m/{m.code}/reply", data={"body": BOARD_REPLY}).status_code == 302
    assert unit.post(f"/desk/m/{m.code}/sign-off").status_code == 403
    assert _reload(m).state == State.IN_PROGRESS


@pytest.mark.parametrize("path", ["follow-up", "review-request"])
def test_only_the_author_takes_author_steps(as_user, troll, make_message, path):
    """Another citizen cannot follow up or ask for review on someone else's message."""
    m = make_message("replied")
    client = as_user(troll)
    response = client.post(f"/m/{m.code}/{path}", data={"body": "我也想追问这件事情的处理结果。"})
    assert response.status_code == 403
    assert _reload(m).state == State.REPLIED


def test_return_only_inside_the_window(at, as_user, coordinator, handler, make_message):
    """退回 within 5 working days of assignment goes to the office; after it, it is refused."""
    m = make_message("assigned")  # assigned on 2026-03-02: the window ends 2026-03-09
    unit = as_user(handler)
    data = {"reason": "return:not_our_duty", "note": "停车收费属于市场监管部门职责"}

    at(T0 + timedelta(days=10))
    page = _html(unit.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/return" not in page
    response = unit.post(f"/desk/m/{m.code}/return", data=data)
    assert response.status_code in (409, 422) and data["note"] in _html(response)

    at(T0 + timedelta(days=2))
    page = _html(unit.get(f"/desk/m/{m.code}"))
    assert f"/desk/m/{m.code}/return" in page and "2026-03-09" in page
    response = unit.post(f"/desk/m/{m.code}/return", data={"reason": "", "note": "x"})
    assert response.status_code == 422
    assert unit.post(f"/desk/m/{m.code}/return", data=data).status_code == 302
    office = as_user(coordinator)
    desk = _html(office.get("/desk/coordinator"))
    assert "退回申请" in desk and data["note"] in desk and "不属于本单位职责" in desk
    request_id = _request_id(desk, m.code)
    approve = f"/desk/m/{m.code}/approve-request"
    assert office.post(approve, data={"request": request_id}).status_code == 302
    m = _reload(m)
    assert m.state == State.RECEIVED and m.unit_id is None
    assert unit.get(f"/desk/m/{m.code}").status_code == 403  # no longer the unit's


def test_declined_return_keeps_the_message(at, as_user, coordinator, handler, make_message):
    """Declining a return closes the request; the unit still holds the message."""
    m = make_message("assigned")
    unit, office = as_user(handler), as_user(coordinator)
    data = {"reason": "return:wrong_region", "note": "问题发生在外地"}
    assert unit.post(f"/desk/m/{m.code}/return", data=data).status_code == 302
    page = _html(office.get(f"/desk/m/{m.code}"))
    request_id = _request_id(page, m.code)
    data = {"request": request_id, "note": "属于本市"}
    assert office.post(f"/desk/m/{m.code}/decline-request", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.ASSIGNED and m.unit.code == "330100-zj"
    assert f"/desk/m/{m.code}/decline-request" not in _html(office.get("/desk/coordinator"))
    response = office.post(f"/desk/m/{m.code}/approve-request", data=data)
    assert response.status_code == 409  # already decided


def test_petition_not_accepted_then_review_window(at, as_user, citizen, county, make_message):
    """不予受理 with a legal reason; the author then sees the review window and its due date."""
    m = _petition(make_message)
    office, handler = as_user(county["office"]), as_user(county["handler"])
    assert office.post(f"/desk/m/{m.code}/assign", data={"unit": "330106-zj"}).status_code == 302
    response = handler.post(f"/desk/m/{m.code}/not-accept", data={"reason": "", "note": "依法"})
    assert response.status_code == 422 and "依法" in _html(response)
    data = {"reason": "not_accept:court_or_arbitration", "note": "请依法申请劳动仲裁。"}
    assert handler.post(f"/desk/m/{m.code}/not-accept", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.NOT_ACCEPTED
    window = _clock(m, "petition_review_request")
    page = _html(as_user(citizen).get(f"/m/{m.code}"))
    assert "申请复查" in page and window.due_on.isoformat() in page and "期限如何计算" in page


def test_review_request_outside_the_window_is_refused(at, as_user, citizen, make_message):
    """After the 30-day window the form is gone and a forged request is refused."""
    m = make_message("replied", track="petition", kind="claim", address="杭州市西湖区文三路 1 号")
    author = as_user(citizen)
    at(T0 + timedelta(days=50))
    page = _html(author.get(f"/m/{m.code}"))
    assert f"/m/{m.code}/review-request" not in page
    body = "处理意见没有落实，请求上一级机关复查。"
    response = author.post(f"/m/{m.code}/review-request", data={"body": body})
    assert response.status_code in (409, 422)
    assert _reload(m).state == State.REPLIED


def test_follow_up_once_per_round(at, as_user, citizen, make_message):
    """A board message's author asks one follow-up; the unit's queue gets it back."""
    m = make_message("replied")
    author = as_user(citizen)
    at(T0 + timedelta(days=4))
    assert f"/m/{m.code}/follow-up" in _html(author.get(f"/m/{m.code}"))
    response = author.post(f"/m/{m.code}/follow-up", data={"body": "退多少？"})
    assert response.status_code == 422 and "退多少？" in _html(response)
    question = "请问多收的费用什么时候退还？退还到哪个账户？"
    assert author.post(f"/m/{m.code}/follow-up", data={"body": question}).status_code == 302
    m = _reload(m)
    assert m.state == State.IN_PROGRESS and m.handling_round == 2
    assert question in _text(author.get(f"/m/{m.code}"))
    assert f"/m/{m.code}/follow-up" not in _html(author.get(f"/m/{m.code}"))
    response = author.post(f"/m/{m.code}/follow-up", data={"body": question})
    assert response.status_code in (409, 422)


def test_petition_has_no_follow_up(at, as_user, citizen, make_message):
    """追问 is for the board track; petitions ask for review instead."""
    m = make_message("replied", track="petition", kind="claim", address="杭州市西湖区文三路 1 号")
    at(T0 + timedelta(days=4))
    page = _html(as_user(citizen).get(f"/m/{m.code}"))
    assert f"/m/{m.code}/follow-up" not in page and f"/m/{m.code}/review-request" in page


def test_transfer_moves_the_message_to_another_unit(
    at, as_user, coordinator, handler, make_user, make_message
):
    """转办 to another unit of the region; the old unit loses it, the history stays."""
    m = make_message("in_progress")
    other = make_user("handler", unit_code="330100-jt")
    office = as_user(coordinator)
    response = office.post(f"/desk/m/{m.code}/transfer", data={"unit": ""})
    assert response.status_code == 422
    data = {"unit": "330100-jt", "note": "属于交通部门职责"}
    assert office.post(f"/desk/m/{m.code}/transfer", data=data).status_code == 302
    m = _reload(m)
    assert m.state == State.ASSIGNED and m.unit.code == "330100-jt"
    assert as_user(handler).get(f"/desk/m/{m.code}").status_code == 403
    page = _html(as_user(other).get(f"/desk/m/{m.code}"))
    assert "属于交通部门职责" in page and "受理" in page


def test_sign_off_without_a_reply_is_refused(at, as_user, coordinator, make_message):
    """Nothing awaits sign-off: the office gets the page back with the reason, 409."""
    m = make_message("in_progress")
    response = as_user(coordinator).post(f"/desk/m/{m.code}/sign-off")
    assert response.status_code == 409 and 'class="flash flash-error"' in _html(response)
    assert _reload(m).state == State.IN_PROGRESS


def test_unknown_message_request_is_404(as_user, coordinator):
    """A message code that does not exist."""
    response = as_user(coordinator).post("/desk/m/MS-2026-ZZZZZZ/approve-request")
    assert response.status_code == 404
