"""Read-only queries behind the public directory pages: regions, boards, units, latest replies."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import NotFound
from ..extensions import db
from ..messages.queries import public_messages_query
from ..models import (
    ANSWERED_STATES,
    Board,
    Message,
    Region,
    RegionLevel,
    Unit,
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


def _by_code(model, code: str, *loads, max_chars: int | None = None):
    """The row of `model` with this code (`loads`: the relations read with it), or NotFound."""
    row = (
        db.session.execute(
            select(model).where(model.code == (code or "").strip()[:max_chars]).options(*loads)
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None:
        raise NotFound()
    return row


def get_region(code: str) -> Region:
    """The region with this GB/T 2260 code, or NotFound."""
    return _by_code(
        Region,
        code,
        joinedload(Region.former_names),  # in the same statement: most have none
        selectinload(Region.boards),
        selectinload(Region.children).selectinload(Region.boards),
    )


def get_board(code: str) -> Board:
    """The board with this code, or NotFound."""
    return _by_code(Board, code, joinedload(Board.terms))  # its holders, in the same statement


def get_unit(code: str) -> Unit:
    """The unit with this code, or NotFound."""
    return _by_code(Unit, code, max_chars=40)


def ancestors(region: Region) -> list[Region]:
    """The regions above `region`, province first."""
    codes = region.path.split("/")[:-1]
    if not codes:
        return []
    found = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def current_region(region: Region) -> Region:
    """The region that now holds `region`: itself unless it was merged, else the region that
    absorbed it, following later merges too (as far as the regions exist)."""
    seen: set[str] = set()
    while region.merged_into_code and region.code not in seen:
        seen.add(region.code)
        after = db.session.get(Region, region.merged_into_code)
        if after is None:
            break
        region = after
    return region


def successor_board(board: Board) -> Board | None:
    """Where a leader board of a merged region now lives: the same post in the region that
    absorbed it (following later merges too), or None."""
    region = current_region(board.region)
    if region.code == board.region_code or region.merged_into_code:
        return None
    return db.session.scalar(
        select(Board).where(Board.region_code == region.code, Board.post == board.post)
    )
