"""Use cases of a message's life: submit, screen, assign, reply, rate — each one transaction."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..calendar import services as clocks
from ..clock import local_date
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    KINDS_BY_TRACK,
    PUBLIC_STATES,
    TRANSITIONS,
    UNIT_QUEUE,
    Board,
    Clock,
    ClockState,
    Cosign,
    Domain,
    Event,
    HandlingRequest,
    Kind,
    Message,
    Outcome,
    Post,
    Rating,
    ReasonCode,
    ReasonUse,
    Region,
    Reply,
    ReplyState,
    RequestKind,
    RequestState,
    Role,
    State,
    Track,
    Unit,
    User,
    Visibility,
)
from ..moderation import locks
from ..notify import services as notify
from ..phones import normalize_cn_phone
from ..search import outbox

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read aloud
RATING_WINDOW = timedelta(days=30)
TITLE_MAX, BODY_MAX, NOTE_MAX = 40, 5000, 500


# ---------------------------------------------------------------------------------------------
# Helpers shared by the services


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


def is_board_coordinator(user: User | None, board: Board) -> bool:
    """Coordinators act for the boards whose office is their unit."""
    return bool(
        user
        and user.role == Role.COORDINATOR
        and user.unit_id is not None
        and user.unit_id == board.office_unit_id
    )


def is_unit_handler(user: User | None, message: Message) -> bool:
    """Handlers act on messages assigned to their own unit."""
    return bool(
        user
        and user.role == Role.HANDLER
        and user.unit_id is not None
        and user.unit_id == message.unit_id
    )


def can_view(user: User | None, message: Message) -> bool:
    """Public messages are for everyone; others for the author and the staff handling them."""
    if message.is_public:
        return True
    if user is None or not user.is_authenticated:
        return False
    if message.author_id == user.id:
        return True
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    if is_board_coordinator(user, message.board):
        return True
    if is_review_coordinator(user, message):
        return True
    return is_unit_handler(user, message)


def can_see_private_fields(user: User | None, message: Message) -> bool:
    """The private note and the petitioner's identity: the author and the handling side only.

    A 检举控告 report is routed with the reporter's identity withheld: only the author,
    moderators and admins see it — neither the coordinator nor the unit it may accuse.
    """
    if user is None or not user.is_authenticated:
        return False
    if message.author_id == user.id or user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    if message.kind == Kind.REPORT:
        return False
    if is_board_coordinator(user, message.board):
        return True
    return is_unit_handler(user, message)


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
    """Check the transitions table for `action` and apply it with its event."""
    allowed, target = TRANSITIONS[action]
    if message.state not in allowed:
        raise InvalidTransition(
            _(
                "留言处于“%(state)s”状态，不能执行此操作。",
                state=message.public_state_label,
            )
        )
    return record(message, action, actor, now=now, to_state=target, note=note, is_public=is_public)


def _commit(message: Message) -> Message:
    """Commit the service's transaction, then let the search index catch up."""
    notify.queue_event_mail()  # mails of the new events, in the same transaction (DESIGN §8)
    db.session.commit()
    outbox.apply_after_commit()
    return message


def _reason(code: str | None, use: ReasonUse) -> ReasonCode:
    """A reason code of the right use, or a field error."""
    reason = db.session.get(ReasonCode, code) if code else None
    if reason is None or reason.use != use or reason.retired_at is not None:
        raise ValidationFailed(fields={"reason": [_("请选择一个有效的理由。")]})
    return reason


# ---------------------------------------------------------------------------------------------
# Citizens


class SubmissionKeyReused(ValidationFailed):
    """An Idempotency-Key already used for a different message."""

    code = "idempotency_key_reused"

    def default_message(self) -> str:
        """Text used when the raiser gave none."""
        return _("这个 Idempotency-Key 已用于另一条内容不同的留言，请为新留言换一个。")


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
    if found is not None and (found.title, found.body) != (
        (title or "").strip(),
        (body or "").strip(),
    ):
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
) -> Message:
    """File a new message for moderation and give it a tracking code.

    Unless the author says (`wants_public`), a board message is published and a petition is
    not: a petition carries the petitioner's own affairs (DESIGN §7). With `idempotency_key`,
    filing again with the same key (a retry after a lost answer) returns the message filed the
    first time instead of a second one."""
    replayed = find_submission(author, idempotency_key, title=title, body=body)
    if replayed is not None:
        return replayed
    if author is None or not author.is_authenticated:
        raise PermissionDenied(_("请先登录再留言。"))
    errors: dict[str, list[str]] = {}
    title, body, private_note = (title or "").strip(), (body or "").strip(), (private_note or "")
    private_note = private_note.strip()
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
    if len(body) < 10:
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
    event = record(message, "submit", author, now=now, to_state=State.SUBMITTED)
    clocks.advance(message, event, now=now, start="board_moderation")
    message.events[-1].from_state = None
    return _commit(message)


