"""Keeping `stats_case` (board/stats/models.py) exact: one row per message, recomputed in SQL.

How the table stays exact:
- Session hooks: after every flush, the ids of the messages whose message, clock, rating or reply
  rows were added, changed or deleted are remembered on the session; just before the commit
  their rows are recomputed from the source tables in the same transaction. A page read right
  after a workflow action sees its effect; a rollback forgets the ids.
- Writers that bypass the ORM (the bulk demo generator, board/seed/bulk.py) call `refresh` with
  the ids they inserted, in their own transaction.
- `flask stats rebuild` recomputes every row in batches (a database restored from elsewhere,
  or rows written by hand in SQL), then the running sums per scope (board/stats/tally.py), which
  every rewrite of a row adjusts in the same transaction.

Nothing time-dependent is stored: "overdue now" and the open clocks that count against the
on-time rate compare the stored due dates with today when a page is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import chain

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Session, aliased

from .. import session_hooks
from ..deadlines import PolicyName
from ..models import (
    PUBLIC_STATES,
    Clock,
    ClockState,
    Message,
    Rating,
    Reply,
    ReplyState,
    Visibility,
)
from . import tally
from .models import StatsCase
from .sql import days_between, local_date, local_month

ANSWER_POLICIES = (
    PolicyName.BOARD_REPLY_SHORT,
    PolicyName.BOARD_REPLY_LONG,
    PolicyName.PETITION_HANDLING,
)
BATCH = 2000  # message ids per statement
_PENDING = "stats_case_pending"

IdFilter = Callable[[ColumnElement], ColumnElement[bool]]


def _source(ids: IdFilter):
    """SELECT of the fact rows of the messages that `ids(column)` admits (StatsCase's columns)."""
    met = Clock.state == ClockState.MET
    running = Clock.state == ClockState.OPEN
    clocks = (
        select(
            Clock.message_id.label("message_id"),
            func.sum(case((met, 1), else_=0)).label("met"),
            func.sum(
                case((and_(met, local_date(Clock.closed_at) <= Clock.due_on), 1), else_=0)
            ).label("on_time"),
            func.sum(case((running, 1), else_=0)).label("open"),
            func.min(case((running, Clock.due_on))).label("due"),
        )
        .where(ids(Clock.message_id), Clock.policy.in_(ANSWER_POLICIES))
        .group_by(Clock.message_id)
        .subquery()
    )
    later = aliased(Rating)
    ratings = (
        select(
            Rating.message_id.label("message_id"),
            (Rating.resolution + Rating.attitude + Rating.speed).label("total"),
        )
        .where(
            ids(Rating.message_id),
            ~exists().where(later.message_id == Rating.message_id, later.id > Rating.id),
        )
        .subquery()
    )
    adopted = exists().where(
        Reply.message_id == Message.id,
        Reply.state == ReplyState.PUBLISHED,
        Reply.is_interim.is_(False),
        Reply.outcome == "supported",
    )
    path = Message.region_path
    columns = {
        "message_id": Message.id,
        "is_case": and_(
            Message.visibility == Visibility.PUBLIC,
            Message.is_hidden.is_(False),
            Message.state.in_(PUBLIC_STATES),
        ),
        "is_received": Message.state.in_(PUBLIC_STATES),
        "track": Message.track,
        "kind": Message.kind,
        "domain": Message.domain,
        "board_id": Message.board_id,
        "unit_id": Message.unit_id,
        "region_path": path,
        "province": func.substr(path, 1, 6),
        "city": case((func.length(path) >= 13, func.substr(path, 8, 6))),
        "county": case((func.length(path) >= 20, func.substr(path, 15, 6))),
        "created_on": local_date(Message.created_at),
        "published_on": local_date(Message.published_at),
        "published_month": local_month(Message.published_at),
        "replied_on": local_date(Message.replied_at),
        "reply_month": local_month(Message.replied_at),
        "days_to_reply": days_between(Message.created_at, Message.replied_at),
        "is_assigned": Message.assigned_at.is_not(None),
        "answers_met": func.coalesce(clocks.c.met, 0),
        "answers_on_time": func.coalesce(clocks.c.on_time, 0),
        "answers_open": func.coalesce(clocks.c.open, 0),
        "open_due_on": clocks.c.due,
        "rating_total": ratings.c.total,
        "adopted": adopted,
    }
    query = (
        select(*(expr.label(name) for name, expr in columns.items()))
        .select_from(Message)
        .outerjoin(clocks, clocks.c.message_id == Message.id)
        .outerjoin(ratings, ratings.c.message_id == Message.id)
        .where(ids(Message.id))
    )
    return list(columns), query


def _write(connection: Connection, ids: IdFilter, params: dict | None = None) -> None:
    """Replace the fact rows of the messages `ids` admits by freshly computed ones (`params`:
    the values of the filter's bound parameters)."""
    delete_rows, insert_rows = _write_statements(ids)
    tally.adjust(connection, ids, -1, params)  # the sums per region, board and unit follow the rows
    connection.execute(delete_rows, params)
    connection.execute(insert_rows, params)
    tally.adjust(connection, ids, 1, params)


@lru_cache(maxsize=8)
def _write_statements(ids: IdFilter):
    """The DELETE and the INSERT … SELECT of `_write` for the filter `ids`, built once for a
    filter used again and again (`_listed`: a refresh after one workflow action spent more time
    building these statements than the database spent running them)."""
    names, query = _source(ids)
    table = StatsCase.__table__
    return delete(table).where(ids(table.c.message_id)), insert(table).from_select(names, query)


def _listed(column: ColumnElement) -> ColumnElement[bool]:
    """The filter of `refresh`: the message ids in its bound parameter `_IDS` (a list)."""
    return column.in_(bindparam(_IDS, expanding=True))


_IDS = "stats_case_ids"


def _in_range(column: ColumnElement) -> ColumnElement[bool]:
    """The filter of `rebuild`: ids from its bound parameter `_LOW` up to, not including,
    `_HIGH` (one filter for every batch, so its statements are built once too)."""
    return and_(column >= bindparam(_LOW), column < bindparam(_HIGH))


_LOW, _HIGH = "stats_case_low", "stats_case_high"


def refresh(connection: Connection, message_ids: Iterable[int]) -> int:
    """Recompute the fact rows of these messages (removing those of deleted ones).

    On PostgreSQL the message rows are locked first, so two transactions refreshing the same
    message take turns and the second one computes from what the first one committed."""
    wanted = sorted({int(i) for i in message_ids if i is not None})
    for start in range(0, len(wanted), BATCH):
        params = {_IDS: wanted[start : start + BATCH]}
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK_MESSAGES, params).all()
        _write(connection, _listed, params)
    return len(wanted)


