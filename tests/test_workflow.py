"""The complete workflow's effects (WORKFLOW.md): states, events, clocks, requests, replies,
ratings, review bodies, and refusals with clear errors.

make_message's timeline (conftest): submitted T0 (2026-03-02, a Monday, 09:00 Beijing), approved
+1 h, assigned +2 h to 330100-zj, accepted +3 h, reply +3 d, signed off +3 d 1 h. The test
calendar table is empty, so working days are Monday–Friday.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import T0, board, unit
from sqlalchemy import select

from board.calendar import services as calendar
from board.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from board.extensions import db
from board.messages import services as msg
from board.models import (
    Clock,
    ClockState,
    HandlingRequest,
    ReplyState,
    RequestKind,
    RequestState,
    Role,
    State,
    Track,
)

PETITION = {
    "track": Track.PETITION,
    "kind": "claim",
    "real_name": "陈明亮",
    "phone": "13912345678",
    "address": "杭州市西湖区文三路 1 号",
}
BODY = "经核查，相关问题已经责成有关部门处理完毕，请知悉。"


def clocks_of(m, state=None) -> dict[str, Clock]:
    """The message's clocks by policy (the newest of each), optionally of one state."""
    query = select(Clock).where(Clock.message_id == m.id).order_by(Clock.id)
    found = {}
    for clock in db.session.scalars(query):
        if state is None or clock.state == state:
            found[clock.policy] = clock
    return found


def open_policies(m) -> set[str]:
    return set(clocks_of(m, ClockState.OPEN))


def last_event(m):
    db.session.refresh(m)
    return m.events[-1]


@pytest.fixture
def reviewer(make_user, directory):
    """A coordinator of the province secretary's office: the review body of 330100 boards."""
    return make_user(Role.COORDINATOR, unit_code="330000-secretary-office")


# ---------------------------------------------------------------------------------------------
# Assignment, acceptance, return


def test_assign_starts_the_return_window_and_the_answer_clock(make_message):
    """Board: 5 working days to return, 20 to answer a complaint; the event carries the answer."""
    m = make_message("assigned")
    clocks = clocks_of(m, ClockState.OPEN)
    assert set(clocks) == {"board_return", "board_reply_long"}
    assert clocks["board_return"].due_on == date(2026, 3, 9)
    assert clocks["board_reply_long"].due_on == date(2026, 3, 30)
    assert last_event(m).due_on == date(2026, 3, 30)
    assert clocks_of(m)["board_assignment"].state == ClockState.MET


def test_petition_assign_and_accept_move_the_petition_clocks(make_message):
    """Petition: acceptance notice in 15 days, then 60 days of handling from acceptance."""
    m = make_message("assigned", **PETITION)
    assert open_policies(m) == {"board_return", "petition_acceptance"}
    assert clocks_of(m)["petition_acceptance"].due_on == date(2026, 3, 17)
    m = make_message("in_progress", **PETITION)
    clocks = clocks_of(m)
    assert clocks["petition_acceptance"].state == ClockState.MET
    assert clocks["board_return"].state == ClockState.STOPPED  # accepting ends the return right
    # 03-02 + 60 days = 05-01, 劳动节; no schedule loaded, so by law 05-01…05-02 and the
    # make-up Monday 05-04 rest → 05-05.
    assert clocks["petition_handling"].due_on == date(2026, 5, 5)


def test_the_return_window_is_no_duty_and_never_overdue(make_message):
    """board_return is the unit's right, so overdue() lists only the answer clock."""
    m = make_message("assigned")
    late = T0 + timedelta(days=60)
    overdue = {c.policy for c in db.session.scalars(calendar.overdue(late)) if c.message_id == m.id}
    assert overdue == {"board_reply_long"}