def require_withdrawable(message: Message, actor: User | None) -> None:
    """Refuse unless `actor` wrote the message and it is not yet assigned (checked before the
    confirmation page is shown, and again when withdrawing)."""
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(_("只有留言人本人可以撤回。"))
    _require_state(message, "withdraw")


def withdraw_message(message: Message, actor: User, *, now: datetime) -> Message:
    """The author takes back a message that nobody has been assigned yet."""
    require_withdrawable(message, actor)
    event = transition(message, "withdraw", actor, now=now)
    clocks.advance(message, event, now=now, close=None, closed_state="stopped")
    message.visibility = Visibility.PRIVATE
    outbox.enqueue(message)
    return _commit(message)


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
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(_("只有留言人本人可以评价。"))
    errors = {}
    for name, value in (("resolution", resolution), ("attitude", attitude), ("speed", speed)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[name] = [str(SCORE_MISSING[name])]
    if len(comment or "") > 500:
        errors["comment"] = [_("评价内容不能超过 500 字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    _require_state(message, "rate")
    if any(r.round == message.handling_round for r in message.ratings):
        raise InvalidTransition(_("这一轮答复您已经评价过了。"))
    window = clocks.open_clock(message, ("rating_window",))
    if window is not None:
        if not _within(window, now):
            raise InvalidTransition(_("答复已超过 30 天，评价期已过。"))
    elif message.replied_at is None or now > message.replied_at + RATING_WINDOW:
        raise InvalidTransition(_("答复已超过 30 天，评价期已过。"))
    if message.track == Track.PETITION:
        # A petition stays `replied`: the review request window is still running.
        event = record(message, "rate", actor, now=now)
    else:
        event = transition(message, "rate", actor, now=now)
        message.closed_at = now
    clocks.advance(message, event, now=now, close=("rating_window",))
    message.ratings.append(
        Rating(
            round=message.handling_round,
            author_id=actor.id,
            resolution=resolution,
            attitude=attitude,
            speed=speed,
            comment=(comment or "").strip(),
            created_at=now,
        )
    )
    outbox.enqueue(message)
    return _commit(message)


def cosign_message(message: Message, actor: User, *, now: datetime) -> Message:
    """Another citizen says "I have the same problem" (附议), once per person."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("请先登录再附议。"))
    if not message.is_public:
        raise NotFound()
    if message.author_id == actor.id:
        raise InvalidTransition(_("不能附议自己的留言。"))
    exists = db.session.scalar(
        select(Cosign.id).where(Cosign.message_id == message.id, Cosign.user_id == actor.id)
    )
    if exists:
        raise InvalidTransition(_("您已经附议过这条留言。"))
    db.session.add(Cosign(message_id=message.id, user_id=actor.id, created_at=now))
    message.cosign_count = (message.cosign_count or 0) + 1
    message.updated_at = now
    outbox.enqueue(message)
    return _commit(message)


# ---------------------------------------------------------------------------------------------
# Moderators


def approve_message(message: Message, actor: User, *, now: datetime, note: str = "") -> Message:
    """Pass moderation: the message is received, and published if its author wished."""
    if actor is None or actor.role not in (Role.MODERATOR, Role.ADMIN):
        raise PermissionDenied()
    locks.claim_for_decision(message, actor, now=now)
    event = transition(message, "approve", actor, now=now, note=note)
    clocks.advance(message, event, now=now, close=("board_moderation",), start="board_assignment")
    if message.wants_public and message.kind != Kind.REPORT:
        message.visibility = Visibility.PUBLIC
        message.published_at = now
    outbox.enqueue(message)
    return _commit(message)


def reject_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """Fail moderation with a published reason code; only the author sees the outcome."""
    if actor is None or actor.role not in (Role.MODERATOR, Role.ADMIN):
        raise PermissionDenied()
    locks.claim_for_decision(message, actor, now=now)
    reason_code = _reason(reason, ReasonUse.REJECT)
    event = transition(
        message, "reject", actor, now=now, note=note or reason_code.label, is_public=False
    )
    clocks.advance(message, event, now=now, close=None, closed_state="stopped")
    message.rejection_reason = reason_code.code
    return _commit(message)


def hide_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """Take published content off the public board with a reason; the page says it was removed."""
    if actor is None or actor.role not in (Role.MODERATOR, Role.ADMIN):
        raise PermissionDenied()
    locks.claim_for_decision(message, actor, now=now)
    reason_code = _reason(reason, ReasonUse.HIDE)
    if message.is_hidden:
        raise InvalidTransition(_("这条留言已被隐藏。"))
    transition(message, "hide", actor, now=now, note=note or reason_code.label)
    message.is_hidden = True
    message.hidden_reason = reason_code.code
    outbox.enqueue(message)
    return _commit(message)


# ---------------------------------------------------------------------------------------------
# Coordinators and handlers


def assign_message(message: Message, unit: Unit, actor: User, *, now: datetime) -> Message:
    """Hand a received message to the unit that must answer it (交办)."""
    if actor is None or not (
        actor.role == Role.ADMIN or is_board_coordinator(actor, message.board)
    ):
        raise PermissionDenied(_("只有该留言板的交办员可以交办。"))
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("请选择办理单位。")]})
    if not message.board.region.contains(unit.region):
        raise ValidationFailed(fields={"unit": [_("办理单位必须在该留言板的辖区内。")]})
    event = transition(message, "assign", actor, now=now, note=unit.name)
    clocks.advance(message, event, now=now, close=("board_assignment",))
    _start_handling(message, event, now)  # the answer clock and the unit's return window
    message.unit = unit
    message.assigned_at = now
    outbox.enqueue(message)
    return _commit(message)


def accept_message(message: Message, actor: User, *, now: datetime, note: str = "") -> Message:
    """The unit takes the message on (受理)."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以受理。"))
    event = transition(message, "accept", actor, now=now, note=note)
    # Taking the message on ends the unit's right to return it.
    clocks.close_clocks(message, ("board_return",), now=now, state=ClockState.STOPPED)
    if message.track == Track.PETITION:
        clocks.advance(
            message, event, now=now, close=("petition_acceptance",), start="petition_handling"
        )
    outbox.enqueue(message)
    return _commit(message)


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
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以答复。"))
    _require_state(message, "reply")
    if _awaiting_reply(message) is not None:
        raise InvalidTransition(_("已有一份答复等待签发，请等交办员签发或退回修改。"))
    body = (body or "").strip()
    errors = {}
    _check_length(errors, "body", body, 10, 10000, _("答复"))
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
    record(message, "reply", actor, now=now, note=message.unit.name, is_public=False)
    return _commit(message)


# ---------------------------------------------------------------------------------------------
# The complete workflow (WORKFLOW.md): handling requests, sign-off, follow-up, review


def _is_admin(user: User | None) -> bool:
    return bool(user and user.role == Role.ADMIN)


def _coordinates(user: User | None, message: Message) -> bool:
    """The board's coordinator, or an admin (who may do everything a coordinator does)."""
    return _is_admin(user) or is_board_coordinator(user, message.board)


def is_review_coordinator(user: User | None, message: Message) -> bool:
    """A coordinator of the unit that decides the message's review or re-review."""
    return bool(
        user
        and user.role == Role.COORDINATOR
        and user.unit_id is not None
        and user.unit_id == message.review_unit_id
    )


def _require_state(message: Message, action: str) -> None:
    """InvalidTransition unless TRANSITIONS lets `action` start from the message's state."""
    allowed, _target = TRANSITIONS[action]
    if message.state not in allowed:
        raise InvalidTransition(
            _(
                "留言处于“%(state)s”状态，不能执行此操作。",
                state=message.public_state_label,
            )
        )


def _require_track(message: Message, track: Track) -> None:
    if message.track != track:
        if track == Track.PETITION:
            raise InvalidTransition(_("此操作只适用于信访事项。"))
        raise InvalidTransition(_("此操作只适用于领导留言板的留言。"))


def _check_length(
    errors: dict[str, list[str]], name: str, value: str, low: int, high: int, label: str
) -> None:
    if len(value) < low:
        errors[name] = [_("%(label)s至少 %(n)d 个字。", label=label, n=low)]
    elif len(value) > high:
        errors[name] = [_("%(label)s不能超过 %(n)d 个字。", label=label, n=high)]


def _required_note(
    note: str | None, *, field: str = "note", high: int = 2000, missing: str | None = None
) -> str:
    """The stripped note of a decision that must say why; `missing` is the answer to none."""
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not note and missing:
        raise ValidationFailed(fields={field: [missing]})
    _check_length(errors, field, note, 1, high, _("说明"))
    if errors:
        raise ValidationFailed(fields=errors)
    return note


def _awaiting_reply(message: Message) -> Reply | None:
    return next((r for r in message.replies if r.state == ReplyState.AWAITING_SIGNOFF), None)


def _pending_request(message: Message) -> HandlingRequest | None:
    return next((r for r in message.handling_requests if r.state == RequestState.PENDING), None)


def pending_request(message: Message) -> HandlingRequest | None:
    """The message's pending return or extension request, if any (at most one)."""
    return _pending_request(message)


def _close_pending_requests(message: Message, actor: User | None, now: datetime, why: str) -> None:
    for request in message.handling_requests:
        if request.state == RequestState.PENDING:
            request.state = RequestState.DECLINED
            request.decided_by = actor
            request.decided_at = now
            request.decision_note = why


def _within(clock: Clock | None, now: datetime) -> bool:
    """True while an open clock's due day has not ended (Asia/Shanghai)."""
    return clock is not None and local_date(now) <= clock.due_on


def _outcome_errors(outcome: str | None) -> dict[str, list[str]]:
    if outcome not in Outcome.__members__.values():
        return {"outcome": [_("请选择处理意见：予以支持、解释说明或不予支持。")]}
    return {}


def _start_handling(message: Message, event: Event, now: datetime) -> None:
    """The clocks a unit gets on assignment or transfer: its return window and the answer clock."""
    petition = message.track == Track.PETITION
    first = "petition_acceptance" if petition else clocks.reply_policy(message)
    clock = clocks.start_clock(message, first, local_date(now), now=now)
    clocks.start_clock(message, "board_return", local_date(now), now=now)
    event.due_on = clock.due_on


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


# Handlers ------------------------------------------------------------------------------------


def not_accept_message(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """The unit declines a petition with a legal reason (不予受理); the author may ask review."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以决定不予受理。"))
    _require_track(message, Track.PETITION)
    _require_state(message, "not_accept")
    reason_code = _reason(reason, ReasonUse.NOT_ACCEPT)
    note = (note or "").strip()
    event = transition(message, "not_accept", actor, now=now, note=note or reason_code.label)
    clocks.advance(message, event, now=now, close=None, start="petition_review_request")
    _close_pending_requests(message, actor, now, _("已不予受理。"))
    outbox.enqueue(message)
    return _commit(message)


def request_return(
    message: Message, actor: User, *, reason: str, note: str = "", now: datetime
) -> Message:
    """The unit asks to give the message back (退回) within 5 working days of assignment."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以申请退回。"))
    _require_state(message, "return")
    if not _within(clocks.open_clock(message, ("board_return",)), now):
        raise InvalidTransition(_("退回申请须在交办后 5 个工作日内提出，期限已过。"))
    if _pending_request(message) is not None:
        raise InvalidTransition(_("已有一项申请在等待交办员决定。"))
    reason_code = _reason(reason, ReasonUse.RETURN)
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed(fields={"note": [_("说明不能超过 2000 字。")]})
    message.handling_requests.append(
        HandlingRequest(
            kind=RequestKind.RETURN,
            round=message.handling_round,
            reason_code=reason_code.code,
            note=note,
            requested_by=actor,
            requested_at=now,
            state=RequestState.PENDING,
        )
    )
    text = reason_code.label + (f"：{note}" if note else "")
    record(message, "return", actor, now=now, note=text, is_public=False)
    return _commit(message)


