"""What every message use case shares: the tracking code, the event row, the transition through
the workflow registry, and the one commit that ends a use case."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from .. import workflow
from ..calendar import services as clocks
from ..clock import local_date
from ..deadlines import PolicyName
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    Event,
    HandlingRequest,
    Message,
    ReasonCode,
    ReasonUse,
    Reply,
    ReplyState,
    RequestState,
    State,
    Track,
    Unit,
    User,
)
from ..notify import services as notify
from ..search import outbox

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read aloud


def new_code(now: datetime) -> str:
    """A fresh tracking code like MS-2026-7K3Q9D (31^6 ≈ 887 million per year)."""
    while True:
        tail = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        code = f"MS-{now.year}-{tail}"
        if db.session.scalar(select(Message.id).where(Message.code == code)) is None:
            return code


def get_message(code: str) -> Message:
    """The message with this tracking code, or NotFound."""
    message = db.session.scalar(select(Message).where(Message.code == code.strip().upper()))
    if message is None:
        raise NotFound(_("没有编号为 %(code)s 的留言。", code=code))
    return message


def record(
    message: Message,
    action: str,
    actor: User | None,
    *,
    now: datetime,
    to_state: State | None = None,
    note: str = "",
    is_public: bool = True,
) -> Event:
    """Append an event row (and move the state, if given) in the caller's transaction."""
    event = Event(
        message=message,
        actor=actor,
        action=action,
        from_state=message.state,
        to_state=to_state or message.state,
        note=note,
        is_public=is_public,
        created_at=now,
    )
    if to_state is not None:
        message.state = to_state
    message.updated_at = now
    db.session.add(event)
    return event


def transition(
    message: Message,
    action: str,
    actor: User | None,
    *,
    now: datetime,
    note: str = "",
    is_public: bool = True,
) -> Event:
    """Move the message as the registry says `action` does, with its event."""
    workflow.require_state(action, message)
    target = workflow.step(action).target
    return record(message, action, actor, now=now, to_state=target, note=note, is_public=is_public)


def hand_over(message: Message, event: Event, met: str, starts: str, *, now: datetime) -> None:
    """A step meets the deadline `met` and starts the next one, `starts` (its due day is
    noted on the step's event)."""
    clocks.advance(message, event, now=now, close=(met,), start=starts)


def publish_reply(
    message: Message, unit: Unit, actor: User, body: str, *, now: datetime, **more
) -> Reply:
    """Append a reply that is public at once (an interim answer, a review body's opinion)."""
    reply = Reply(unit=unit, author=actor, body=body, state=ReplyState.PUBLISHED, **more)
    reply.created_at = reply.published_at = now
    message.replies.append(reply)
    return reply


def commit(message: Message) -> Message:
    """Commit the service's transaction, then let the search index catch up."""
    notify.queue_event_mail()  # mails of the new events, in the same transaction (DESIGN §8)
    db.session.commit()
    outbox.apply_after_commit()
    return message


def reason(code: str | None, use: ReasonUse) -> ReasonCode:
    """A reason code of the right use, or a field error."""
    found = db.session.get(ReasonCode, code) if code else None
    if found is None or found.use != use or found.retired_at is not None:
        raise ValidationFailed(fields={"reason": [_("请选择一个有效的理由。")]})
    return found


def required_note(action: str, note: str | None, *, missing: str | None = None) -> str:
    """The stripped note of a decision that must say why; `missing` is the answer to none."""
    note = (note or "").strip()
    if not note and missing:
        raise ValidationFailed(fields={"note": [missing]})
    return workflow.validate_length(action, "note", note)


def optional_note(action: str, note: str | None) -> str:
    """The stripped note of a step that may carry one, within the step's limit."""
    return workflow.validate_length(action, "note", note)


def close_pending_requests(message: Message, actor: User | None, now: datetime, why: str) -> None:
    """Decline whatever request is pending: the step taken makes it moot."""
    for request in message.handling_requests:
        if request.state == RequestState.PENDING:
            request.state = RequestState.DECLINED
            request.decided_by = actor
            request.decided_at = now
            request.decision_note = why


def start_handling(message: Message, event: Event, now: datetime) -> None:
    """The clocks a unit gets on assignment or transfer: its return window and the answer clock."""
    petition = message.track == Track.PETITION
    first = PolicyName.PETITION_ACCEPTANCE if petition else clocks.reply_policy(message)
    clock = clocks.start_clock(message, first, local_date(now), now=now)
    clocks.start_clock(message, PolicyName.BOARD_RETURN, local_date(now), now=now)
    event.due_on = clock.due_on


def pending_request(message: Message) -> HandlingRequest | None:
    """The message's pending return or extension request, if any (at most one)."""
    return workflow.pending_request(message)