def test_return_request_then_approval_gives_the_message_back(make_message, handler, coordinator):
    """A return inside 5 working days waits for the coordinator; approval clears the unit."""
    m = make_message("assigned")
    at = T0 + timedelta(days=1)
    msg.request_return(m, handler, reason="return:not_our_duty", note="属交通部门职责", now=at)
    request = msg.pending_request(m)
    assert (request.kind, request.state, request.round) == (RequestKind.RETURN, "pending", 1)
    assert request.reason_code == "return:not_our_duty" and request.requested_by == handler
    event = last_event(m)
    assert (event.action, event.is_public, m.state) == ("return", False, State.ASSIGNED)
    with pytest.raises(InvalidTransition, match="等待交办员决定"):
        msg.request_return(m, handler, reason="return:not_our_duty", now=at)

    msg.approve_request(request, coordinator, note="同意退回", now=at + timedelta(hours=1))
    db.session.refresh(m)
    assert (m.state, m.unit_id) == (State.RECEIVED, None)
    assert request.state == RequestState.APPROVED and request.decided_by == coordinator
    assert last_event(m).action == "return_approved"
    assert open_policies(m) == {"board_assignment"}
    assert clocks_of(m)["board_reply_long"].state == ClockState.STOPPED
    msg.assign_message(m, unit("330100-jt"), coordinator, now=at + timedelta(hours=2))
    assert m.state == State.ASSIGNED and m.unit.code == "330100-jt"


def test_return_is_refused_after_five_working_days_and_with_a_wrong_reason(make_message, handler):
    """The window closes at the end of its due day; a reason must be a return reason."""
    m = make_message("assigned")
    with pytest.raises(ValidationFailed) as error:
        msg.request_return(m, handler, reason="unclear", now=T0 + timedelta(days=1))
    assert "reason" in error.value.fields
    with pytest.raises(InvalidTransition, match="5 个工作日"):
        msg.request_return(m, handler, reason="return:not_our_duty", now=T0 + timedelta(days=8))
    assert msg.pending_request(m) is None


def test_declined_return_keeps_the_message_with_the_unit(make_message, handler, coordinator):
    """Declining closes the request; the state and the unit stay."""
    m = make_message("assigned")
    msg.request_return(m, handler, reason="return:not_our_duty", now=T0 + timedelta(days=1))
    request = msg.pending_request(m)
    msg.decline_request(request, coordinator, note="属于本单位职责", now=T0 + timedelta(days=2))
    assert request.state == RequestState.DECLINED and request.decision_note == "属于本单位职责"
    assert (m.state, m.unit.code, last_event(m).action) == (
        State.ASSIGNED,
        "330100-zj",
        "return_declined",
    )
    with pytest.raises(InvalidTransition, match="已经决定"):
        msg.approve_request(request, coordinator, now=T0 + timedelta(days=2))


def test_not_accept_closes_handling_and_opens_the_review_window(make_message, handler):
    """不予受理 (petition only) ends the unit's clocks and starts the 30-day review window."""
    board_message = make_message("assigned")
    with pytest.raises(InvalidTransition, match="信访事项"):
        msg.not_accept_message(
            board_message, handler, reason="not_accept:court_or_arbitration", now=T0
        )
    m = make_message("not_accepted", **PETITION)
    assert m.state == State.NOT_ACCEPTED
    assert open_policies(m) == {"petition_review_request"}
    assert clocks_of(m)["petition_acceptance"].state == ClockState.MET
    event = last_event(m)
    assert event.is_public and "诉讼" in event.note


# ---------------------------------------------------------------------------------------------
# Replies and sign-off


def test_reply_waits_for_sign_off_and_sign_off_publishes_it(make_message, handler, coordinator):
    """reply → awaiting sign-off (private); decline → draft; reply again; sign-off → replied."""
    m = make_message("in_progress")
    msg.reply_message(m, handler, body=BODY, now=T0 + timedelta(days=3))
    (reply,) = m.replies
    assert (m.state, reply.state, m.published_replies) == (
        State.IN_PROGRESS,
        ReplyState.AWAITING_SIGNOFF,
        [],
    )
    assert (last_event(m).action, last_event(m).is_public) == ("reply", False)
    with pytest.raises(InvalidTransition, match="等待签发"):
        msg.reply_message(m, handler, body=BODY, now=T0 + timedelta(days=3))

    with pytest.raises(ValidationFailed):
        msg.decline_sign_off(m, coordinator, note="  ", now=T0 + timedelta(days=4))
    msg.decline_sign_off(m, coordinator, note="请补充退费时间", now=T0 + timedelta(days=4))
    assert reply.state == ReplyState.DRAFT and last_event(m).action == "decline_sign_off"
    with pytest.raises(InvalidTransition, match="没有等待签发"):
        msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=4))

    better = BODY + "多收费用将于本月底前退还。"
    msg.reply_message(m, handler, body=better, now=T0 + timedelta(days=5))
    assert len(m.replies) == 1 and reply.body == better  # the draft is edited, not duplicated
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=5, hours=2))
    assert m.state == State.REPLIED and m.replied_at == T0 + timedelta(days=5, hours=2)
    assert reply.state == ReplyState.PUBLISHED and reply.published_at == m.replied_at
    event = last_event(m)
    assert (event.action, event.is_public) == ("sign_off", True)
    assert event.due_on == date(2026, 4, 7)  # 30 days from 03-07 → 04-06, 清明's make-up day
    clocks = clocks_of(m)
    assert clocks["board_reply_long"].state == ClockState.MET
    assert clocks["board_return"].state == ClockState.STOPPED  # ended by acceptance
    assert open_policies(m) == {"rating_window"}