def request_extension(message: Message, actor: User, *, reason: str, now: datetime) -> Message:
    """The unit asks for more time (延期), once per handling round; the coordinator decides.

    The request's event is `extend` too (private, by the handler); the approval's is a public
    `extend` by the coordinator.
    """
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以申请延期。"))
    _require_state(message, "extend")
    if _pending_request(message) is not None:
        raise InvalidTransition(_("已有一项申请在等待交办员决定。"))
    if any(
        r.kind == RequestKind.EXTENSION
        and r.state == RequestState.APPROVED
        and r.round == message.handling_round
        for r in message.handling_requests
    ):
        raise InvalidTransition(_("本轮办理已经延期过一次，不能再次延期。"))
    if clocks.open_clock(message, clocks.ANSWER_CLOCKS) is None:
        raise InvalidTransition(_("没有正在计时的答复期限，无需延期。"))
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    _check_length(errors, "reason", reason, 5, 2000, _("延期理由"))
    if errors:
        raise ValidationFailed(fields=errors)
    message.handling_requests.append(
        HandlingRequest(
            kind=RequestKind.EXTENSION,
            round=message.handling_round,
            note=reason,
            requested_by=actor,
            requested_at=now,
            state=RequestState.PENDING,
        )
    )
    record(message, "extend", actor, now=now, note=reason, is_public=False)
    return _commit(message)


