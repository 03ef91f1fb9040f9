"""Read-only queries of the staff desk: coordinators' supervision lists and handlers' counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select

from .. import deadlines
from ..calendar import services as calendar
from ..clock import local_date
from ..deadlines import PolicyName
from ..extensions import db
from ..models import (
    ANSWERED_STATES,
    UNIT_QUEUE,
    Board,
    Clock,
    ClockState,
    Message,
    ReasonCode,
    Reply,
    ReplyState,
    Role,
    State,
    Unit,
    User,
)


def office_messages_query(user: User, states: Iterable[State]) -> Select:
    """Messages in `states` on the boards this coordinator's office runs (every board for admins)."""
    query = select(Message).join(Board, Message.board_id == Board.id)
    if user.role != Role.ADMIN:
        query = query.where(Board.office_unit_id == user.unit_id)
    return query.where(Message.state.in_(list(states)))


def with_units_query(user: User) -> Select:
    """The office's messages a unit holds now, oldest assignment first."""
    return office_messages_query(user, UNIT_QUEUE).order_by(Message.assigned_at, Message.id)


def answered_query(user: User) -> Select:
    """The office's answered messages, latest reply first."""
    return office_messages_query(user, ANSWERED_STATES).order_by(
        Message.replied_at.desc(), Message.id.desc()
    )


def count(query: Select) -> int:
    """How many rows a query would return."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def unit_state_counts(unit_id: int) -> dict[str, int]:
    """How many messages a unit holds in each queue state (zero included)."""
    rows = db.session.execute(
        select(Message.state, func.count())
        .where(Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE))
        .group_by(Message.state)
    )
    counts = {str(state): 0 for state in UNIT_QUEUE}
    counts.update({state: n for state, n in rows})
    return counts


def find_unit(code: str | None) -> Unit | None:
    """The unit with this code, if any."""
    if not code:
        return None
    return db.session.scalar(select(Unit).where(Unit.code == code.strip()))


def reason_label(code: str | None) -> str | None:
    """The published label of a reason code (the code itself if it is no longer listed)."""
    if not code:
        return None
    from ..directory.names import in_english

    reason = db.session.get(ReasonCode, code)
    if reason is None:
        return code
    return reason.label_en if in_english() and reason.label_en else reason.label


# ---------------------------------------------------------------------------------------------
# Deadlines as the desk shows them (queries with an explicit `now`)


@dataclass(frozen=True)
class ClockStatus:
    """How an open clock stands today: days left and the due-soon / overdue marks."""

    days_left: int  # calendar days until the end of the due day (negative once past)
    working_days_left: int
    is_due_soon: bool
    is_overdue: bool
    is_seriously_overdue: bool
    is_window: bool  # a window the citizen may use, never the handling side's duty


def _ids(query: Select, clock_ids: Iterable[int]) -> set[int]:
    """Which of `clock_ids` a clock query selects."""
    wanted = list(clock_ids)
    if not wanted:
        return set()
    return set(db.session.scalars(query.with_only_columns(Clock.id).where(Clock.id.in_(wanted))))


def clock_statuses(clocks: Iterable[Clock], now: datetime) -> dict[int, ClockStatus]:
    """The status of each open clock, from the calendar services' queries at `now`."""
    open_clocks = [c for c in clocks if c.state == ClockState.OPEN]
    ids = [c.id for c in open_clocks]
    overdue = _ids(calendar.overdue(now), ids)
    serious = _ids(calendar.seriously_overdue(now), ids)
    soon = _ids(calendar.due_soon(now), ids)
    today = local_date(now)
    cal = calendar.db_calendar()
    return {
        c.id: ClockStatus(
            days_left=(c.due_on - today).days,
            working_days_left=deadlines.working_days_between(today, c.due_on, cal),
            is_due_soon=c.id in soon,
            is_overdue=c.id in overdue,
            is_seriously_overdue=c.id in serious,
            is_window=c.policy in calendar.NOT_DUTIES,
        )
        for c in open_clocks
    }


def message_clocks(message: Message) -> list[Clock]:
    """Every clock a message ran, open or ended, in the order they started."""
    return list(
        db.session.scalars(select(Clock).where(Clock.message_id == message.id).order_by(Clock.id))
    )


