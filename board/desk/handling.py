"""Use cases of the handling side: the office routes, decides requests, signs off, urges and
reopens; the unit accepts, returns, asks for time and answers. One transaction each."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from .. import workflow
from ..calendar import services as clocks
from ..clock import local_date
from ..deadlines import PolicyName
from ..errors import InvalidTransition, ValidationFailed
from ..extensions import db
from ..messages import events
from ..messages.events import (
    close_pending_requests,
    commit,
    hand_over,
    optional_note,
    publish_reply,
    record,
    required_note,
    start_handling,
    transition,
)
from ..models import (
    ClockState,
    HandlingRequest,
    Message,
    Outcome,
    ReasonCode,
    ReasonUse,
    Reply,
    ReplyState,
    RequestKind,
    RequestState,
    Track,
    Unit,
    User,
)
from ..search import outbox
from ..workflow import Action, awaiting_reply

# The office ----------------------------------------------------------------------------------


def assign_message(message: Message, unit: Unit, actor: User, *, now: datetime) -> Message:
    """Hand a received message to the unit that must answer it (交办)."""
    workflow.require_actor(Action.ASSIGN, actor, message)
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("请选择办理单位。")]})
    if not message.board.region.contains(unit.region):
        raise ValidationFailed(fields={"unit": [_("办理单位必须在该留言板的辖区内。")]})
    workflow.check(Action.ASSIGN, actor, message, now=now)
    event = transition(message, Action.ASSIGN, actor, now=now, note=unit.name)
    clocks.advance(message, event, now=now, close=(PolicyName.BOARD_ASSIGNMENT,))
    start_handling(message, event, now)  # the answer clock and the unit's return window
    message.unit = unit
    message.assigned_at = now
    outbox.enqueue(message)
    return commit(message)


def require_coordinator(message: Message, actor: User | None) -> None:
    """PermissionDenied unless `actor` coordinates the message's board (or is an admin)."""
    workflow.require_actor(Action.APPROVE_REQUEST, actor, message)