def interim_reply(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """A published interim answer (阶段性答复); the message stays in handling."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以发布阶段性答复。"))
    _require_state(message, "interim")
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    _check_length(errors, "body", body, 10, 10000, _("阶段性答复"))
    if errors:
        raise ValidationFailed(fields=errors)
    message.replies.append(
        Reply(
            unit=message.unit,
            author=actor,
            body=body,
            is_interim=True,
            state=ReplyState.PUBLISHED,
            created_at=now,
            published_at=now,
        )
    )
    record(message, "interim", actor, now=now, note=message.unit.name)
    outbox.enqueue(message)
    return _commit(message)


# Coordinators --------------------------------------------------------------------------------


def require_coordinator(message: Message, actor: User | None) -> None:
    """PermissionDenied unless `actor` coordinates the message's board (or is an admin)."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以决定申请。"))


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


def _decide(request: HandlingRequest, actor: User) -> Message:
    message = request.message
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以决定申请。"))
    if request.state != RequestState.PENDING:
        raise InvalidTransition(_("这项申请已经决定过了。"))
    return message


def approve_request(
    handling_request: HandlingRequest, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Approve a return (back to the coordinator's queue) or an extension (longer clock)."""
    message = _decide(handling_request, actor)
    note = (note or "").strip()
    if handling_request.kind == RequestKind.RETURN:
        event = transition(
            message, "return_approved", actor, now=now, note=note or handling_request.note
        )
        event.is_public = False
        clocks.advance(
            message,
            event,
            now=now,
            close=None,
            start="board_assignment",
            closed_state=ClockState.STOPPED,
        )
        for reply in message.replies:
            if reply.state == ReplyState.AWAITING_SIGNOFF:
                reply.state = ReplyState.DRAFT
        message.unit = None
        message.assigned_at = None
    else:
        _require_state(message, "extend")
        clock = clocks.open_clock(message, clocks.ANSWER_CLOCKS)
        if clock is None:
            raise InvalidTransition(_("没有正在计时的答复期限，无法延期。"))
        policy = "petition_extension" if message.track == Track.PETITION else "board_extension"
        clocks.extend_clock(clock, policy)
        event = record(message, "extend", actor, now=now, note=handling_request.note)
        event.due_on = clock.due_on
    handling_request.state = RequestState.APPROVED
    handling_request.decided_by = actor
    handling_request.decided_at = now
    handling_request.decision_note = note
    outbox.enqueue(message)
    return _commit(message)


def decline_request(
    handling_request: HandlingRequest, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Decline a return or extension request, saying why; the message keeps its state."""
    message = _decide(handling_request, actor)
    action = (
        "return_declined" if handling_request.kind == RequestKind.RETURN else "extension_declined"
    )
    _require_state(message, action)
    note = _required_note(note, missing=_("不同意申请须说明理由，承办单位会看到。"))
    record(message, action, actor, now=now, note=note, is_public=False)
    handling_request.state = RequestState.DECLINED
    handling_request.decided_by = actor
    handling_request.decided_at = now
    handling_request.decision_note = note
    return _commit(message)


def transfer_message(
    message: Message, unit: Unit, actor: User, *, note: str = "", now: datetime
) -> Message:
    """Move the message to another unit (转办); the history stays, the clocks start again."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以转办。"))
    _require_state(message, "transfer")
    if unit is None:
        raise ValidationFailed(fields={"unit": [_("请选择办理单位。")]})
    if unit.id == message.unit_id:
        raise ValidationFailed(fields={"unit": [_("请选择另一个办理单位。")]})
    if not message.board.region.contains(unit.region):
        raise ValidationFailed(fields={"unit": [_("办理单位必须在该留言板的辖区内。")]})
    note = (note or "").strip()
    old = message.unit.name if message.unit else ""
    event = transition(message, "transfer", actor, now=now, note=note or f"{old} → {unit.name}")
    clocks.close_clocks(message, clocks.HANDLING_CLOCKS, now=now, state=ClockState.STOPPED)
    _close_pending_requests(message, actor, now, _("已转办。"))
    for reply in message.replies:
        if reply.state == ReplyState.AWAITING_SIGNOFF:
            reply.state = ReplyState.DRAFT
    message.unit = unit
    message.assigned_at = now
    _start_handling(message, event, now)
    outbox.enqueue(message)
    return _commit(message)


def sign_off_reply(message: Message, actor: User, *, now: datetime) -> Message:
    """The coordinator signs off (签发) the awaiting reply: it is published and the clocks move."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以签发答复。"))
    _require_state(message, "sign_off")
    reply = _awaiting_reply(message)
    if reply is None:
        raise InvalidTransition(_("没有等待签发的答复。"))
    event = transition(message, "sign_off", actor, now=now, note=reply.unit.name)
    clocks.advance(message, event, now=now, close=clocks.HANDLING_CLOCKS, start="rating_window")
    if message.track == Track.PETITION:
        review = clocks.start_clock(message, "petition_review_request", local_date(now), now=now)
        event.due_on = review.due_on
    reply.state = ReplyState.PUBLISHED
    reply.published_at = now
    message.replied_at = now
    _close_pending_requests(message, actor, now, _("答复已签发。"))
    outbox.enqueue(message)
    return _commit(message)


sign_off = sign_off_reply


def decline_sign_off(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Send the awaiting reply back to the unit for changes (退回修改)."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以退回答复。"))
    _require_state(message, "decline_sign_off")
    reply = _awaiting_reply(message)
    if reply is None:
        raise InvalidTransition(_("没有等待签发的答复。"))
    note = _required_note(note, missing=_("退回答复须写明需要修改的地方。"))
    reply.state = ReplyState.DRAFT
    record(message, "decline_sign_off", actor, now=now, note=note, is_public=False)
    return _commit(message)


def urge_message(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Press the unit to answer (督办); a private event the unit is mailed about."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以督办。"))
    _require_state(message, "urge")
    note = _required_note(note)
    record(message, "urge", actor, now=now, note=note, is_public=False)
    return _commit(message)


def reopen_message(message: Message, actor: User, *, note: str, now: datetime) -> Message:
    """Order re-handling (重办) of a closed board message whose latest rating is dissatisfied."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以决定重办。"))
    _require_track(message, Track.BOARD)
    _require_state(message, "reopen")
    rating = message.rating
    if rating is None or not rating.is_dissatisfied:
        raise InvalidTransition(_("只有留言人评价为不满意的留言才能重办。"))
    if any(e.action == "reopen" for e in message.events):
        raise InvalidTransition(_("这条留言已经重办过一次。"))
    if message.unit is None:
        raise InvalidTransition(_("这条留言没有办理单位，无法重办。"))
    note = _required_note(note)
    event = transition(message, "reopen", actor, now=now, note=note)
    clocks.advance(message, event, now=now, close=None, start=clocks.reply_policy(message))
    message.handling_round += 1
    message.closed_at = None
    outbox.enqueue(message)
    return _commit(message)