_LOCK_MESSAGES = select(Message.id).where(_listed(Message.id)).with_for_update()
_COUNT_IN_RANGE = select(func.count()).select_from(Message).where(_in_range(Message.id))


def rebuild(session: Session, *, batch: int = 5000, progress=None) -> int:
    """Recompute every fact row from the source tables, committing every `batch` message ids.

    Rows outside the batch being written stay exact, so a live site can be rebuilt. `progress`
    is called with (messages done, messages in all) after each batch. Returns the messages."""
    table = StatsCase.__table__
    connection = session.connection()
    total = connection.execute(select(func.count()).select_from(Message)).scalar_one()
    low, high = connection.execute(select(func.min(Message.id), func.max(Message.id))).one()
    connection.execute(delete(table).where(~table.c.message_id.in_(select(Message.id))))
    session.commit()
    if low is None:
        return 0
    done = 0
    for start in range(low, high + 1, batch):
        params = {_LOW: start, _HIGH: start + batch}
        connection = session.connection()
        _write(connection, _in_range, params)
        done += connection.execute(_COUNT_IN_RANGE, params).scalar_one()
        session.commit()
        if progress:
            progress(done, total)
    tally.rebuild(session.connection())
    session.commit()
    return total


def computed_rows(connection: Connection) -> list[tuple]:
    """Every fact row as computed now from the source tables (for checks), by message id."""
    names, query = _source(lambda column: column.is_not(None))
    return [tuple(row) for row in connection.execute(query.order_by(Message.id))]


def stored_rows(connection: Connection) -> list[tuple]:
    """Every stored fact row, in the column order of `computed_rows`, by message id."""
    names, _query = _source(lambda column: column.is_not(None))
    table = StatsCase.__table__
    columns = [table.c[name] for name in names]
    return [tuple(row) for row in connection.execute(select(*columns).order_by(table.c.message_id))]


# ---------------------------------------------------------------------------------------------
# Session hooks


def _message_ids(obj) -> Iterable[int]:
    """The message ids an ORM object's change can affect (old and new values of message_id)."""
    if isinstance(obj, Message):
        return [obj.id]
    if isinstance(obj, Clock | Rating | Reply):
        history = inspect(obj).attrs.message_id.history
        return [*history.added, *history.unchanged, *history.deleted]
    return []


def _after_flush(session: Session, _context) -> None:
    pending = session.info.setdefault(_PENDING, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        pending.update(i for i in _message_ids(obj) if i is not None)


# Just before the commit, refresh every noted message's row; a rollback forgets them.
_COMMIT_HOOKS = session_hooks.commit_hooks(_PENDING, refresh)


def install(session_class: type[Session]) -> None:
    """Keep stats_case exact in every session of this class (idempotent)."""
    session_hooks.listen(session_class, {"after_flush": _after_flush, **_COMMIT_HOOKS})
