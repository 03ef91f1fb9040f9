"""Read-only queries behind the public directory pages: counters, regions, boards, listings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..clock import from_local, to_local
from ..errors import NotFound
from ..extensions import db
from ..messages.services import public_messages_query
from ..models import (
    ANSWERED_STATES,
    PUBLIC_STATES,
    STATE_LABELS,
    Board,
    Domain,
    Kind,
    Message,
    Region,
    RegionLevel,
    Reply,
    ReplyState,
    State,
)


@dataclass(frozen=True)
class Counters:
    """How many messages and published replies the platform has had."""

    messages_today: int
    messages_year: int
    messages_total: int
    replies_today: int
    replies_year: int
    replies_total: int


def _local_day_and_year_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of today and of this year in Beijing time, as stored naive UTC."""
    local = to_local(now)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    year = day.replace(month=1, day=1)
    return from_local(day), from_local(year)


def counters(*, now: datetime) -> Counters:
    """Messages received and replies published today, this year and in total (Beijing days)."""
    day_start, year_start = _local_day_and_year_starts(now)
    received = Message.created_at
    published = Reply.published_at

    def count_messages(since: datetime | None) -> int:
        query = select(func.count(Message.id))
        if since is not None:
            query = query.where(received >= since)
        return db.session.scalar(query) or 0

    def count_replies(since: datetime | None) -> int:
        query = select(func.count(Reply.id)).where(Reply.state == ReplyState.PUBLISHED)
        if since is not None:
            query = query.where(published >= since)
        return db.session.scalar(query) or 0

    return Counters(
        messages_today=count_messages(day_start),
        messages_year=count_messages(year_start),
        messages_total=count_messages(None),
        replies_today=count_replies(day_start),
        replies_year=count_replies(year_start),
        replies_total=count_replies(None),
    )


def latest_replied_query() -> Select:
    """Public messages that carry a published reply, most recently answered first."""
    return (
        public_messages_query()
        .where(Message.state.in_(ANSWERED_STATES), Message.replied_at.is_not(None))
        .order_by(None)
        .order_by(Message.replied_at.desc(), Message.id.desc())
    )


def provinces() -> list[Region]:
    """Province-level regions with their boards, by code."""
    return list(
        db.session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.PROVINCE)
            .options(selectinload(Region.boards))
            .order_by(Region.code)
        )
    )


def get_region(code: str) -> Region:
    """The region with this GB/T 2260 code, or NotFound."""
    region = db.session.scalar(
        select(Region)
        .where(Region.code == (code or "").strip())
        .options(
            selectinload(Region.boards), selectinload(Region.children).selectinload(Region.boards)
        )
    )
    if region is None:
        raise NotFound()
    return region


def get_board(code: str) -> Board:
    """The board with this code, or NotFound."""
    board = db.session.scalar(select(Board).where(Board.code == (code or "").strip()))
    if board is None:
        raise NotFound()
    return board


def ancestors(region: Region) -> list[Region]:
    """The regions above `region`, province first."""
    codes = region.path.split("/")[:-1]
    if not codes:
        return []
    found = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def region_messages_query(region: Region) -> Select:
    """Public messages about problems in `region` or anywhere below it."""
    return public_messages_query().where(
        or_(Message.region_path == region.path, Message.region_path.like(region.path + "/%"))
    )


# A public state filter offers each distinct public label once; its value is the first state
# with that label, and it matches every state sharing the label (待回复 = received + assigned).
def state_filter_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for the public state filter, in workflow order."""
    seen: dict[str, str] = {}
    for state in State:
        if state in PUBLIC_STATES:
            label = str(STATE_LABELS[state])
            seen.setdefault(label, state.value)
    return [(value, label) for label, value in seen.items()]


def states_like(state: str) -> list[str]:
    """Every public state that shares the public label of `state` (empty if not public)."""
    if state not in PUBLIC_STATES:
        return []
    label = str(STATE_LABELS[State(state)])
    return [s.value for s in PUBLIC_STATES if str(STATE_LABELS[s]) == label]


def board_messages_query(
    board: Board, *, kind: str | None = None, domain: str | None = None, state: str | None = None
) -> Select:
    """Public messages addressed to `board`, optionally filtered by kind, domain and state."""
    query = public_messages_query().where(Message.board_id == board.id)
    if kind in Kind.__members__.values():
        query = query.where(Message.kind == kind)
    if domain in Domain.__members__.values():
        query = query.where(Message.domain == domain)
    if state and states_like(state):
        query = query.where(Message.state.in_(states_like(state)))
    return query.options(selectinload(Message.replies), selectinload(Message.board))