def get_request(message: Message, request_id: int | str | None) -> HandlingRequest:
    """The message's handling request with this id, or a field error on `request`."""
    try:
        wanted = int(request_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        wanted = None
    if wanted is not None and not 1 <= wanted <= 2**31 - 1:  # outside any id column
        wanted = None
    request = db.session.get(HandlingRequest, wanted) if wanted is not None else None
    if request is None or request.message_id != message.id:
        raise ValidationFailed(
            fields={"request": [_("这条留言没有编号为 %(id)s 的申请。", id=request_id)]}
        )
    return request


def _decide(request: HandlingRequest, actor: User, action: Action) -> Message:
    """The message of a request the actor may decide and that is still pending."""
    message = request.message
    workflow.require_actor(action, actor, message)
    if request.state != RequestState.PENDING:
        raise InvalidTransition(_("这项申请已经决定过了。"))
    return message


def _decided(request: HandlingRequest, actor: User, state: RequestState, note: str, now) -> None:
    request.state = state
    request.decided_by = actor
    request.decided_at = now
    request.decision_note = note


def approve_request(
    handling_request: HandlingRequest, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Approve a return (back to the coordinator's queue) or an extension (longer clock)."""
    message = _decide(handling_request, actor, Action.APPROVE_REQUEST)
    note = (note or "").strip()
    if handling_request.kind == RequestKind.RETURN:
        event = transition(
            message, Action.RETURN_APPROVED, actor, now=now, note=note or handling_request.note
        )
        event.is_public = False
        clocks.advance(
            message,
            event,
            now=now,
            close=None,
            start=PolicyName.BOARD_ASSIGNMENT,
            closed_state=ClockState.STOPPED,
        )
        for reply in message.replies:
            if reply.state == ReplyState.AWAITING_SIGNOFF:
                reply.state = ReplyState.DRAFT
        message.unit = None
        message.assigned_at = None
    else:
        workflow.require_state(Action.EXTEND, message)
        clock = clocks.open_clock(message, clocks.ANSWER_CLOCKS)
        if clock is None:
            raise InvalidTransition(_("没有正在计时的答复期限，无法延期。"))
        petition = message.track == Track.PETITION
        clocks.extend_clock(
            clock, PolicyName.PETITION_EXTENSION if petition else PolicyName.BOARD_EXTENSION
        )
        event = record(message, Action.EXTEND, actor, now=now, note=handling_request.note)
        event.due_on = clock.due_on
    _decided(handling_request, actor, RequestState.APPROVED, note, now)
    outbox.enqueue(message)
    return commit(message)


def decline_request(
    handling_request: HandlingRequest, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Decline a return or extension request, saying why; the message keeps its state."""
    message = _decide(handling_request, actor, Action.DECLINE_REQUEST)
    return_kind = handling_request.kind == RequestKind.RETURN
    action = Action.RETURN_DECLINED if return_kind else Action.EXTENSION_DECLINED
    workflow.require_state(action, message)
    note = required_note(
        Action.DECLINE_REQUEST, note, missing=_("不同意申请须说明理由，承办单位会看到。")
    )
    record(message, action, actor, now=now, note=note, is_public=False)
    _decided(handling_request, actor, RequestState.DECLINED, note, now)
    return commit(message)


def transfer_message(
    message: Message, unit: Unit, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Move the message to another unit (转办); the history stays, the clocks start again."""
    workflow.check(Action.TRANSFER, actor, message, now=now)
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("请选择办理单位。")]})
    if unit.id == message.unit_id:
        raise ValidationFailed(fields={"unit": [_("请选择另一个办理单位。")]})
    if not message.board.region.contains(unit.region):
        raise ValidationFailed(fields={"unit": [_("办理单位必须在该留言板的辖区内。")]})
    note = (note or "").strip()
    old = message.unit.name if message.unit else ""
    event = transition(
        message, Action.TRANSFER, actor, now=now, note=note or f"{old} → {unit.name}"
    )
    clocks.close_clocks(message, clocks.HANDLING_CLOCKS, now=now, state=ClockState.STOPPED)
    close_pending_requests(message, actor, now, _("已转办。"))
    for reply in message.replies:
        if reply.state == ReplyState.AWAITING_SIGNOFF:
            reply.state = ReplyState.DRAFT
    message.unit = unit
    message.assigned_at = now
    start_handling(message, event, now)
    outbox.enqueue(message)
    return commit(message)


def sign_off_reply(message: Message, actor: User, *, now: datetime) -> Message:
    """The coordinator signs off (签发) the awaiting reply: it is published and the clocks move."""
    workflow.check(Action.SIGN_OFF, actor, message, now=now)
    reply = awaiting_reply(message)
    event = transition(message, Action.SIGN_OFF, actor, now=now, note=reply.unit.name)
    clocks.advance(
        message, event, now=now, close=clocks.HANDLING_CLOCKS, start=PolicyName.RATING_WINDOW
    )
    if message.track == Track.PETITION:
        review = clocks.start_clock(
            message, PolicyName.PETITION_REVIEW_REQUEST, local_date(now), now=now
        )
        event.due_on = review.due_on
    reply.state = ReplyState.PUBLISHED
    reply.published_at = now
    message.replied_at = now
    close_pending_requests(message, actor, now, _("答复已签发。"))
    outbox.enqueue(message)
    return commit(message)


sign_off = sign_off_reply


def decline_sign_off(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Send the awaiting reply back to the unit for changes (退回修改)."""
    workflow.check(Action.DECLINE_SIGN_OFF, actor, message, now=now)
    note = required_note(Action.DECLINE_SIGN_OFF, note, missing=_("退回答复须写明需要修改的地方。"))
    awaiting_reply(message).state = ReplyState.DRAFT
    record(message, Action.DECLINE_SIGN_OFF, actor, now=now, note=note, is_public=False)
    return commit(message)


def urge_message(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Press the unit to answer (督办); a private event the unit is mailed about."""
    workflow.check(Action.URGE, actor, message, now=now)
    note = required_note(Action.URGE, note)
    record(message, Action.URGE, actor, now=now, note=note, is_public=False)
    return commit(message)


def reopen_message(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Order re-handling (重办) of a closed board message whose latest rating is dissatisfied."""
    workflow.check(Action.REOPEN, actor, message, now=now)
    note = required_note(Action.REOPEN, note)
    event = transition(message, Action.REOPEN, actor, now=now, note=note)
    clocks.advance(message, event, now=now, close=None, start=clocks.reply_policy(message))
    message.handling_round += 1
    message.closed_at = None
    outbox.enqueue(message)
    return commit(message)


# The unit ------------------------------------------------------------------------------------


def accept_message(message: Message, actor: User, *, now: datetime, note: str = "") -> Message:
    """The unit takes the message on (受理)."""
    workflow.check(Action.ACCEPT, actor, message, now=now)
    event = transition(message, Action.ACCEPT, actor, now=now, note=note)
    # Taking the message on ends the unit's right to return it.
    clocks.close_clocks(message, (PolicyName.BOARD_RETURN,), now=now, state=ClockState.STOPPED)
    if message.track == Track.PETITION:
        hand_over(
            message, event, PolicyName.PETITION_ACCEPTANCE, PolicyName.PETITION_HANDLING, now=now
        )
    outbox.enqueue(message)
    return commit(message)


def _checked_reason(
    action: Action, actor: User, message: Message, reason: str, *, now: datetime
) -> ReasonCode:
    """The registry's check of a unit's step, then the published reason code it gives (a
    not-accept or a return reason)."""
    workflow.check(action, actor, message, now=now)
    return events.reason(reason, ReasonUse(action.value))


def not_accept_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """The unit declines a petition with a legal reason (不予受理); the author may ask review."""
    reason_code = _checked_reason(Action.NOT_ACCEPT, actor, message, reason, now=now)
    note = (note or "").strip()
    event = transition(message, Action.NOT_ACCEPT, actor, now=now, note=note or reason_code.label)
    clocks.advance(message, event, now=now, close=None, start=PolicyName.PETITION_REVIEW_REQUEST)
    close_pending_requests(message, actor, now, _("已不予受理。"))
    outbox.enqueue(message)
    return commit(message)


def _file_request(
    message: Message,
    kind: RequestKind,
    actor: User,
    *,
    now: datetime,
    note: str,
    shown: str,
    reason: ReasonCode | None = None,
) -> Message:
    """A unit's return or extension request, pending the coordinator's decision: the request row
    and its private event (`shown` is the event's note), in one commit."""
    message.handling_requests.append(
        HandlingRequest(
            kind=kind,
            round=message.handling_round,
            reason_code=reason.code if reason is not None else None,
            note=note,
            requested_by=actor,
            requested_at=now,
            state=RequestState.PENDING,
        )
    )
    action = Action.RETURN if kind == RequestKind.RETURN else Action.EXTEND
    record(message, action, actor, now=now, note=shown, is_public=False)
    return commit(message)


def request_return(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """The unit asks to give the message back (退回) within 5 working days of assignment."""
    reason_code = _checked_reason(Action.RETURN, actor, message, reason, now=now)
    note = optional_note(Action.RETURN, note)
    text = reason_code.label + (f"：{note}" if note else "")
    return _file_request(
        message, RequestKind.RETURN, actor, now=now, note=note, shown=text, reason=reason_code
    )


def request_extension(message: Message, actor: User, *, reason: str, now: datetime) -> Message:
    """The unit asks for more time (延期), once per handling round; the coordinator decides.

    The request's event is `extend` too (private, by the handler); the approval's is a public
    `extend` by the coordinator.
    """
    workflow.check(Action.EXTEND, actor, message, now=now)
    reason = workflow.validate_length(Action.EXTEND, "reason", reason)
    return _file_request(message, RequestKind.EXTENSION, actor, now=now, note=reason, shown=reason)


def interim_reply(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """A published interim answer (阶段性答复); the message stays in handling."""
    workflow.check(Action.INTERIM, actor, message, now=now)
    body = workflow.validate_length(Action.INTERIM, "body", body)
    publish_reply(message, message.unit, actor, body, now=now, is_interim=True)
    record(message, Action.INTERIM, actor, now=now, note=message.unit.name)
    outbox.enqueue(message)
    return commit(message)


def reply_message(
    message: Message,
    actor: User,
    *,
    body: str,
    outcome: str | None = None,
    now: datetime,
) -> Message:
    """The unit drafts its answer and sends it for sign-off (签发); nothing is published yet.

    A draft the coordinator sent back is edited in place; at most one reply awaits sign-off.
    """
    workflow.check(Action.REPLY, actor, message, now=now)
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    workflow.check_length(errors, Action.REPLY, "body", body)
    if message.track == Track.PETITION and outcome not in Outcome.__members__.values():
        errors["outcome"] = [_("信访事项的答复须写明处理意见。")]
    if errors:
        raise ValidationFailed(fields=errors)
    outcome = outcome if message.track == Track.PETITION else None
    draft = next(
        (
            r
            for r in message.replies
            if r.state == ReplyState.DRAFT and r.unit_id == message.unit_id and not r.is_interim
        ),
        None,
    )
    if draft is None:
        message.replies.append(
            Reply(
                unit=message.unit,
                author=actor,
                body=body,
                outcome=outcome,
                state=ReplyState.AWAITING_SIGNOFF,
                created_at=now,
            )
        )
    else:
        draft.body, draft.outcome, draft.author = body, outcome, actor
        draft.state, draft.created_at = ReplyState.AWAITING_SIGNOFF, now
    record(message, Action.REPLY, actor, now=now, note=message.unit.name, is_public=False)
    return commit(message)
