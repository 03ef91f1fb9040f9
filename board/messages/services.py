"""The citizen's use cases of a message — submit, withdraw, rate, co-sign, follow up — and the
deadline tick that closes lapsed ones; each one transaction.

The rest of a message's life lives beside it: moderation decisions in `board.moderation.services`,
the handling side in `board.desk.handling`, petition review in `board.messages.review`, the
queries in `board.messages.queries`, the access rules in `board.workflow.access`. They are
imported here too, so `messages.services` stays the one door the API, the CLI, the demo data and
the tests call through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import workflow
from ..attachments import services as files
from ..calendar import services as clocks
from ..clock import local_date
from ..deadlines import PolicyName
from ..desk.handling import (
    accept_message,
    approve_request,
    assign_message,
    decline_request,
    decline_sign_off,
    get_request,
    interim_reply,
    not_accept_message,
    reopen_message,
    reply_message,
    request_extension,
    request_return,
    require_coordinator,
    sign_off,
    sign_off_reply,
    transfer_message,
    urge_message,
)
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    KINDS_BY_TRACK,
    Board,
    Clock,
    ClockState,
    Cosign,
    Domain,
    Kind,
    Message,
    Rating,
    Region,
    State,
    Track,
    User,
    Visibility,
)
from ..moderation.services import approve_message, hide_message, reject_message
from ..phones import normalize_cn_phone
from ..privacy import plain_text
from ..search import outbox
from ..workflow import Action
from ..workflow.access import (
    can_see_private_fields,
    can_view,
    is_board_coordinator,
    is_review_coordinator,
    is_unit_handler,
)
from .events import (
    CODE_ALPHABET,
    commit,
    get_message,
    new_code,
    pending_request,
    record,
    transition,
)
from .queries import (
    awaiting_signoff_query,
    coordinator_queue_query,
    dissatisfied_query,
    moderation_queue_query,
    my_messages_query,
    pending_requests_query,
    public_messages_query,
    reason_codes,
    review_queue_query,
    unit_desk_query,
    unit_queue_query,
    units_for_board,
    visible_messages_query,
)
from .review import (
    decide_rereview,
    decide_review,
    hold_hearing,
    refuse_repeat,
    request_rereview,
    request_review,
    review_unit_for,
)

TITLE_MAX = workflow.limit(Action.SUBMIT, "title").high
BODY_MIN, BODY_MAX = (
    workflow.limit(Action.SUBMIT, "body").low,
    workflow.limit(Action.SUBMIT, "body").high,
)
NOTE_MAX = workflow.limit(Action.SUBMIT, "private_note").high


class SubmissionKeyReused(ValidationFailed):
    """An Idempotency-Key already used for a different message."""

    code = "idempotency_key_reused"
    default = _l("这个 Idempotency-Key 已用于另一条内容不同的留言，请为新留言换一个。")


def submission_key(author: User, key: str) -> str:
    """What a message stores of its submission's key: bound to the author, fixed length."""
    return hashlib.sha256(f"{author.id}:{key}".encode()).hexdigest()


def find_submission(author: User, key: str | None, *, title: str, body: str) -> Message | None:
    """The message `author` already filed with this key, if any; the same key with different
    text is refused (a client bug that would otherwise lose the second message)."""
    if not key or author is None or not author.is_authenticated:
        return None
    found = db.session.scalar(
        select(Message).where(Message.submission_key == submission_key(author, key))
    )
    if found is not None and (found.title, found.body) != (plain_text(title), plain_text(body)):
        raise SubmissionKeyReused()
    return found


def invalid_phone_message() -> str:
    """The complaint about a petition phone that is not a Chinese phone number."""
    return _("联系电话须为有效的手机号码或带区号的固定电话（如 13912345678、0571-87654321）。")


def default_public(track: str, wants_public: bool | None) -> bool:
    """The author's choice, or the track's default: board messages public, petitions not."""
    if wants_public is None:
        return track != Track.PETITION
    return bool(wants_public)


