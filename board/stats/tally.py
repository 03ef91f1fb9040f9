"""Running sums per region, board and unit (`stats_tally`): figures whose cost does not grow with
the number of messages.

Without filters, the figures of a region, board or unit page read every case in scope: about a
second at half a million messages. `stats_tally` holds, for each such scope, the sums those
figures are made of, by publication month, reply month, open due date, hours to reply and
rating score (board/stats/models.py, `StatsTally`). A page then reads a few hundred rows of its
scope whatever the number of messages, plus two short index probes for the median and the 90th
percentile (board/stats/figures.py, `_tallied`).

How the sums stay exact: every change of a fact row goes through `facts._write`, which calls
`adjust` with the rows' ids before (-1) and after (+1) it rewrites them, in the same
transaction. Each call is one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE adding the
rows' contributions to the sums. On PostgreSQL the writers of the sums take turns (a
transaction-level advisory lock, taken at the first adjustment and held until the commit, which
follows at once): concurrent workflow actions in one region never deadlock on its rows.
`flask stats rebuild` recomputes every sum (`rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from .models import StatsCase as Fact
from .models import StatsTally as Tally
from .sql import floor_int

IdFilter = Callable[[ColumnElement], ColumnElement[bool]]
MEASURES = ("n", "replied", "met", "on_time", "several", "open_one")
LOCK_KEY = 0x5354_4154  # the advisory lock the writers of the sums take turns on
SCOPES = ("province", "city", "county", "board", "unit")
# Days to reply are summed in hour-long buckets: a percentile probe reads at most one hour's
# replied cases of its scope (a whole day's held tens of thousands in a province at 675,000
# messages), while a scope has at most 24 rows per day of the replies' span.
BUCKETS_PER_DAY = 24


def bucket(days: ColumnElement) -> ColumnElement[int]:
    """The `x` bucket of a number of days to reply: whole hours, rounded down."""
    return floor_int(days * BUCKETS_PER_DAY)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _contributions(ids: IdFilter):
    """Every (scope, key, dim, value, measures…) contribution of the cases `ids` admits."""
    rows = (
        select(Fact.__table__)
        .where(ids(Fact.message_id), Fact.is_case == true())
        .cte("tally_rows")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    r = rows.c
    keys = {
        "province": r.province,
        "city": r.city,
        "county": r.county,
        "board": cast(r.board_id, String),
        "unit": cast(r.unit_id, String),
    }
    dims = [
        (
            "p",
            func.coalesce(r.published_month, ""),
            None,
            {
                "replied": _flag(r.replied_on.is_not(None)),
                "met": r.answers_met,
                "on_time": r.answers_on_time,
                "several": _flag(r.answers_open > 1),
            },
        ),
        ("r", r.reply_month, r.days_to_reply.is_not(None), {}),
        (
            "d",
            cast(r.open_due_on, String),
            r.open_due_on.is_not(None),
            {"open_one": _flag(r.answers_open == 1)},
        ),
        ("x", cast(bucket(r.days_to_reply), String), r.days_to_reply.is_not(None), {}),
        ("b", cast(r.rating_total, String), r.rating_total.is_not(None), {}),
    ]
    parts = []
    for scope in SCOPES:
        key = keys[scope]
        for dim, value, condition, extra in dims:
            where = [key.is_not(None)] + ([condition] if condition is not None else [])
            measures = [literal(1).label("n")] + [
                extra.get(name, literal(0)).label(name) for name in MEASURES[1:]
            ]
            parts.append(
                select(
                    literal(scope).label("scope"),
                    key.label("key"),
                    literal(dim).label("dim"),
                    value.label("value"),
                    *measures,
                ).where(*where)
            )
    return union_all(*parts).subquery("contributions")


def _add(connection: Connection, ids: IdFilter, sign: int, params: dict | None = None) -> None:
    """Add `sign` × the contributions of the cases `ids` admits to the sums (`params`: the
    values of the filter's bound parameters)."""
    connection.execute(_upsert(connection.dialect.name, ids, sign), params)


@lru_cache(maxsize=16)
def _upsert(dialect_name: str, ids: IdFilter, sign: int):
    """The statement of `_add`, built once per dialect, filter and sign (building it costs more
    than running it on the few rows of one workflow action)."""
    found = _contributions(ids)
    names = ("scope", "key", "dim", "value")
    grouped = (
        select(
            *(found.c[name] for name in names),
            *((func.sum(found.c[name]) * sign).label(name) for name in MEASURES),
        )
        .where(true())  # SQLite: an upsert's SELECT needs a WHERE (parsing ambiguity)
        .group_by(*(found.c[name] for name in names))
        .order_by(*(found.c[name] for name in names))  # rows locked in one order
    )
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(Tally.__table__).from_select([*names, *MEASURES], grouped)
    table = Tally.__table__
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in names],
        set_={name: table.c[name] + statement.excluded[name] for name in MEASURES},
    )


def take_turn(connection: Connection) -> None:
    """PostgreSQL: wait for the sums until the other writers' transactions end."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def adjust(connection: Connection, ids: IdFilter, sign: int, params: dict | None = None) -> None:
    """Add (+1) or take away (-1) the stored fact rows `ids` admits from the sums (`params`: the
    values of the filter's bound parameters)."""
    if sign < 0 and not connection.execute(_any_stored(ids), params).scalar():
        return  # new messages (the bulk generator): nothing to take away, no turn to wait for
    take_turn(connection)
    _add(connection, ids, sign, params)


@lru_cache(maxsize=16)
def _any_stored(ids: IdFilter):
    """Whether any fact row is stored for the messages `ids` admits (a statement)."""
    return select(exists().where(ids(Fact.message_id)))


def rebuild(connection: Connection) -> None:
    """Recompute every sum from the fact table (in the caller's transaction)."""
    take_turn(connection)
    connection.execute(delete(Tally.__table__))
    _add(connection, lambda column: column.is_not(None), 1)


def read(connection: Connection, scope: str, key: str) -> list:
    """The sums of one scope: rows of (dim, value, n, replied, met, on_time, several, open_one)."""
    return connection.execute(
        select(Tally.dim, Tally.value, *(Tally.__table__.c[name] for name in MEASURES)).where(
            Tally.scope == scope, Tally.key == key
        )
    ).all()


def stored_rows(connection: Connection) -> dict:
    """Every non-zero sum, {(scope, key, dim, value): (measures…)} (for checks)."""
    table = Tally.__table__
    rows = connection.execute(select(table))
    return {
        (row.scope, row.key, row.dim, row.value): tuple(getattr(row, m) for m in MEASURES)
        for row in rows
        if any(getattr(row, m) for m in MEASURES)
    }


def computed_rows(connection: Connection) -> dict:
    """Every sum as computed now from the fact table, like `stored_rows` (for checks)."""
    found = _contributions(lambda column: column.is_not(None))
    names = ("scope", "key", "dim", "value")
    rows = connection.execute(
        select(
            *(found.c[name] for name in names), *(func.sum(found.c[m]) for m in MEASURES)
        ).group_by(*(found.c[name] for name in names))
    )
    return {tuple(row[:4]): tuple(int(v) for v in row[4:]) for row in rows}
