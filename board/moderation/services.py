"""Moderation decisions: pass, fail or hide a message — each one transaction under the
moderator's claim on the message (`locks`)."""

from __future__ import annotations

from datetime import datetime

from .. import workflow
from ..calendar import services as clocks
from ..deadlines import PolicyName
from ..messages import events
from ..messages.events import commit, hand_over, transition
from ..models import ClockState, Kind, Message, ReasonCode, ReasonUse, User, Visibility
from ..search import outbox
from ..workflow import Action
from . import locks


def _begin(
    action: Action, actor: User, message: Message, *, now: datetime, reason: str | None = None
) -> ReasonCode | None:
    """What every moderation decision starts with: the actor's role, the moderator's lock on the
    message, the published reason code a reject or hide gives (`reason`; its codes are those of
    the action's use), then the registry's check."""
    workflow.require_actor(action, actor, message)
    locks.claim_for_decision(message, actor, now=now)
    reason_code = None if reason is None else events.reason(reason, ReasonUse(action.value))
    workflow.check(action, actor, message, now=now)
    return reason_code


def approve_message(message: Message, actor: User, *, now: datetime, note: str = "") -> Message:
    """Pass moderation: the message is received, and published if its author wished."""
    _begin(Action.APPROVE, actor, message, now=now)
    event = transition(message, Action.APPROVE, actor, now=now, note=note)
    hand_over(message, event, PolicyName.BOARD_MODERATION, PolicyName.BOARD_ASSIGNMENT, now=now)
    if message.wants_public and message.kind != Kind.REPORT:
        message.visibility = Visibility.PUBLIC
        message.published_at = now
    outbox.enqueue(message)
    return commit(message)


def reject_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """Fail moderation with a published reason code; only the author sees the outcome."""
    reason_code = _begin(Action.REJECT, actor, message, now=now, reason=reason or "")
    event = transition(
        message, Action.REJECT, actor, now=now, note=note or reason_code.label, is_public=False
    )
    clocks.advance(message, event, now=now, close=None, closed_state=ClockState.STOPPED)
    message.rejection_reason = reason_code.code
    return commit(message)


def hide_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """Take published content off the public board with a reason; the page says it was removed."""
    reason_code = _begin(Action.HIDE, actor, message, now=now, reason=reason or "")
    transition(message, Action.HIDE, actor, now=now, note=note or reason_code.label)
    message.is_hidden = True
    message.hidden_reason = reason_code.code
    outbox.enqueue(message)
    return commit(message)