def test_petition_sign_off_also_opens_the_review_window(make_message):
    """A petition reply starts the rating window and the 30-day review request window."""
    m = make_message("replied", **PETITION)
    assert open_policies(m) == {"rating_window", "petition_review_request"}
    assert m.published_replies[0].outcome == "explained"


def test_petition_reply_needs_an_outcome(make_message, handler):
    """A petition answer must say 予以支持 / 解释说明 / 不予支持."""
    m = make_message("in_progress", **PETITION)
    with pytest.raises(ValidationFailed) as error:
        msg.reply_message(m, handler, body=BODY, now=T0 + timedelta(days=1))
    assert "outcome" in error.value.fields


def test_interim_reply_is_published_and_keeps_the_state(make_message, handler):
    """阶段性答复: a published interim reply and a public event."""
    m = make_message("in_progress")
    msg.interim_reply(m, handler, body=BODY, now=T0 + timedelta(days=1))
    (reply,) = m.published_replies
    assert reply.is_interim and m.state == State.IN_PROGRESS
    assert (last_event(m).action, last_event(m).is_public) == ("interim", True)
    with pytest.raises(ValidationFailed):
        msg.interim_reply(m, handler, body="太短", now=T0 + timedelta(days=1))


# ---------------------------------------------------------------------------------------------
# Extensions and the calendar


def test_extension_once_per_round_lengthens_the_answer_clock(make_message, handler, coordinator):
    """Approved: +15 working days from the current due date, public event; not twice a round."""
    m = make_message("in_progress")
    with pytest.raises(ValidationFailed):
        msg.request_extension(m, handler, reason="忙", now=T0 + timedelta(days=5))
    msg.request_extension(m, handler, reason="需要多个部门协调", now=T0 + timedelta(days=5))
    request = msg.pending_request(m)
    assert request.kind == RequestKind.EXTENSION and request.note == "需要多个部门协调"
    assert (last_event(m).action, last_event(m).is_public) == ("extend", False)
    msg.decline_request(request, coordinator, note="请按期答复", now=T0 + timedelta(days=6))
    assert last_event(m).action == "extension_declined"
    assert clocks_of(m)["board_reply_long"].due_on == date(2026, 3, 30)

    msg.request_extension(m, handler, reason="仍需现场勘查", now=T0 + timedelta(days=7))
    msg.approve_request(msg.pending_request(m), coordinator, now=T0 + timedelta(days=8))
    clock = clocks_of(m)["board_reply_long"]
    # +15 working days from 03-30, skipping 清明's make-up Monday 04-06 (by law) → 04-21.
    assert (clock.due_on, clock.extension_days, clock.state) == (date(2026, 4, 21), 15, "open")
    event = last_event(m)
    assert (event.action, event.is_public, event.note) == ("extend", True, "仍需现场勘查")
    assert event.due_on == date(2026, 4, 21)
    assert any(line.startswith("延期") for line in clock.explanation_lines)
    with pytest.raises(InvalidTransition, match="延期过一次"):
        msg.request_extension(m, handler, reason="还要再延期", now=T0 + timedelta(days=9))


def test_a_calendar_change_keeps_the_extension(app, make_message, handler, coordinator):
    """recompute_open_clocks recomputes base → extension: a new holiday moves the due date."""
    m = make_message("in_progress")
    msg.request_extension(m, handler, reason="需要多个部门协调", now=T0 + timedelta(days=5))
    msg.approve_request(msg.pending_request(m), coordinator, now=T0 + timedelta(days=6))
    calendar.load_calendar_year(
        2026, [(date(2026, 4, 10), False, "测试假日")], source="admin", now=T0 + timedelta(days=7)
    )
    clock = clocks_of(m)["board_reply_long"]
    assert clock.extension_days == 15
    assert clock.due_on == date(2026, 4, 21)