def refuse_repeat(message: Message, actor: User, *, earlier: str, now: datetime) -> Message:
    """Refuse a petition repeating a re-reviewed one of the same author (不再受理)."""
    if not _coordinates(actor, message):
        raise PermissionDenied(_("只有该留言板的交办员可以决定不再受理。"))
    _require_track(message, Track.PETITION)
    _require_state(message, "refuse_repeat")
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
        "refuse_repeat",
        actor,
        now=now,
        note=_("同一事项已于 %(code)s 复核终结，不再受理。", code=found.code),
    )
    clocks.advance(message, event, now=now, close=None)
    outbox.enqueue(message)
    return _commit(message)


# Review bodies -------------------------------------------------------------------------------


def _decide_review_step(
    message: Message,
    actor: User,
    action: str,
    *,
    body: str,
    outcome: str | None,
    now: datetime,
    close: str,
    start: str | None,
) -> Message:
    if not (_is_admin(actor) or is_review_coordinator(actor, message)):
        raise PermissionDenied(_("只有复查（复核）机关的交办员可以作出意见。"))
    _require_state(message, action)
    body = (body or "").strip()
    errors = _outcome_errors(outcome)
    _check_length(errors, "body", body, 10, 10000, _("意见"))
    if errors:
        raise ValidationFailed(fields=errors)
    unit = message.review_unit
    if unit is None:
        raise InvalidTransition(_("这条信访事项没有复查（复核）机关。"))
    event = transition(message, action, actor, now=now, note=unit.name)
    clocks.advance(message, event, now=now, close=(close,), start=start)
    message.replies.append(
        Reply(
            unit=unit,
            author=actor,
            body=body,
            outcome=outcome,
            state=ReplyState.PUBLISHED,
            created_at=now,
            published_at=now,
        )
    )
    outbox.enqueue(message)
    return _commit(message)


