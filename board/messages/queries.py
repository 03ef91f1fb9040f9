"""Read-only queries over messages: the public list, the queues of each desk, reason codes and
the units a board may assign to (`*_query()` return a Select; the caller pages it)."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from ..calendar import services as clocks
from ..extensions import db
from ..models import (
    PUBLIC_STATES,
    UNIT_QUEUE,
    Board,
    Clock,
    ClockState,
    Event,
    HandlingRequest,
    Message,
    Rating,
    ReasonCode,
    ReasonUse,
    Region,
    Reply,
    ReplyState,
    RequestState,
    Role,
    State,
    Track,
    Unit,
    User,
    Visibility,
)
from ..workflow import Action


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
    reopened = select(Event.message_id).where(Event.action == Action.REOPEN)
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