def test_petition_extension_adds_thirty_calendar_days(make_message, handler, coordinator):
    """petition_handling 05-05 + 30 days = Thursday 06-04."""
    m = make_message("in_progress", **PETITION)
    msg.request_extension(m, handler, reason="需要调查取证", now=T0 + timedelta(days=10))
    msg.approve_request(msg.pending_request(m), coordinator, now=T0 + timedelta(days=11))
    assert clocks_of(m)["petition_handling"].due_on == date(2026, 6, 4)


# ---------------------------------------------------------------------------------------------
# Transfer and urge


def test_transfer_moves_the_message_and_restarts_the_clocks(make_message, handler, coordinator):
    """转办: a new unit, old clocks stopped, the assignment clocks again, history kept."""
    m = make_message("in_progress")
    msg.request_extension(m, handler, reason="需要多个部门协调", now=T0 + timedelta(days=1))
    with pytest.raises(ValidationFailed):
        msg.transfer_message(m, unit("330100-zj"), coordinator, now=T0 + timedelta(days=2))
    with pytest.raises(ValidationFailed):
        msg.transfer_message(m, unit("440100-zj"), coordinator, now=T0 + timedelta(days=2))
    msg.transfer_message(
        m, unit("330106-zj"), coordinator, note="属地办理", now=T0 + timedelta(days=2)
    )
    assert (m.state, m.unit.code) == (State.ASSIGNED, "330106-zj")
    assert open_policies(m) == {"board_return", "board_reply_long"}
    stopped = [c for c in clocks_of_all(m) if c.state == ClockState.STOPPED]
    assert {c.policy for c in stopped} == {"board_return", "board_reply_long"}
    assert [e.action for e in m.events][-3:] == ["accept", "extend", "transfer"]
    assert msg.pending_request(m) is None  # the old unit's request is closed
    with pytest.raises(PermissionDenied):
        msg.accept_message(m, handler, now=T0 + timedelta(days=3))


def clocks_of_all(m) -> list[Clock]:
    return list(db.session.scalars(select(Clock).where(Clock.message_id == m.id)))


def test_urge_is_a_private_event(make_message, coordinator):
    """督办 needs a note and is not on the public timeline."""
    m = make_message("assigned")
    with pytest.raises(ValidationFailed):
        msg.urge_message(m, coordinator, note="", now=T0 + timedelta(days=1))
    msg.urge_message(m, coordinator, note="请于本周内答复", now=T0 + timedelta(days=1))
    event = last_event(m)
    assert (event.action, event.is_public, event.note) == ("urge", False, "请于本周内答复")


# ---------------------------------------------------------------------------------------------
# Ratings, follow-up, reopen


def test_follow_up_opens_a_new_round_and_ratings_are_per_round(
    make_message, citizen, handler, coordinator
):
    """追问: back to the unit for 10 working days, round 2, and a second rating later."""
    m = make_message("replied")
    with pytest.raises(ValidationFailed):
        msg.follow_up_message(m, citizen, body="为什么", now=T0 + timedelta(days=4))
    msg.follow_up_message(
        m, citizen, body="请问多收的费用什么时候退还？", now=T0 + timedelta(days=4)
    )
    assert (m.state, m.handling_round) == (State.IN_PROGRESS, 2)
    event = last_event(m)
    assert (event.action, event.is_public) == ("follow_up", True)
    assert clocks_of(m)["rating_window"].state == ClockState.STOPPED
    assert open_policies(m) == {"board_reply_short"}
    assert clocks_of(m)["board_reply_short"].due_on == date(2026, 3, 20)

    msg.reply_message(m, handler, body=BODY, now=T0 + timedelta(days=6))
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=7))
    msg.rate_message(m, citizen, resolution=2, attitude=3, speed=2, now=T0 + timedelta(days=8))
    assert m.state == State.CLOSED and [r.round for r in m.ratings] == [2]
    assert m.rating.round == 2