def decide_review(
    message: Message, actor: User, *, body: str, outcome: str, now: datetime
) -> Message:
    """The review body publishes its review opinion (复查意见)."""
    return _decide_review_step(
        message,
        actor,
        "decide_review",
        body=body,
        outcome=outcome,
        now=now,
        close="petition_review",
        start="petition_rereview_request",
    )


def decide_rereview(
    message: Message, actor: User, *, body: str, outcome: str, now: datetime
) -> Message:
    """The re-review body publishes its final opinion (复核意见, 终结)."""
    message = _decide_review_step(
        message,
        actor,
        "decide_rereview",
        body=body,
        outcome=outcome,
        now=now,
        close="petition_rereview",
        start=None,
    )
    return message


def hold_hearing(
    message: Message, actor: User, *, days: int, note: str = "", now: datetime
) -> Message:
    """A hearing (听证) in a re-review: its days do not count against the re-review clock."""
    if not (_is_admin(actor) or is_review_coordinator(actor, message)):
        raise PermissionDenied(_("只有复核机关的交办员可以组织听证。"))
    _require_state(message, "hearing")
    clock = clocks.open_clock(message, ("petition_rereview",))
    if clock is None:
        raise InvalidTransition(_("没有正在计时的复核期限。"))
    if (
        isinstance(days, bool)
        or not isinstance(days, int)
        or days < 1
        or (clock.hearing_days or 0) + days > clocks.MAX_HEARING_DAYS
    ):
        raise ValidationFailed(
            fields={"days": [_("听证时间须为 1 到 60 日（合计不超过 60 日）。")]}
        )
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed(fields={"note": [_("说明不能超过 2000 字。")]})
    clocks.add_hearing_days(clock, days)
    event = record(
        message,
        "hearing",
        actor,
        now=now,
        note=note or _("组织听证，听证时间 %(days)d 日不计入复核期限。", days=days),
    )
    event.due_on = clock.due_on
    return _commit(message)


# Authors -------------------------------------------------------------------------------------


