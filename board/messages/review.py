"""Petition review (复查, 复核) under the 2022 regulation: the petitioner asks within 30 days, the
body one level up decides, a hearing pauses the re-review clock; repeats are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import select

from .. import workflow
from ..calendar import services as clocks
from ..deadlines import PolicyName
from ..errors import InvalidTransition, ValidationFailed
from ..extensions import db
from ..models import (
    Board,
    ClockState,
    Message,
    Outcome,
    Post,
    State,
    Unit,
    User,
)
from ..privacy import plain_text
from ..search import outbox
from ..workflow import Action
from .events import commit, hand_over, publish_reply, record, transition


def review_unit_for(subject: Message | Unit, *, post: str | None = None) -> Unit:
    """The body that decides a petition's review (复查) or re-review (复核).

    The choice (信访工作条例 Art. 35–36 say "the administrative body one level up"; our
    directory has no such bodies, so we map it onto boards): the office unit of the board
    with the same post in the parent region. For a message, "one level up" starts from its
    board's region; for a unit (the review unit, when the re-review is asked) from that unit's
    region. At province level there is no parent region on the platform, so the province
    board's own office decides. When the parent region has no board of the same post, its
    first board (by code) is used; failing that, the current level's own board office.
    """
    if isinstance(subject, Message):
        region, post = subject.board.region, subject.board.post
    else:
        region = subject.region
        post = post or Post.SECRETARY
    target = region.parent or region
    boards = list(
        db.session.scalars(
            select(Board).where(Board.region_code == target.code).order_by(Board.code)
        )
    )
    same = [b for b in boards if b.post == post]
    chosen = (same or boards or [None])[0]
    if chosen is None:  # a region without boards: stay at this level
        chosen = db.session.scalar(
            select(Board).where(Board.region_code == region.code).order_by(Board.code)
        )
    if chosen is None:
        raise InvalidTransition(_("找不到上一级的复查机关。"))
    return chosen.office_unit


# The petitioner ------------------------------------------------------------------------------


# What each request meets and starts: the window to ask, then the deciding body's clock.
REQUEST_CLOCKS: dict[Action, tuple[PolicyName, PolicyName]] = {
    Action.REQUEST_REVIEW: (PolicyName.PETITION_REVIEW_REQUEST, PolicyName.PETITION_REVIEW),
    Action.REQUEST_REREVIEW: (PolicyName.PETITION_REREVIEW_REQUEST, PolicyName.PETITION_REREVIEW),
}


def _ask(
    message: Message,
    actor: User,
    action: Action,
    *,
    body: str,
    now: datetime,
    body_for: Callable[[], Unit],
    stops: tuple[PolicyName, ...] = (),
) -> Message:
    """The petitioner's request within its window: the reasons go on the event, the clocks
    `stops` stop, the request's clocks move on and `body_for()` is the body that decides."""
    workflow.check(action, actor, message, now=now)
    body = workflow.validate_length(action, "body", body)
    unit = body_for()
    event = transition(message, action, actor, now=now, note=body)
    if stops:
        clocks.close_clocks(message, stops, now=now, state=ClockState.STOPPED)
    hand_over(message, event, *REQUEST_CLOCKS[action], now=now)
    message.review_unit = unit
    outbox.enqueue(message)
    return commit(message)