def test_follow_up_is_for_the_author_on_the_board_track(make_message, troll, citizen):
    """Only the author, only after a reply, never on a petition."""
    m = make_message("replied")
    with pytest.raises(PermissionDenied):
        msg.follow_up_message(
            m, troll, body="请问多收的费用什么时候退还？", now=T0 + timedelta(days=4)
        )
    p = make_message("replied", **PETITION)
    with pytest.raises(InvalidTransition, match="留言板"):
        msg.follow_up_message(
            p, citizen, body="请问多收的费用什么时候退还？", now=T0 + timedelta(days=4)
        )


def test_rating_closes_a_board_message_but_not_a_petition(make_message, citizen):
    """Board: replied → closed. Petition: stays replied (its review window runs); once a round."""
    closed = make_message("closed")
    assert (closed.state, closed.rating.round, closed.closed_at) == (
        State.CLOSED,
        1,
        T0 + timedelta(days=4),
    )
    assert clocks_of(closed)["rating_window"].state == ClockState.MET
    p = make_message("replied", **PETITION)
    msg.rate_message(p, citizen, resolution=4, attitude=4, speed=4, now=T0 + timedelta(days=4))
    assert p.state == State.REPLIED and len(p.ratings) == 1
    assert open_policies(p) == {"petition_review_request"}
    with pytest.raises(InvalidTransition, match="已经评价"):
        msg.rate_message(p, citizen, resolution=5, attitude=5, speed=5, now=T0 + timedelta(days=5))


def test_rating_after_the_window_is_refused(make_message, citizen):
    """The rating window ends with its due day (30 days from the sign-off, rolled to Monday)."""
    m = make_message("replied")
    with pytest.raises(InvalidTransition, match="评价期已过"):
        msg.rate_message(m, citizen, resolution=5, attitude=5, speed=5, now=T0 + timedelta(days=40))


def test_reopen_only_after_a_dissatisfied_rating_and_only_once(
    make_message, citizen, handler, coordinator
):
    """重办: the latest rating must be 不满意 or worse; a second reopen is refused."""
    happy = make_message("closed")
    with pytest.raises(InvalidTransition, match="不满意"):
        msg.reopen_message(happy, coordinator, note="重办", now=T0 + timedelta(days=5))
    m = make_message("reopened")
    assert (m.state, m.handling_round, m.closed_at) == (State.REOPENED, 2, None)
    assert open_policies(m) == {"board_reply_long"}
    assert last_event(m).note == "留言人不满意，责成重新办理。"
    assert m in db.session.scalars(msg.unit_queue_query(m.unit_id)).all()

    msg.reply_message(m, handler, body=BODY, now=T0 + timedelta(days=6))
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=7))
    msg.rate_message(m, citizen, resolution=1, attitude=1, speed=1, now=T0 + timedelta(days=8))
    assert [r.round for r in m.ratings] == [1, 2]
    with pytest.raises(InvalidTransition, match="重办过一次"):
        msg.reopen_message(m, coordinator, note="再次重办", now=T0 + timedelta(days=9))


# ---------------------------------------------------------------------------------------------
# Review and re-review


def test_review_units_are_one_level_up_with_the_same_post(make_message, directory):
    """County board → its city's board office; city → province; province → its own office."""
    county = make_message("received", board_code="330106-secretary")
    city_office = msg.review_unit_for(county)
    assert city_office.code == "330100-secretary-office"
    assert msg.review_unit_for(city_office, post="secretary").code == "330000-secretary-office"
    governor = make_message("received", board_code="330100-governor")
    assert msg.review_unit_for(governor).code == "330000-governor-office"
    province = make_message("received", board_code="330000-secretary", region_code="330203")
    assert msg.review_unit_for(province).code == "330000-secretary-office"