def nearest_duties(messages: Iterable[Message]) -> dict[int, Clock]:
    """The nearest open duty clock (citizen windows and the return window excluded)."""
    ids = [m.id for m in messages]
    if not ids:
        return {}
    nearest: dict[int, Clock] = {}
    # The page's clocks by message id, ordered and filtered here: with `state` and the order in
    # the query SQLite chose the (state, due_on) index and scanned every open clock.
    clocks = db.session.scalars(select(Clock).where(Clock.message_id.in_(ids)))
    duties = [
        c for c in clocks if c.state == ClockState.OPEN and c.policy not in calendar.NOT_DUTIES
    ]
    for clock in sorted(duties, key=lambda c: (c.due_on, c.id)):
        nearest.setdefault(clock.message_id, clock)
    return nearest


def _unit_messages(query: Select, unit_id: int) -> Select:
    """Distinct messages of a unit's queue that have a clock the query selects."""
    return (
        query.with_only_columns(func.count(func.distinct(Clock.message_id)))
        .join(Message, Message.id == Clock.message_id)
        .where(Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE))
        .order_by(None)
    )


def handler_counts(unit_id: int, now: datetime) -> dict[str, int]:
    """The handler desk's counters: open, due soon, overdue, seriously overdue, awaiting
    sign-off and drafts the coordinator sent back."""
    open_count = db.session.scalar(
        select(func.count(Message.id)).where(
            Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE)
        )
    )

    def replies(state: str) -> int:
        return db.session.scalar(
            select(func.count(func.distinct(Reply.message_id)))
            .join(Message, Message.id == Reply.message_id)
            .where(
                Message.unit_id == unit_id,
                Message.state.in_(UNIT_QUEUE),
                Reply.state == state,
            )
        )

    return {
        "open": open_count or 0,
        "due_soon": db.session.scalar(_unit_messages(calendar.due_soon(now), unit_id)) or 0,
        "overdue": db.session.scalar(_unit_messages(calendar.overdue(now), unit_id)) or 0,
        "seriously_overdue": db.session.scalar(
            _unit_messages(calendar.seriously_overdue(now), unit_id)
        )
        or 0,
        "awaiting_signoff": replies(ReplyState.AWAITING_SIGNOFF),
        "drafts": replies(ReplyState.DRAFT),
    }


def today(now: datetime) -> date:
    """The Asia/Shanghai date of `now`."""
    return local_date(now)


def nearest_due_query(unit_id: int | None = None) -> Select:
    """Open messages of a unit's queue, the nearest open duty deadline first (none last)."""
    nearest = (
        select(Clock.message_id, func.min(Clock.due_on).label("due_on"))
        .where(Clock.state == ClockState.OPEN, Clock.policy.not_in(calendar.NOT_DUTIES))
        .group_by(Clock.message_id)
        .subquery()
    )
    query = (
        select(Message)
        .outerjoin(nearest, nearest.c.message_id == Message.id)
        .where(Message.state.in_(UNIT_QUEUE))
        .order_by(nearest.c.due_on.is_(None), nearest.c.due_on, Message.assigned_at, Message.id)
    )
    if unit_id is not None:
        query = query.where(Message.unit_id == unit_id)
    return query


def with_mark(query: Select, mark: str, now: datetime) -> Select:
    """Narrow a message query to one desk mark: due soon, overdue, awaiting sign-off …"""
    clock_queries = {
        "due_soon": calendar.due_soon,
        "overdue": calendar.overdue,
        "seriously_overdue": calendar.seriously_overdue,
    }
    if mark in clock_queries:
        ids = clock_queries[mark](now).with_only_columns(Clock.message_id).order_by(None)
        return query.where(Message.id.in_(ids))
    reply_states = {"awaiting_signoff": ReplyState.AWAITING_SIGNOFF, "drafts": ReplyState.DRAFT}
    if mark in reply_states:
        ids = select(Reply.message_id).where(Reply.state == reply_states[mark])
        return query.where(Message.id.in_(ids))
    return query


def unit_boards(unit_id: int) -> list[Board]:
    """The boards the unit's open messages come from, for the queue's board filter."""
    return list(
        db.session.scalars(
            select(Board)
            .where(
                Board.id.in_(
                    select(Message.board_id).where(
                        Message.unit_id == unit_id, Message.state.in_(UNIT_QUEUE)
                    )
                )
            )
            .order_by(Board.region_code, Board.id)
        )
    )


def office_overdue_query(user: User, now: datetime) -> Select:
    """Overdue clocks of the office's boards past moderation (every board for admins)."""
    query = (
        calendar.overdue(now)
        .join(Message, Message.id == Clock.message_id)
        .where(
            Clock.policy != PolicyName.BOARD_MODERATION
        )  # the moderators' queue, not the office's
    )
    if user.role != Role.ADMIN:
        query = query.join(Board, Message.board_id == Board.id).where(
            Board.office_unit_id == user.unit_id
        )
    return query
