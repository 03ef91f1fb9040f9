"""Use cases of a message's life: submit, screen, assign, reply, rate — each one transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from ..calendar import services as clocks
from ..errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import (
    KINDS_BY_TRACK,
    PUBLIC_STATES,
    TRANSITIONS,
    UNIT_QUEUE,
    Board,
    Cosign,
    Domain,
    Event,
    Kind,
    Message,
    Outcome,
    Rating,
    ReasonCode,
    ReasonUse,
    Region,
    Reply,
    ReplyState,
    Role,
    State,
    Track,
    Unit,
    User,
    Visibility,
)
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
    return is_unit_handler(user, message)


def can_see_private_fields(user: User | None, message: Message) -> bool:
    """The private note and the petitioner's identity: the author and the handling side only.

    The unit a 检举控告 report accuses never sees who reported it.
    """
    if user is None or not user.is_authenticated:
        return False
    if message.author_id == user.id or user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    if is_board_coordinator(user, message.board):
        return True
    return is_unit_handler(user, message) and message.kind != Kind.REPORT


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
    db.session.commit()
    outbox.apply_after_commit()
    return message


def _reason(code: str | None, use: ReasonUse) -> ReasonCode:
    """A reason code of the right use, or a field error."""
    reason = db.session.get(ReasonCode, code) if code else None
    if reason is None or reason.use != use:
        raise ValidationFailed(fields={"reason": [_("请选择一个有效的理由。")]})
    return reason


# ---------------------------------------------------------------------------------------------
# Citizens


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
    wants_public: bool = True,
    real_name: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    now: datetime,
    ip: str | None = None,
    source: str = "web",
) -> Message:
    """File a new message for moderation and give it a tracking code."""
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
        errors["region"] = [_("问题发生地必须在“%(board)s”的辖区内。", board=board.title)]
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
        wants_public=bool(wants_public) and kind != Kind.REPORT,
        visibility=Visibility.PRIVATE,
        state=State.SUBMITTED,
        author=author,
        pen_name=author.pen_name,
        real_name=real_name if track == Track.PETITION else None,
        phone=phone if track == Track.PETITION else None,
        address=address if track == Track.PETITION else None,
        source=source,
        author_ip=ip,
        created_at=now,
        updated_at=now,
    )
    db.session.add(message)
    event = record(message, "submit", author, now=now, to_state=State.SUBMITTED)
    clocks.advance(message, event, now=now, start="board_moderation")
    message.events[-1].from_state = None
    return _commit(message)


def withdraw_message(message: Message, actor: User, *, now: datetime) -> Message:
    """The author takes back a message that nobody has been assigned yet."""
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(_("只有留言人本人可以撤回。"))
    event = transition(message, "withdraw", actor, now=now)
    clocks.advance(message, event, now=now, close=None, closed_state="stopped")
    message.visibility = Visibility.PRIVATE
    outbox.enqueue(message)
    return _commit(message)


def rate_message(
    message: Message,
    actor: User,
    *,
    resolution: int,
    attitude: int,
    speed: int,
    comment: str = "",
    now: datetime,
) -> Message:
    """The author scores the handling (1–5 each) within 30 days of the reply; this closes it."""
    if actor is None or message.author_id != actor.id:
        raise PermissionDenied(_("只有留言人本人可以评价。"))
    errors = {}
    for name, value in (("resolution", resolution), ("attitude", attitude), ("speed", speed)):
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = [_("请给出 1 到 5 星。")]
    if len(comment or "") > 500:
        errors["comment"] = [_("评价内容不能超过 500 字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    if message.replied_at and now > message.replied_at + RATING_WINDOW:
        raise InvalidTransition(_("答复已超过 30 天，评价期已过。"))
    event = transition(message, "rate", actor, now=now)
    clocks.advance(message, event, now=now, close=("rating_window",))
    message.rating = Rating(
        author_id=actor.id,
        resolution=resolution,
        attitude=attitude,
        speed=speed,
        comment=(comment or "").strip(),
        created_at=now,
    )
    message.closed_at = now
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
    petition = message.track == Track.PETITION
    first = "petition_acceptance" if petition else clocks.reply_policy(message)
    clocks.advance(message, event, now=now, close=("board_assignment",), start=first)
    message.unit = unit
    message.assigned_at = now
    outbox.enqueue(message)
    return _commit(message)


def accept_message(message: Message, actor: User, *, now: datetime, note: str = "") -> Message:
    """The unit takes the message on (受理)."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以受理。"))
    event = transition(message, "accept", actor, now=now, note=note)
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
    """The unit answers: the reply is published on the message and the author may rate it."""
    if not is_unit_handler(actor, message):
        raise PermissionDenied(_("只有承办单位的工作人员可以答复。"))
    body = (body or "").strip()
    errors = {}
    if len(body) < 10:
        errors["body"] = [_("答复至少 10 个字。")]
    elif len(body) > 10000:
        errors["body"] = [_("答复不能超过 10000 字。")]
    if message.track == Track.PETITION and outcome not in Outcome.__members__.values():
        errors["outcome"] = [_("信访事项的答复须写明处理意见。")]
    if errors:
        raise ValidationFailed(fields=errors)
    event = transition(message, "reply", actor, now=now, note=message.unit.name)
    clocks.advance(message, event, now=now, close=None, start="rating_window")
    message.replies.append(
        Reply(
            unit=message.unit,
            author=actor,
            body=body,
            outcome=outcome if message.track == Track.PETITION else None,
            state=ReplyState.PUBLISHED,
            created_at=now,
            published_at=now,
        )
    )
    message.replied_at = now
    outbox.enqueue(message)
    return _commit(message)


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
    return query.where(or_(*scope))


def reason_codes(use: ReasonUse) -> list[ReasonCode]:
    """Reason codes offered for one kind of decision, in their published order."""
    return list(
        db.session.scalars(
            select(ReasonCode).where(ReasonCode.use == use).order_by(ReasonCode.sort)
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