def test_review_and_rereview_walk_up_and_end(make_message, citizen, reviewer):
    """复查 then 复核: review units, published opinions with outcomes, clocks, final state."""
    m = make_message("review_requested", **PETITION)
    assert m.review_unit.code == "330000-secretary-office"
    assert open_policies(m) == {"petition_review"}
    assert clocks_of(m)["petition_review_request"].state == ClockState.MET
    assert m in db.session.scalars(msg.review_queue_query(reviewer)).all()
    assert msg.can_view(reviewer, m)

    with pytest.raises(ValidationFailed) as error:
        msg.decide_review(m, reviewer, body=BODY, outcome="maybe", now=T0 + timedelta(days=8))
    assert "outcome" in error.value.fields
    msg.decide_review(m, reviewer, body=BODY, outcome="supported", now=T0 + timedelta(days=8))
    assert m.state == State.REVIEWED
    review = m.published_replies[-1]
    assert (review.unit.code, review.outcome, review.author) == (
        "330000-secretary-office",
        "supported",
        reviewer,
    )
    assert open_policies(m) == {"petition_rereview_request"}

    msg.request_rereview(
        m, citizen, body="复查意见仍未回应诉求，请求复核。", now=T0 + timedelta(days=9)
    )
    assert m.state == State.REREVIEW_REQUESTED
    assert m.review_unit.code == "330000-secretary-office"  # province: its own office
    assert open_policies(m) == {"petition_rereview"}
    msg.decide_rereview(
        m, reviewer, body=BODY, outcome="not_supported", now=T0 + timedelta(days=20)
    )
    assert m.state == State.REREVIEWED and open_policies(m) == set()


def test_review_request_window_is_thirty_days(make_message, citizen):
    """After the window (30 days from the sign-off, rolled to a working day) it is refused."""
    m = make_message("replied", **PETITION)
    with pytest.raises(InvalidTransition, match="30 日"):
        msg.request_review(
            m, citizen, body="答复没有回应我的诉求，请求复查。", now=T0 + timedelta(days=40)
        )
    not_accepted = make_message("not_accepted", **PETITION)
    msg.request_review(
        not_accepted,
        citizen,
        body="不予受理没有依据，请求复查。\u202e8765 4321 831\u202c",
        now=T0 + timedelta(days=2),
    )
    assert not_accepted.state == State.REVIEW_REQUESTED
    # A direction override would show the reversed digits as a phone past the masking: dropped.
    assert not_accepted.events[-1].note == "不予受理没有依据，请求复查。8765 4321 831"


def test_only_the_review_body_decides(make_message, coordinator, reviewer, admin):
    """The board's own coordinator is not the review body; an admin may act anywhere."""
    m = make_message("review_requested", **PETITION)
    with pytest.raises(PermissionDenied):
        msg.decide_review(
            m, coordinator, body=BODY, outcome="explained", now=T0 + timedelta(days=8)
        )
    msg.decide_review(m, admin, body=BODY, outcome="explained", now=T0 + timedelta(days=8))
    assert m.published_replies[-1].unit.code == "330000-secretary-office"


def test_hearing_lengthens_the_rereview_clock(make_message, reviewer):
    """听证 days are added to the re-review clock, explained, and the total stays ≤ 60."""
    m = make_message("rereview_requested", **PETITION)
    before = clocks_of(m)["petition_rereview"].due_on
    with pytest.raises(ValidationFailed):
        msg.hold_hearing(m, reviewer, days=0, now=T0 + timedelta(days=13))
    msg.hold_hearing(m, reviewer, days=10, note="组织听证", now=T0 + timedelta(days=13))
    clock = clocks_of(m)["petition_rereview"]
    assert clock.hearing_days == 10 and clock.due_on >= before + timedelta(days=10)
    assert any(line.startswith("听证") for line in clock.explanation_lines)
    event = last_event(m)
    assert (event.action, event.is_public, event.due_on) == ("hearing", True, clock.due_on)
    with pytest.raises(ValidationFailed):
        msg.hold_hearing(m, reviewer, days=51, now=T0 + timedelta(days=14))
    assert m.state == State.REREVIEW_REQUESTED


def test_refuse_repeat_names_the_earlier_rereviewed_petition(make_message, coordinator, make_user):
    """不再受理: only with a re-reviewed petition of the same author; no review window."""
    earlier = make_message("rereviewed", **PETITION)
    m = make_message("received", **PETITION)
    for bad in ("MS-2026-ZZZZZZ", m.code, make_message("replied", **PETITION).code):
        with pytest.raises(ValidationFailed) as error:
            msg.refuse_repeat(m, coordinator, earlier=bad, now=T0 + timedelta(days=30))
        assert "earlier" in error.value.fields
    other = make_user(Role.CITIZEN, real_name="李四", phone="13800000000", address="杭州")
    stranger = make_message("received", author=other, **{**PETITION, "real_name": "李四"})
    with pytest.raises(ValidationFailed):
        msg.refuse_repeat(stranger, coordinator, earlier=earlier.code, now=T0 + timedelta(days=30))
    msg.refuse_repeat(m, coordinator, earlier=earlier.code.lower(), now=T0 + timedelta(days=30))
    assert m.state == State.NOT_ACCEPTED
    event = last_event(m)
    assert event.action == "refuse_repeat" and earlier.code in event.note and event.is_public
    assert open_policies(m) == set()


