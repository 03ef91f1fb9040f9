"""Messages received and replies published per Beijing day (`stats_day`): the home counters at
any size.

The home page shows how many messages were received and how many replies published today, this
year and in all. Counting them from the message and reply tables costs a pass over a range of
an index that grows with every message (1.1 s at 675,000 messages on PostgreSQL). `stats_day`
holds one row per Beijing day with both counts; the counters are one read of those rows (one per
day that had any, whatever the number of messages: `counters`).

How the rows stay exact, in the transaction of every change:
- Session hooks: before each flush, the days of the messages (`created_at`) and replies
  (`published_at`) about to be changed or deleted are noted — old values included, since the
  attributes keep their previous value (`active_history`); after each flush, those of the ones
  just added or changed. Just before the commit, after taking the statistics writers' turn
  (the advisory lock of board/stats/tally.py on PostgreSQL, which every writer of messages and
  replies already takes for the fact rows), each noted day is counted again from the source
  tables: one short range of `ix_message_created_at` and of `ix_reply_state_published_at`,
  the size of one day's traffic. A writer that waits for the turn counts after the previous one
  committed, so two concurrent transactions never leave a stale count.
- The bulk generator, which writes around the ORM, adds the counts of the new messages and
  their replies (`add_new`) in its own transaction.
- `flask stats rebuild` and the migration that adds the table recount every day (`rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, event, func, inspect, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import session_hooks
from ..clock import local_date as local_date_of
from ..models import Message, Reply, ReplyState
from . import tally
from .models import StatsDay
from .sql import local_date

_PENDING = "stats_day_pending"
BATCH = 2000  # message ids per statement in `add_new`


def _day_start(day: date) -> datetime:
    from .figures import day_start

    return day_start(day)


def _upsert(connection: Connection, rows, *, add: bool) -> None:
    """Write (day, messages, replies) rows: added to the stored counts, or replacing them."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = StatsDay.__table__
    if isinstance(rows, list):
        if not rows:
            return
        statement = dialect.insert(table).values(rows)
    else:
        statement = dialect.insert(table).from_select(["day", "messages", "replies"], rows)
    excluded = statement.excluded
    if add:
        changes = {
            "messages": table.c.messages + excluded.messages,
            "replies": table.c.replies + excluded.replies,
        }
    else:
        changes = {"messages": excluded.messages, "replies": excluded.replies}
    connection.execute(statement.on_conflict_do_update(index_elements=[table.c.day], set_=changes))


def recount(connection: Connection, days: Iterable[date]) -> None:
    """Count these days again from the message and reply tables (in the caller's
    transaction, after the writers' turn)."""
    wanted = sorted(set(days))
    if not wanted:
        return
    tally.take_turn(connection)
    rows = []
    for day in wanted:
        start, end = _day_start(day), _day_start(day + timedelta(days=1))
        messages = connection.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.created_at >= start, Message.created_at < end)
        ).scalar_one()
        replies = connection.execute(
            select(func.count())
            .select_from(Reply)
            .where(
                Reply.state == ReplyState.PUBLISHED,
                Reply.published_at >= start,
                Reply.published_at < end,
            )
        ).scalar_one()
        rows.append({"day": day, "messages": messages, "replies": replies})
    _upsert(connection, rows, add=False)  # rows in day order: writers lock them in one order


def _per_day(message_filter) -> object:
    """SELECT day, messages, replies of the messages `message_filter` admits and their
    published replies, grouped by Beijing day."""
    messages = select(
        local_date(Message.created_at).label("day"),
        literal(1).label("m"),
        literal(0).label("r"),
    ).where(message_filter(Message.id))
    replies = select(
        local_date(Reply.published_at).label("day"),
        literal(0).label("m"),
        literal(1).label("r"),
    ).where(
        message_filter(Reply.message_id),
        Reply.state == ReplyState.PUBLISHED,
        Reply.published_at.is_not(None),
    )
    found = union_all(messages, replies).subquery("daily")
    return (
        select(found.c.day, func.sum(found.c.m), func.sum(found.c.r))
        .where(found.c.day.is_not(None))  # SQLite: an upsert's SELECT needs a WHERE
        .group_by(found.c.day)
        .order_by(found.c.day)
    )


def add_new(connection: Connection, message_ids: Iterable[int]) -> None:
    """Add the counts of messages just inserted, with their replies, by a writer that bypasses
    the ORM (board/seed/bulk.py). Only for new rows: nothing of theirs was counted before."""
    wanted = sorted({int(i) for i in message_ids})
    if not wanted:
        return
    tally.take_turn(connection)
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        _upsert(connection, _per_day(lambda column, batch=batch: column.in_(batch)), add=True)