def request_review(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The petitioner asks the body one level up to review (复查) within 30 days; the rating
    window ends with the request."""
    return _ask(
        message,
        actor,
        Action.REQUEST_REVIEW,
        body=plain_text(body),
        now=now,
        body_for=lambda: review_unit_for(message),
        stops=(PolicyName.RATING_WINDOW,),
    )


def request_rereview(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The petitioner asks for a re-review (复核) one level above the review body."""

    def above_review_body() -> Unit:
        current = message.review_unit or review_unit_for(message)
        return review_unit_for(current, post=message.board.post)

    return _ask(
        message,
        actor,
        Action.REQUEST_REREVIEW,
        body=plain_text(body),
        now=now,
        body_for=above_review_body,
    )


# The review body -----------------------------------------------------------------------------


# What each decision closes and starts: the review opens the window to ask for a re-review.
DECISION_CLOCKS: dict[Action, tuple[PolicyName, PolicyName | None]] = {
    Action.DECIDE_REVIEW: (PolicyName.PETITION_REVIEW, PolicyName.PETITION_REREVIEW_REQUEST),
    Action.DECIDE_REREVIEW: (PolicyName.PETITION_REREVIEW, None),
}


def decide(
    message: Message, actor: User, action: Action, *, body: str, outcome: str | None, now: datetime
) -> Message:
    """The review body publishes its opinion with its outcome and the clocks move on: the
    review opinion (复查意见, DECIDE_REVIEW) or the final re-review opinion (复核意见,
    DECIDE_REREVIEW)."""
    close, start = DECISION_CLOCKS[action]
    workflow.check(action, actor, message, now=now)
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.__members__.values():
        errors["outcome"] = [_("请选择处理意见：予以支持、解释说明或不予支持。")]
    workflow.check_length(errors, action, "body", body)
    if errors:
        raise ValidationFailed(fields=errors)
    unit = message.review_unit
    if unit is None:
        raise InvalidTransition(_("这条信访事项没有复查（复核）机关。"))
    event = transition(message, action, actor, now=now, note=unit.name)
    clocks.advance(message, event, now=now, close=(close,), start=start)
    publish_reply(message, unit, actor, body, now=now, outcome=outcome)
    outbox.enqueue(message)
    return commit(message)


# The two decisions by name, as the desk, the API and the tests call them.
decide_review = partial(decide, action=Action.DECIDE_REVIEW)
decide_rereview = partial(decide, action=Action.DECIDE_REREVIEW)


def hold_hearing(
    message: Message, actor: User, *, days: int, note: str = "", now: datetime
) -> Message:
    """A hearing (听证) in a re-review: its days do not count against the re-review clock."""
    workflow.check(Action.HEARING, actor, message, now=now)
    clock = clocks.open_clock(message, (PolicyName.PETITION_REREVIEW,))
    bounds = workflow.limit(Action.HEARING, "days")
    if (
        isinstance(days, bool)
        or not isinstance(days, int)
        or days < bounds.low
        or (clock.hearing_days or 0) + days > bounds.high
    ):
        raise ValidationFailed(
            fields={
                "days": [
                    _(
                        "听证时间须为 %(low)d 到 %(high)d 日（合计不超过 %(high)d 日）。",
                        low=bounds.low,
                        high=bounds.high,
                    )
                ]
            }
        )
    note = workflow.validate_length(Action.HEARING, "note", note)
    clocks.add_hearing_days(clock, days)
    event = record(
        message,
        Action.HEARING,
        actor,
        now=now,
        note=note or _("组织听证，听证时间 %(days)d 日不计入复核期限。", days=days),
    )
    event.due_on = clock.due_on
    return commit(message)


# The office ----------------------------------------------------------------------------------


def refuse_repeat(message: Message, actor: User, *, earlier: str, now: datetime) -> Message:
    """Refuse a petition repeating a re-reviewed one of the same author (不再受理)."""
    workflow.check(Action.REFUSE_REPEAT, actor, message, now=now)
    code = (earlier or "").strip().upper()
    found = db.session.scalar(select(Message).where(Message.code == code)) if code else None
    if (
        found is None
        or found.id == message.id
        or found.state != State.REREVIEWED
        or found.author_id is None
        or found.author_id != message.author_id
    ):
        raise ValidationFailed(
            fields={"earlier": [_("请填写同一信访人已经复核终结的信访事项编号。")]}
        )
    event = transition(
        message,
        Action.REFUSE_REPEAT,
        actor,
        now=now,
        note=_("同一事项已于 %(code)s 复核终结，不再受理。", code=found.code),
    )
    clocks.advance(message, event, now=now, close=None)
    outbox.enqueue(message)
    return commit(message)
