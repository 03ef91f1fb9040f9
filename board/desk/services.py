"""Read-only queries of the staff desk: coordinators' supervision lists and handlers' counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select

from ..extensions import db
from ..messages.services import is_board_coordinator, is_unit_handler
from ..models import (
    ANSWERED_STATES,
    UNIT_QUEUE,
    Board,
    Message,
    ReasonCode,
    Role,
    State,
    Unit,
    User,
)


def can_work_on(user: User | None, message: Message) -> bool:
    """The staff view of a message: its board's coordinators, its unit's handlers, admins."""
    if user is None or not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return is_board_coordinator(user, message.board) or is_unit_handler(user, message)


def may_assign(user: User | None, message: Message) -> bool:
    """Coordinators of the message's board (and admins) route it to a unit."""
    return bool(
        user
        and user.is_authenticated
        and (user.role == Role.ADMIN or is_board_coordinator(user, message.board))
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
    reason = db.session.get(ReasonCode, code)
    return reason.label if reason else code