def rebuild(connection: Connection) -> None:
    """Recount every day from the message and reply tables (in the caller's transaction)."""
    tally.take_turn(connection)
    connection.execute(delete(StatsDay.__table__))
    _upsert(connection, _per_day(lambda column: column.is_not(None)), add=True)


def stored_rows(connection: Connection) -> dict[date, tuple[int, int]]:
    """Every stored day with a count, {day: (messages, replies)} (for checks)."""
    table = StatsDay.__table__
    return {
        row.day: (row.messages, row.replies)
        for row in connection.execute(select(table))
        if row.messages or row.replies
    }


def computed_rows(connection: Connection) -> dict[date, tuple[int, int]]:
    """Every day as counted now from the source tables, like `stored_rows` (for checks)."""
    rows = connection.execute(_per_day(lambda column: column.is_not(None)))
    return {_as_date(day): (int(m), int(r)) for day, m, r in rows if m or r}


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def counters(connection: Connection, today: date) -> tuple[int, int, int, int, int, int]:
    """(messages today, this year, in all, replies today, this year, in all): one read of the
    day rows (as many as days with any message or reply)."""
    table = StatsDay.__table__
    year = today.replace(month=1, day=1)

    def total(column, *where):
        summed = func.sum(column)
        return func.coalesce(summed.filter(*where) if where else summed, 0)

    row = connection.execute(
        select(
            total(table.c.messages, table.c.day >= today),
            total(table.c.messages, table.c.day >= year),
            total(table.c.messages),
            total(table.c.replies, table.c.day >= today),
            total(table.c.replies, table.c.day >= year),
            total(table.c.replies),
        )
    ).one()
    return tuple(int(value) for value in row)


# ---------------------------------------------------------------------------------------------
# Session hooks


def _days(obj, attribute: str) -> set[date]:
    """The Beijing days of every value (old and new) of `attribute` the session knows."""
    history = inspect(obj).attrs[attribute].history
    values = [*history.added, *history.unchanged, *history.deleted]
    if not values and attribute in inspect(obj).unloaded:
        values = [getattr(obj, attribute)]  # expired and unchanged: load it
    return {local_date_of(v) for v in values if v is not None}


# What a row's counts depend on: a message counts on its creation day; a reply on its
# publication day while it is published.
_WATCHED = {Message: ("created_at",), Reply: ("state", "published_at")}
_DAY = {Message: "created_at", Reply: "published_at"}


def _note(session: Session, objects, *, changed_only: bool) -> None:
    """Note the days of `objects` (all of them, or only those whose watched attributes
    changed: a message approved or a reply edited moves no count)."""
    pending = session.info.setdefault(_PENDING, set())
    for obj in objects:
        kind = type(obj) if type(obj) in _DAY else None
        if kind is None:
            continue
        if changed_only:
            attrs = inspect(obj).attrs
            if not any(attrs[name].history.has_changes() for name in _WATCHED[kind]):
                continue
        pending.update(_days(obj, _DAY[kind]))


def _before_flush(session: Session, _context, _instances) -> None:
    # Changed and deleted rows: their days as stored (the old values) before the flush.
    _note(session, session.dirty, changed_only=True)
    _note(session, session.deleted, changed_only=False)


def _after_flush(session: Session, _context) -> None:
    # Added and changed rows: their days now (defaults such as created_at are set by now).
    _note(session, session.new, changed_only=False)
    _note(session, session.dirty, changed_only=True)


# Just before the commit, count every noted day again; a rollback forgets them.
_COMMIT_HOOKS = session_hooks.commit_hooks(_PENDING, recount)


def _keep_old_value(target, value, oldvalue, _initiator):
    return value


def install(session_class: type[Session]) -> None:
    """Keep stats_day exact in every session of this class (idempotent)."""
    session_hooks.listen(
        session_class,
        {
            "before_flush": _before_flush,
            "after_flush": _after_flush,
            **_COMMIT_HOOKS,
        },
    )
    # Setting a reply's publication time or a message's creation time loads the value it
    # replaces first, so that the day it leaves is counted again too.
    for attribute in (Message.created_at, Reply.published_at):
        if not event.contains(attribute, "set", _keep_old_value):
            event.listen(attribute, "set", _keep_old_value, retval=True, active_history=True)