# ---------------------------------------------------------------------------------------------
# The system's close, and the desks' queries


def test_close_lapsed_messages_closes_only_lapsed_windows(make_message, citizen):
    """Board: rating window; petition: review request window — past the end of the due day."""
    # 30 days from 03-05 is Saturday 04-04; 清明 04-05 and its make-up Monday 04-06 → 04-07.
    board_message = make_message("replied")  # rating window due 2026-04-07
    petition = make_message("replied", **PETITION)  # both windows due 2026-04-07
    msg.rate_message(
        petition, citizen, resolution=5, attitude=5, speed=5, now=T0 + timedelta(days=4)
    )
    last_day = T0.replace(month=4, day=7, hour=15)  # 23:00 Beijing on the due day
    assert msg.close_lapsed_messages(last_day) == 0
    assert msg.close_lapsed_messages(T0.replace(month=4, day=7, hour=16, minute=1)) == 2
    for m in (board_message, petition):
        db.session.refresh(m)
        event = m.events[-1]
        assert (m.state, event.action, event.actor_id) == (State.CLOSED, "close", None)
        assert open_policies(m) == set()
    assert msg.close_lapsed_messages(T0 + timedelta(days=90)) == 0


def test_queries_for_the_desks(make_message, handler, coordinator, make_user, admin):
    """Awaiting sign-off, pending requests, dissatisfied ratings, the unit desk — in scope."""
    other = make_user(Role.COORDINATOR, unit_code="440100-secretary-office")
    waiting = make_message("in_progress")
    msg.reply_message(waiting, handler, body=BODY, now=T0 + timedelta(days=1))
    asking = make_message("assigned")
    msg.request_return(asking, handler, reason="return:not_our_duty", now=T0 + timedelta(days=1))
    unhappy = make_message("reopened")
    assert list(db.session.scalars(msg.awaiting_signoff_query(coordinator))) == [waiting]
    assert list(db.session.scalars(msg.awaiting_signoff_query(admin))) == [waiting]
    assert list(db.session.scalars(msg.awaiting_signoff_query(other))) == []
    requests = list(db.session.scalars(msg.pending_requests_query(coordinator)))
    assert [r.message for r in requests] == [asking]
    assert isinstance(requests[0], HandlingRequest)
    assert list(db.session.scalars(msg.pending_requests_query(other))) == []
    assert list(db.session.scalars(msg.dissatisfied_query(coordinator))) == []  # reopened
    closed = make_message("replied")
    msg.rate_message(
        closed, closed.author, resolution=2, attitude=2, speed=3, now=T0 + timedelta(days=4)
    )
    assert list(db.session.scalars(msg.dissatisfied_query(coordinator))) == [closed]
    rows = db.session.execute(msg.unit_desk_query(unit("330100-zj").id)).all()
    assert {row[0] for row in rows} == {waiting, asking, unhappy}
    dues = [row[1] for row in rows]
    assert dues == sorted(dues) and all(isinstance(d, date) for d in dues)


def test_refusals_name_the_problem(make_message, troll, handler, coordinator):
    """Wrong people and wrong moments get PermissionDenied / InvalidTransition in Chinese."""
    m = make_message("received")
    with pytest.raises(PermissionDenied, match="交办员"):
        msg.transfer_message(m, unit("330106-zj"), troll, now=T0)
    with pytest.raises(InvalidTransition, match="待回复"):
        msg.transfer_message(m, unit("330106-zj"), coordinator, now=T0 + timedelta(days=1))
    with pytest.raises(PermissionDenied, match="承办单位"):
        msg.interim_reply(m, handler, body=BODY, now=T0)
    with pytest.raises(ValidationFailed):
        msg.get_request(m, 999)
    with pytest.raises(NotFound):
        msg.get_message("MS-2026-ZZZZZZ")
    assert board("330100-secretary").office_unit.code == "330100-secretary-office"