def follow_up_message(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The author asks a follow-up question (追问) after a reply; the unit answers again."""
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(_("只有留言人本人可以追问。"))
    _require_track(message, Track.BOARD)
    _require_state(message, "follow_up")
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    _check_length(errors, "body", body, 10, 500, _("追问"))
    if errors:
        raise ValidationFailed(fields=errors)
    if message.unit is None:
        raise InvalidTransition(_("这条留言没有办理单位，无法追问。"))
    event = transition(message, "follow_up", actor, now=now, note=body)
    clocks.close_clocks(message, ("rating_window",), now=now, state=ClockState.STOPPED)
    clocks.advance(message, event, now=now, close=(), start="board_reply_short")
    message.handling_round += 1
    outbox.enqueue(message)
    return _commit(message)


def _petitioner_asks(
    message: Message,
    actor: User,
    action: str,
    window: str,
    body: str,
    *,
    who: str,
    late: str,
    label: str,
    now: datetime,
) -> str:
    """The checks a review or re-review request shares; returns the stripped reasons."""
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(who)
    _require_track(message, Track.PETITION)
    _require_state(message, action)
    if not _within(clocks.open_clock(message, (window,)), now):
        raise InvalidTransition(late)
    body = (body or "").strip()
    errors: dict[str, list[str]] = {}
    _check_length(errors, "body", body, 10, 5000, label)
    if errors:
        raise ValidationFailed(fields=errors)
    return body


def request_review(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The petitioner asks the body one level up to review (复查) within 30 days."""
    body = _petitioner_asks(
        message,
        actor,
        "request_review",
        "petition_review_request",
        body,
        who=_("只有信访人本人可以申请复查。"),
        late=_("申请复查的期限（30 日）已过。"),
        label=_("复查理由"),
        now=now,
    )
    unit = review_unit_for(message)
    event = transition(message, "request_review", actor, now=now, note=body)
    clocks.close_clocks(message, ("rating_window",), now=now, state=ClockState.STOPPED)
    clocks.advance(
        message, event, now=now, close=("petition_review_request",), start="petition_review"
    )
    message.review_unit = unit
    outbox.enqueue(message)
    return _commit(message)


def request_rereview(message: Message, actor: User, *, body: str, now: datetime) -> Message:
    """The petitioner asks for a re-review (复核) one level above the review body."""
    body = _petitioner_asks(
        message,
        actor,
        "request_rereview",
        "petition_rereview_request",
        body,
        who=_("只有信访人本人可以申请复核。"),
        late=_("申请复核的期限（30 日）已过。"),
        label=_("复核理由"),
        now=now,
    )
    current = message.review_unit or review_unit_for(message)
    unit = review_unit_for(current, post=message.board.post)
    event = transition(message, "request_rereview", actor, now=now, note=body)
    clocks.advance(
        message,
        event,
        now=now,
        close=("petition_rereview_request",),
        start="petition_rereview",
    )
    message.review_unit = unit
    outbox.enqueue(message)
    return _commit(message)


# The system ----------------------------------------------------------------------------------


def close_lapsed_messages(now: datetime) -> int:
    """Close (办结) replied messages whose citizen window has lapsed; returns how many.

    Board track: the rating window; petition track: the review request window — each past the
    end of its due day in Asia/Shanghai. One transaction (and one `close` event) per message.
    """
    today = local_date(now)
    lapsed = db.session.execute(
        select(Message.id, Message.track, Clock.policy)
        .join(Clock, Clock.message_id == Message.id)
        .where(
            Message.state == State.REPLIED,
            Clock.state == ClockState.OPEN,
            Clock.policy.in_(("rating_window", "petition_review_request")),
            Clock.due_on < today,
        )
        .order_by(Message.id)
    ).all()
    wanted = {
        message_id
        for message_id, track, policy in lapsed
        if (track == Track.PETITION) == (policy == "petition_review_request")
    }
    closed = 0
    for message_id in sorted(wanted):
        message = db.session.get(Message, message_id)
        if message is None or message.state != State.REPLIED:
            continue
        event = transition(message, "close", None, now=now, note=_("期限届满，自动办结。"))
        clocks.advance(message, event, now=now, close=None, closed_state=ClockState.STOPPED)
        message.closed_at = now
        outbox.enqueue(message)
        _commit(message)
        closed += 1
    return closed


# ---------------------------------------------------------------------------------------------
# Queries


def public_messages_query() -> Select:
    """Messages anyone may read, newest published first."""
    return (
        select(Message)
        .where(
            Message.visibility == Visibility.PUBLIC,
            Message.is_hidden.is_(False),
            Message.state.in_(PUBLIC_STATES),
        )
        .order_by(Message.published_at.desc(), Message.id.desc())
    )


def my_messages_query(user: User) -> Select:
    """A citizen's own messages, newest first."""
    return (
        select(Message)
        .where(Message.author_id == user.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
    )


def moderation_queue_query() -> Select:
    """Messages awaiting moderation, oldest first (the 24-hour target runs from submission)."""
    return (
        select(Message)
        .where(Message.state == State.SUBMITTED)
        .order_by(Message.created_at, Message.id)
    )


def coordinator_queue_query(user: User) -> Select:
    """Received messages on the boards this coordinator's office runs, oldest first."""
    query = select(Message).join(Board, Message.board_id == Board.id)
    if user.role != Role.ADMIN:
        query = query.where(Board.office_unit_id == user.unit_id)
    return query.where(Message.state == State.RECEIVED).order_by(Message.created_at, Message.id)


def unit_queue_query(unit_id: int) -> Select:
    """Open messages held by a unit, oldest assignment first."""
    return (
        select(Message)
        .where(Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE))
        .order_by(Message.assigned_at, Message.id)
    )


def visible_messages_query(user: User | None) -> Select:
    """Everything `user` may read: public messages plus their own and their scope's private ones."""
    query = select(Message)
    public = (
        (Message.visibility == Visibility.PUBLIC)
        & Message.is_hidden.is_(False)
        & Message.state.in_(PUBLIC_STATES)
    )
    if user is None or not user.is_authenticated:
        return query.where(public)
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return query
    scope = [public, Message.author_id == user.id]
    if user.role == Role.HANDLER and user.unit_id:
        scope.append(Message.unit_id == user.unit_id)
    if user.role == Role.COORDINATOR and user.unit_id:
        office_boards = select(Board.id).where(Board.office_unit_id == user.unit_id)
        scope.append(Message.board_id.in_(office_boards))
        scope.append(Message.review_unit_id == user.unit_id)
    return query.where(or_(*scope))


def reason_codes(use: ReasonUse) -> list[ReasonCode]:
    """Reason codes offered for one kind of decision (not the retired), in their published order."""
    return list(
        db.session.scalars(
            select(ReasonCode)
            .where(ReasonCode.use == use, ReasonCode.retired_at.is_(None))
            .order_by(ReasonCode.sort)
        )
    )


def units_for_board(board: Board) -> list[Unit]:
    """Units a coordinator may assign to: those in the board's region and below."""
    path = board.region.path
    return list(
        db.session.scalars(
            select(Unit)
            .join(Region, Unit.region_code == Region.code)
            .where(or_(Region.path == path, Region.path.like(path + "/%")))
            .where(Unit.is_office.is_(False))
            .order_by(Region.path, Unit.name)
        )
    )


def _office_scope(query: Select, user: User) -> Select:
    """Limit a query joined to Board to the coordinator's boards (admins see all)."""
    if user.role == Role.ADMIN:
        return query
    if user.role != Role.COORDINATOR or user.unit_id is None:
        return query.where(False)
    return query.where(Board.office_unit_id == user.unit_id)


def awaiting_signoff_query(user: User) -> Select:
    """Messages on the coordinator's boards with a reply awaiting sign-off, oldest reply first."""
    waiting = (
        select(Reply.message_id, func.min(Reply.created_at).label("sent_at"))
        .where(Reply.state == ReplyState.AWAITING_SIGNOFF)
        .group_by(Reply.message_id)
        .subquery()
    )
    query = (
        select(Message)
        .join(waiting, waiting.c.message_id == Message.id)
        .join(Board, Message.board_id == Board.id)
        .where(Message.state.in_(UNIT_QUEUE))
        .order_by(waiting.c.sent_at, Message.id)
    )
    return _office_scope(query, user)


def pending_requests_query(user: User) -> Select:
    """Pending return and extension requests (HandlingRequest rows) on the coordinator's boards."""
    query = (
        select(HandlingRequest)
        .join(Message, HandlingRequest.message_id == Message.id)
        .join(Board, Message.board_id == Board.id)
        .where(HandlingRequest.state == RequestState.PENDING)
        .order_by(HandlingRequest.requested_at, HandlingRequest.id)
    )
    return _office_scope(query, user)


def dissatisfied_query(user: User) -> Select:
    """Closed board messages whose latest rating is dissatisfied and that were never reopened."""
    latest = (
        select(Rating.message_id, func.max(Rating.round).label("round"))
        .group_by(Rating.message_id)
        .subquery()
    )
    reopened = select(Event.message_id).where(Event.action == "reopen")
    query = (
        select(Message)
        .join(latest, latest.c.message_id == Message.id)
        .join(
            Rating,
            (Rating.message_id == Message.id) & (Rating.round == latest.c.round),
        )
        .join(Board, Message.board_id == Board.id)
        .where(
            Message.track == Track.BOARD,
            Message.state == State.CLOSED,
            # composite = sum / 3 < 2.5  ⇔  sum < 7.5  ⇔  sum ≤ 7 (integer scores)
            Rating.resolution + Rating.attitude + Rating.speed <= 7,
            Message.id.not_in(reopened),
        )
        .order_by(Rating.created_at, Message.id)
    )
    return _office_scope(query, user)


def review_queue_query(user: User) -> Select:
    """Petitions asking for review or re-review by the user's unit (admins: all), oldest first."""
    query = select(Message).where(
        Message.state.in_((State.REVIEW_REQUESTED, State.REREVIEW_REQUESTED))
    )
    if user.role != Role.ADMIN:
        if user.unit_id is None:
            return query.where(False)
        query = query.where(Message.review_unit_id == user.unit_id)
    return query.order_by(Message.updated_at, Message.id)


def unit_desk_query(unit_id: int) -> Select:
    """Open unit messages with their nearest duty due date: rows (Message, due_on or None).

    Ordered by that due date, messages without a running duty clock last.
    """
    nearest = (
        select(Clock.message_id, func.min(Clock.due_on).label("due_on"))
        .where(Clock.state == ClockState.OPEN, Clock.policy.not_in(clocks.NOT_DUTIES))
        .group_by(Clock.message_id)
        .subquery()
    )
    return (
        select(Message, nearest.c.due_on)
        .outerjoin(nearest, nearest.c.message_id == Message.id)
        .where(Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE))
        .order_by(nearest.c.due_on.is_(None), nearest.c.due_on, Message.assigned_at, Message.id)
    )