def submit_message(
    author: User,
    *,
    board: Board,
    region: Region,
    track: str,
    kind: str,
    domain: str,
    title: str,
    body: str,
    private_note: str = "",
    wants_public: bool | None = None,
    real_name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    now: datetime,
    ip: str | None = None,
    source: str = "web",
    idempotency_key: str | None = None,
    attachments: Sequence[files.Prepared] = (),
    attachments_public: bool = False,
    topic_id: str | int | None = None,
) -> Message:
    """File a new message for moderation and give it a tracking code.

    Unless the author says (`wants_public`), a board message is published and a petition is
    not: a petition carries the petitioner's own affairs (DESIGN §7). With `idempotency_key`,
    filing again with the same key (a retry after a lost answer) returns the message filed the
    first time instead of a second one. `attachments` (checked uploads) are stored with the
    message in the same transaction: the message is filed with all of them or not at all.
    `topic_id` is the topic the author chose (optional), kept as chosen by the citizen."""
    from ..intel.models import TopicSource
    from ..intel.taxonomy import citizen_topic

    replayed = find_submission(author, idempotency_key, title=title, body=body)
    if replayed is not None:
        return replayed
    if author is None or not author.is_authenticated:
        raise PermissionDenied(_("请先登录再留言。"))
    errors: dict[str, list[str]] = {}
    title, body, private_note = plain_text(title), plain_text(body), plain_text(private_note)
    if track not in Track.__members__.values():
        errors["track"] = [_("请选择留言类型。")]
    elif kind not in KINDS_BY_TRACK[Track(track)]:
        errors["kind"] = [_("所选类别不属于该渠道。")]
    if domain not in Domain.__members__.values():
        errors["domain"] = [_("请选择领域。")]
    if not board.region.contains(region):
        errors["region"] = [_("问题发生地必须在“%(board)s”的辖区内。", board=board.label)]
    if not title:
        errors["title"] = [_("请填写标题。")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("标题不能超过 %(n)d 个字。", n=TITLE_MAX)]
    if len(body) < BODY_MIN:
        errors["body"] = [_("正文至少 10 个字，请把问题说清楚。")]
    elif len(body) > BODY_MAX:
        errors["body"] = [_("正文不能超过 %(n)d 个字。", n=BODY_MAX)]
    if len(private_note) > NOTE_MAX:
        errors["private_note"] = [_("备注不能超过 %(n)d 个字。", n=NOTE_MAX)]
    if track == Track.PETITION:
        real_name = (real_name or author.real_name or "").strip()
        phone = (phone or author.phone or "").strip()
        address = (address or author.address or "").strip()
        if not real_name:
            errors["real_name"] = [_("信访事项须填写真实姓名。")]
        if not phone:
            errors["phone"] = [_("信访事项须填写联系电话。")]
        elif (canonical := normalize_cn_phone(phone)) is None:
            errors["phone"] = [invalid_phone_message()]
        else:
            phone = canonical
        if not address:
            errors["address"] = [_("信访事项须填写住址。")]
    try:
        topic = citizen_topic(topic_id)
    except ValidationFailed as error:
        errors.update(error.fields)
    if errors:
        raise ValidationFailed(fields=errors)

    message = Message(
        code=new_code(now),
        track=track,
        kind=kind,
        domain=domain,
        board=board,
        region=region,
        region_path=region.path,
        title=title,
        body=body,
        private_note=private_note,
        wants_public=default_public(track, wants_public) and kind != Kind.REPORT,
        visibility=Visibility.PRIVATE,
        state=State.SUBMITTED,
        author=author,
        pen_name=author.pen_name,
        real_name=real_name if track == Track.PETITION else None,
        phone=phone if track == Track.PETITION else None,
        address=address if track == Track.PETITION else None,
        source=source,
        author_ip=ip,
        submission_key=submission_key(author, idempotency_key) if idempotency_key else None,
        created_at=now,
        updated_at=now,
        topic_id=topic.id if topic is not None else None,
        topic_source=TopicSource.CITIZEN.value if topic is not None else None,
    )
    db.session.add(message)
    if idempotency_key:
        try:
            db.session.flush()  # the unique key: a concurrent try with it waits or fails here
        except IntegrityError:
            # Two tries with one key at once: the other one filed it.
            db.session.rollback()
            replayed = find_submission(author, idempotency_key, title=title, body=body)
            if replayed is None:
                raise
            return replayed
    event = record(message, Action.SUBMIT, author, now=now, to_state=State.SUBMITTED)
    clocks.advance(message, event, now=now, start=PolicyName.BOARD_MODERATION)
    message.events[-1].from_state = None
    rows = []
    if attachments:
        db.session.flush()  # the attachments name the message by its id
        rows = files.attach(
            message, author, list(attachments), is_public=attachments_public, now=now, commit=False
        )
    try:
        return commit(message)
    except Exception:
        files.discard(rows)  # bytes written to disk for rows that were never committed
        raise


def require_withdrawable(message: Message, actor: User | None) -> None:
    """Refuse unless `actor` wrote the message and it is not yet assigned (checked before the
    confirmation page is shown, and again when withdrawing)."""
    workflow.require_actor(Action.WITHDRAW, actor, message)
    workflow.require_state(Action.WITHDRAW, message)


def withdraw_message(message: Message, actor: User, *, now: datetime) -> Message:
    """The author takes back a message that nobody has been assigned yet."""
    workflow.check(Action.WITHDRAW, actor, message, now=now)
    event = transition(message, Action.WITHDRAW, actor, now=now)
    clocks.advance(message, event, now=now, close=None, closed_state=ClockState.STOPPED)
    message.visibility = Visibility.PRIVATE
    outbox.enqueue(message)
    return commit(message)


# What the author is told for a score left out or out of range, naming the score (form and API).
SCORE_MISSING = {
    "resolution": _l("请为“解决程度”选择 1 到 5 星。"),
    "attitude": _l("请为“办理态度”选择 1 到 5 星。"),
    "speed": _l("请为“办理速度”选择 1 到 5 星。"),
}


def rate_message(
    message: Message,
    actor: User,
    *,
    resolution: int | None,
    attitude: int | None,
    speed: int | None,
    comment: str = "",
    now: datetime,
) -> Message:
    """The author scores the handling (1–5 each) within 30 days of the reply; this closes it."""
    workflow.require_actor(Action.RATE, actor, message)
    errors: dict[str, list[str]] = {}
    score = workflow.limit(Action.RATE, "score")
    for name, value in (("resolution", resolution), ("attitude", attitude), ("speed", speed)):
        if not isinstance(value, int) or isinstance(value, bool):
            errors[name] = [str(SCORE_MISSING[name])]
        elif not score.low <= value <= score.high:
            errors[name] = [str(SCORE_MISSING[name])]
    if len(comment or "") > workflow.limit(Action.RATE, "comment").high:
        errors["comment"] = [_("评价内容不能超过 500 字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    step = workflow.check(Action.RATE, actor, message, now=now)
    if step.target_for(message.track, message.state) == message.state:
        # A petition stays `replied`: the review request window is still running.
        event = record(message, Action.RATE, actor, now=now)
    else:
        event = transition(message, Action.RATE, actor, now=now)
        message.closed_at = now
    clocks.advance(message, event, now=now, close=(PolicyName.RATING_WINDOW,))
    message.ratings.append(
        Rating(
            round=message.handling_round,
            author_id=actor.id,
            resolution=resolution,
            attitude=attitude,
            speed=speed,
            comment=plain_text(comment),
            created_at=now,
        )
    )
    outbox.enqueue(message)
    return commit(message)


def cosign_message(message: Message, actor: User, *, now: datetime) -> Message:
    """Another citizen says "I have the same problem" (附议), once per person."""
    workflow.require_actor(Action.COSIGN, actor, message)
    if not message.is_public:
        raise NotFound()
    workflow.check(Action.COSIGN, actor, message, now=now)
    db.session.add(Cosign(message_id=message.id, user_id=actor.id, created_at=now))
    message.cosign_count = (message.cosign_count or 0) + 1
    message.updated_at = now
    outbox.enqueue(message)
    return commit(message)


def follow_up_message(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The author asks a follow-up question (追问) after a reply; the unit answers again."""
    workflow.check(Action.FOLLOW_UP, actor, message, now=now)
    body = workflow.validate_length(Action.FOLLOW_UP, "body", body)
    event = transition(message, Action.FOLLOW_UP, actor, now=now, note=body)
    clocks.close_clocks(message, (PolicyName.RATING_WINDOW,), now=now, state=ClockState.STOPPED)
    clocks.advance(message, event, now=now, close=(), start=PolicyName.BOARD_REPLY_SHORT)
    message.handling_round += 1
    outbox.enqueue(message)
    return commit(message)


# The system ----------------------------------------------------------------------------------


def close_lapsed_messages(now: datetime) -> int:
    """Close (办结) replied messages whose citizen window has lapsed; returns how many.

    Board track: the rating window; petition track: the review request window — each past the
    end of its due day in Asia/Shanghai. One transaction (and one `close` event) per message.
    """
    today = local_date(now)
    windows = (PolicyName.RATING_WINDOW, PolicyName.PETITION_REVIEW_REQUEST)
    lapsed = db.session.execute(
        select(Message.id, Message.track, Clock.policy)
        .join(Clock, Clock.message_id == Message.id)
        .where(
            Message.state == State.REPLIED,
            Clock.state == ClockState.OPEN,
            Clock.policy.in_(windows),
            Clock.due_on < today,
        )
        .order_by(Message.id)
    ).all()
    wanted = {
        message_id
        for message_id, track, policy in lapsed
        if (track == Track.PETITION) == (policy == PolicyName.PETITION_REVIEW_REQUEST)
    }
    closed = 0
    for message_id in sorted(wanted):
        message = db.session.get(Message, message_id)
        if message is None or message.state != State.REPLIED:
            continue
        event = transition(message, Action.CLOSE, None, now=now, note=_("期限届满，自动办结。"))
        clocks.advance(message, event, now=now, close=None, closed_state=ClockState.STOPPED)
        message.closed_at = now
        outbox.enqueue(message)
        commit(message)
        closed += 1
    return closed


__all__ = [
    "BODY_MAX",
    "CODE_ALPHABET",
    "NOTE_MAX",
    "SCORE_MISSING",
    "TITLE_MAX",
    "SubmissionKeyReused",
    "accept_message",
    "approve_message",
    "approve_request",
    "assign_message",
    "awaiting_signoff_query",
    "can_see_private_fields",
    "can_view",
    "close_lapsed_messages",
    "coordinator_queue_query",
    "cosign_message",
    "decide_rereview",
    "decide_review",
    "decline_request",
    "decline_sign_off",
    "default_public",
    "dissatisfied_query",
    "find_submission",
    "follow_up_message",
    "get_message",
    "get_request",
    "hide_message",
    "hold_hearing",
    "interim_reply",
    "invalid_phone_message",
    "is_board_coordinator",
    "is_review_coordinator",
    "is_unit_handler",
    "moderation_queue_query",
    "my_messages_query",
    "new_code",
    "not_accept_message",
    "pending_request",
    "pending_requests_query",
    "public_messages_query",
    "rate_message",
    "reason_codes",
    "refuse_repeat",
    "reject_message",
    "reopen_message",
    "reply_message",
    "request_extension",
    "request_rereview",
    "request_return",
    "request_review",
    "require_coordinator",
    "require_withdrawable",
    "review_queue_query",
    "review_unit_for",
    "sign_off",
    "sign_off_reply",
    "submission_key",
    "submit_message",
    "transfer_message",
    "unit_desk_query",
    "unit_queue_query",
    "units_for_board",
    "urge_message",
    "visible_messages_query",
    "withdraw_message",
]
