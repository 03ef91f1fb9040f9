"""Figures for any scope and period, computed by the database with GROUP BY (DESIGN §4, §6).

Every figure reads the maintained fact table `stats_case` (board/stats/models.py, kept exact in
the transaction of each change by board/stats/facts.py): one narrow row per message, no join to
clocks or ratings; only what depends on today (open answer clocks past due) is decided per query.

What counts (published on the pages, docs/open-data.md):
- A *case* is a message the public can read: visibility public, not hidden, in a public state.
  Every rate, median, ranking, series, feed and download counts these only, so each figure can be
  checked against the downloadable cases behind it. Private messages, 检举控告 (never public) and
  hidden messages enter no figure except bare volume totals (home counters, the report's "all
  received" line), which never break them down below the region and period.
- The period is the Beijing calendar date the message was *published* (as search filters it).
- Replied: the message has a published reply (`Message.replied_at`).
- Days to reply: from the message's submission (`created_at`) to its reply (`replied_at`).
- On time: an answer clock (board_reply_short, board_reply_long, petition_handling) that ended
  `met` on or before its due date (Beijing date of `closed_at` ≤ `due_on`, extensions included).
  The denominator is every answer clock that is decided: met (on time or late) or still open past
  its due date at `now`. Stopped clocks (transfer, withdrawal) do not count. A message answered in
  two rounds (follow-up, reopening) contributes one clock per round.
- Overdue now: messages with an open answer clock whose due date ended before today (at `now`).
- Satisfaction: the latest rating of each message; composite = mean of the three 1–5 scores.
- Rates come with 95% Wilson score intervals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    desc,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import selectinload

from ..clock import from_local, local_date
from ..extensions import db
from ..models import (
    PUBLIC_STATES,
    Board,
    Clock,
    ClockState,
    Cosign,
    Event,
    Kind,
    Message,
    Region,
    RegionLevel,
    Reply,
    ReplyState,
    Unit,
    Visibility,
)
from .facts import ANSWER_POLICIES
from .models import StatsCase as Fact

Z95 = 1.959963984540054
# Length of a region path prefix at each level: "330000", "330000/330100", "…/330106".
PATH_LENGTH = {RegionLevel.PROVINCE: 6, RegionLevel.CITY: 13, RegionLevel.COUNTY: 20}

# Satisfaction bands of the composite score (mean of three 1–5 scores), as sums of the three:
# composite ≥ 4.5 ⇔ sum ≥ 14, ≥ 3.5 ⇔ ≥ 11, ≥ 2.5 ⇔ ≥ 8, ≥ 1.5 ⇔ ≥ 5.
SATISFACTION_BANDS = (
    ("very_satisfied", 14, _l("很满意")),
    ("satisfied", 11, _l("满意")),
    ("fair", 8, _l("基本满意")),
    ("dissatisfied", 5, _l("不满意")),
    ("very_dissatisfied", 0, _l("很不满意")),
)


# ---------------------------------------------------------------------------------------------
# Rates and intervals


def wilson(hits: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of hits/total (None when total is 0)."""
    if total <= 0:
        return None
    p = hits / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


@dataclass(frozen=True)
class Rate:
    """A proportion with its 95% Wilson interval."""

    hits: int
    total: int

    @property
    def value(self) -> float | None:
        """hits/total, or None without cases."""
        return self.hits / self.total if self.total else None

    @property
    def low(self) -> float | None:
        """Lower bound of the 95% interval."""
        interval = wilson(self.hits, self.total)
        return interval[0] if interval else None

    @property
    def high(self) -> float | None:
        """Upper bound of the 95% interval."""
        interval = wilson(self.hits, self.total)
        return interval[1] if interval else None

    def as_json(self) -> dict:
        """`{"hits", "total", "value", "low", "high"}` rounded to four places."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "hits": self.hits,
            "total": self.total,
            "value": r(self.value),
            "low": r(self.low),
            "high": r(self.high),
        }


# ---------------------------------------------------------------------------------------------
# Scope


@dataclass(frozen=True)
class Scope:
    """Which cases a figure is about: a region subtree, a board, a unit, filters and a period."""

    region: Region | None = None
    board: Board | None = None
    unit: Unit | None = None
    kind: str | None = None
    domain: str | None = None
    track: str | None = None
    date_from: date | None = None  # Beijing publication date, inclusive
    date_to: date | None = None  # inclusive

    def with_period(self, date_from: date | None, date_to: date | None) -> Scope:
        """The same scope over another period."""
        return Scope(
            self.region,
            self.board,
            self.unit,
            self.kind,
            self.domain,
            self.track,
            date_from,
            date_to,
        )


def day_start(day: date) -> datetime:
    """The first instant of a Beijing day, as stored (naive UTC)."""
    return from_local(datetime.combine(day, time.min))


def public_condition() -> ColumnElement[bool]:
    """The message is a case: public, not hidden, in a public state."""
    return and_(
        Message.visibility == Visibility.PUBLIC,
        Message.is_hidden.is_(False),
        Message.state.in_(PUBLIC_STATES),
    )


def within(path_column, path: str) -> ColumnElement[bool]:
    """The path is `path` or lies below it."""
    return or_(path_column == path, path_column.like(path + "/%"))


# The fact table's column holding a region path's code at each path length (level).
LEVEL_COLUMNS = {6: Fact.province, 13: Fact.city, 20: Fact.county}


def region_condition(path: str) -> ColumnElement[bool]:
    """The case lies in the region with this path (the region or below it): its code at the
    region's level is the region's code, the leading column of that level's index."""
    column = LEVEL_COLUMNS.get(len(path))
    if column is None:  # not a path of the directory's three levels
        return within(Fact.region_path, path)
    return column == path[-6:]


def conditions(scope: Scope, *, public: bool = True) -> list[ColumnElement[bool]]:
    """SQL conditions on the fact table (StatsCase) for a scope: public cases only, or with
    `public=False` every message received by the platform, dated by submission."""
    # `= true`, not `IS true`: PostgreSQL can use an index for the first only.
    found: list[ColumnElement[bool]] = [
        Fact.is_case == true() if public else Fact.is_received == true()
    ]
    if scope.region is not None:
        found.append(region_condition(scope.region.path))
    if scope.board is not None:
        found.append(Fact.board_id == scope.board.id)
    if scope.unit is not None:
        found.append(Fact.unit_id == scope.unit.id)
    for name in ("kind", "domain", "track"):
        value = getattr(scope, name)
        if value:
            found.append(getattr(Fact, name) == value)
    day = Fact.published_on if public else Fact.created_on
    if scope.date_from is not None:
        found.append(day >= scope.date_from)
    if scope.date_to is not None:
        found.append(day <= scope.date_to)
    return found


# ---------------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class MonthPoint:
    """One month of the series: cases published and replies given in it."""

    month: str  # YYYY-MM
    messages: int
    replies: int


@dataclass(frozen=True)
class Band:
    """One satisfaction band with its count."""

    key: str
    label: str
    count: int


@dataclass
class Figures:
    """Everything the pages, the API and the report show about one scope."""

    messages: int
    replied: int
    reply_rate: Rate
    on_time: Rate
    median_days: float | None
    p90_days: float | None
    overdue_now: int
    ratings: int
    composite: float | None
    satisfaction: list[Band]
    series: list[MonthPoint] = field(default_factory=list)

    def as_json(self) -> dict:
        """The figures as the API returns them."""

        def r(x: float | None, places: int = 2) -> float | None:
            return None if x is None else round(x, places)

        return {
            "messages": self.messages,
            "replied": self.replied,
            "reply_rate": self.reply_rate.as_json(),
            "on_time": self.on_time.as_json(),
            "median_days_to_reply": r(self.median_days),
            "p90_days_to_reply": r(self.p90_days),
            "overdue_now": self.overdue_now,
            "ratings": self.ratings,
            "satisfaction": {
                "composite": r(self.composite),
                "distribution": {band.key: band.count for band in self.satisfaction},
            },
            "series": [
                {"month": p.month, "messages": p.messages, "replies": p.replies}
                for p in self.series
            ],
        }


def _past_due_sums(today: date) -> list:
    """Two aggregates: the rows with one open answer clock past its due date at `today`, and
    the rows with several open answer clocks (whose clocks `_several_past_due` counts).

    A row stores its number of open answer clocks and the earliest one's due date; the workflow
    keeps at most one open at a time, so the second count is normally 0 and the clock table is
    not read at all. (A correlated subquery here instead made PostgreSQL's planner estimate the
    query dear enough to JIT-compile it: 300 ms for a subquery never run.)"""
    return [
        func.count().filter(and_(Fact.answers_open == 1, Fact.open_due_on < today)),
        func.count().filter(Fact.answers_open > 1),
    ]


def _several_past_due(conds: list, today: date, *groups) -> dict:
    """{group values: open answer clocks past due} over the scope's rows with several open."""
    query = (
        select(*groups, func.count(Clock.id))
        .select_from(Fact)
        .join(Clock, Clock.message_id == Fact.message_id)
        .where(
            *conds,
            Fact.answers_open > 1,
            Clock.policy.in_(ANSWER_POLICIES),
            Clock.state == ClockState.OPEN,
            Clock.due_on < today,
        )
    )
    if groups:
        query = query.group_by(*groups)
    return {tuple(row[:-1]): int(row[-1]) for row in db.session.execute(query)}


def _band_counts() -> list:
    """One count per satisfaction band over the latest ratings' score sums."""
    columns = []
    previous = None
    for _key, floor, _label in SATISFACTION_BANDS:
        total = Fact.rating_total
        test = total >= floor if previous is None else and_(total >= floor, total < previous)
        columns.append(func.count().filter(test))
        previous = floor
    return columns


@dataclass(frozen=True)
class Totals:
    """Sums over a scope's cases, read from the fact table in one pass."""

    messages: int
    replied: int
    decided: int
    on_time: int
    late: int
    overdue: int
    ratings: int
    rating_sum: int
    bands: tuple[int, ...]

    @property
    def on_time_rate(self) -> Rate:
        """Decided answer clocks met on time."""
        return Rate(self.on_time, self.decided)


def _totals(conds: list, today: date, group=None, *, satisfaction: bool = True) -> dict:
    """{group: Totals} (one pass over the scope's rows; `None` key without a group).

    Plain counts and sums, and `count(*) FILTER (WHERE …)` rather than sums of CASE
    expressions: SQLite evaluates far less per row."""
    columns = [
        func.count(),
        func.count(Fact.replied_on),
        func.sum(Fact.answers_met),
        *_past_due_sums(today),
        func.sum(Fact.answers_on_time),
        func.count().filter(Fact.open_due_on < today),
    ]
    if satisfaction:
        columns += [func.count(Fact.rating_total), func.sum(Fact.rating_total), *_band_counts()]
    query = select(*([group] if group is not None else []), *columns).where(*conds)
    if group is not None:
        query = query.group_by(group)
    rows = db.session.execute(query).all()
    several: dict = {}
    if any(row[5 if group is not None else 4] for row in rows):
        several = _several_past_due(conds, today, *([group] if group is not None else []))
    found = {}
    for row in rows:
        key = row[0] if group is not None else None
        v = [int(x or 0) for x in row[1 if group is not None else 0 :]]
        messages, replied, met, past_due_one, _with_several, on_time, overdue = v[:7]
        if not messages:
            continue
        past_due_several = several.get((key,) if group is not None else (), 0)
        ratings, rating_sum, *bands = v[7:] or [0, 0] + [0] * len(SATISFACTION_BANDS)
        found[key] = Totals(
            messages=messages,
            replied=replied,
            decided=met + past_due_one + past_due_several,
            on_time=on_time,
            late=met - on_time,
            overdue=overdue,
            ratings=ratings,
            rating_sum=rating_sum,
            bands=tuple(bands),
        )
    return found


NO_CASES = Totals(0, 0, 0, 0, 0, 0, 0, 0, (0,) * len(SATISFACTION_BANDS))


# Percentiles as (numerator, denominator): the median and the 90th percentile.
MEDIAN, P90 = (1, 2), (9, 10)


def percentile_positions(n: int, fraction: tuple[int, int]) -> tuple[int, int, float]:
    """0-based (lower, upper, weight) of linear interpolation between order statistics."""
    k, d = fraction
    lower = k * (n - 1) // d
    upper = (k * (n - 1) + d - 1) // d
    return lower, upper, (k * (n - 1) - lower * d) / d


def _percentiles(
    conds: list,
    sizes: dict,
    group=None,
    fractions: Iterable[tuple[int, int]] = (MEDIAN, P90),
) -> dict:
    """{group: [days to reply at each fraction]}, linear interpolation (like percentile_cont).

    `sizes` holds each group's number of replied cases (from `_totals`), so each percentile is
    the one or two values at a known position: `ORDER BY days LIMIT 2 OFFSET k`, which the
    database answers by walking a percentile index (board/stats/models.py) to position k: no
    case is loaded and nothing is sorted. A ranking asks for hundreds of groups, so the
    statement is compiled once and repeated with UNION ALL (see `_repeat`)."""
    fractions = tuple(fractions)
    wanted = []  # (group key, fraction index, lower, upper, weight)
    for key, n in sizes.items():
        if n:
            for i, fraction in enumerate(fractions):
                wanted.append((key, i, *percentile_positions(n, fraction)))
    if not wanted:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        return _percentiles_postgresql(conds, sizes, group, fractions)
    where = [*conds, Fact.days_to_reply.is_not(None)]
    if group is not None:
        where.append(group == bindparam("pct_key"))
    member = (
        select(bindparam("pct_q", type_=Integer).label("q"), Fact.days_to_reply.label("v"))
        .where(*where)
        .order_by(Fact.days_to_reply)
        .limit(bindparam("pct_limit", type_=Integer))
        .offset(bindparam("pct_offset", type_=Integer))
    )
    values: dict = defaultdict(list)
    for start in range(0, len(wanted), PERCENTILE_BATCH):
        chunk = wanted[start : start + PERCENTILE_BATCH]
        varying = [
            {
                "pct_q": start + number,
                "pct_key": key,
                "pct_limit": upper - lower + 1,
                "pct_offset": lower,
            }
            for number, (key, _i, lower, upper, _w) in enumerate(chunk)
        ]
        for number, value in _repeat(member, varying):
            values[number].append(float(value))
    found: dict = defaultdict(lambda: [None] * len(fractions))
    for number, (key, i, _lower, _upper, weight) in enumerate(wanted):
        got = sorted(values[number])
        if got:
            found[key][i] = got[0] + weight * (got[-1] - got[0])
    return dict(found)


PERCENTILE_BATCH = 100  # subqueries per statement (SQLite allows 500 compound terms)


def _percentiles_postgresql(conds: list, sizes: dict, group, fractions: tuple) -> dict:
    """PostgreSQL has `percentile_cont` (the same linear interpolation) as an ordered-set
    aggregate: one grouped query, cheaper there than planning hundreds of subqueries."""
    columns = [func.percentile_cont(k / d).within_group(Fact.days_to_reply) for k, d in fractions]
    where = [*conds, Fact.days_to_reply.is_not(None)]
    if group is None:
        row = db.session.execute(select(*columns).where(*where)).one()
        return {None: [None if v is None else float(v) for v in row]}
    keys = [key for key, n in sizes.items() if n]
    query = select(group, *columns).where(*where, group.in_(keys)).group_by(group)
    return {
        row[0]: [None if v is None else float(v) for v in row[1:]]
        for row in db.session.execute(query)
    }


def _repeat(statement, varying: list[dict]):
    """Rows of `statement` run once per dict of `pct_*` parameter values, as one UNION ALL.

    The text is SQLAlchemy's own compilation of `statement`; every value stays a bound parameter.

    Building hundreds of SQLAlchemy selects costs more than the database work they ask for, so
    the statement is compiled once and its SQL text repeated, each copy with its own values."""
    connection = db.session.connection()
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = compiled._bind_processors  # noqa: SLF001 (the values SQLAlchemy would send)

    def value(name, raw):
        processor = processors.get(name)
        return processor(raw) if processor is not None else raw

    base = {name: value(name, raw) for name, raw in compiled.params.items()}
    parts = []
    if compiled.positiontup is not None:  # qmark / format: one list of values in order
        params: list = []
        for number, own in enumerate(varying):
            parts.append(f"SELECT * FROM ({compiled.string}) AS pct_{number}")  # noqa: S608
            params += [
                value(name, own[name]) if name in own else base[name]
                for name in compiled.positiontup
            ]
        return connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)).all()
    named: dict = dict(base)
    for number, own in enumerate(varying):
        text = compiled.string
        for name in own:
            text = text.replace(f"%({name})s", f"%({name}_{number})s")
            named[f"{name}_{number}"] = value(name, own[name])
        parts.append(f"SELECT * FROM ({text}) AS pct_{number}")  # noqa: S608
    return connection.exec_driver_sql(" UNION ALL ".join(parts), named).all()


def months_between(first: date, last: date) -> list[str]:
    """`YYYY-MM` of every month from the one holding `first` to the one holding `last`."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def chart_range(scope: Scope, now: datetime, months: int = 12) -> tuple[date, date]:
    """The period the monthly chart shows: the scope's, or the last `months` months to today."""
    today = local_date(now)
    last = scope.date_to or today
    if scope.date_from is not None:
        return scope.date_from, last
    year, month = last.year, last.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), last


def series(scope: Scope, now: datetime) -> list[MonthPoint]:
    """Cases published and replies given per Beijing month over the chart's period."""
    first, last = chart_range(scope, now)
    published = dict(
        db.session.execute(
            select(Fact.published_month, func.count())
            .where(*conditions(scope.with_period(first, last)))
            .group_by(Fact.published_month)
        ).all()
    )
    replied = dict(
        db.session.execute(
            select(Fact.reply_month, func.count())
            .where(
                *conditions(scope.with_period(None, None)),
                # Equivalent to replied_on IS NOT NULL; skips the unreplied cases, which the
                # scope's index keeps apart (days to reply leads after the scope).
                Fact.days_to_reply.is_not(None),
                Fact.replied_on >= first,
                Fact.replied_on <= last,
            )
            .group_by(Fact.reply_month)
        ).all()
    )
    return [
        MonthPoint(m, published.get(m, 0), replied.get(m, 0)) for m in months_between(first, last)
    ]


def _figures(scope: Scope, now: datetime, with_series: bool) -> tuple[Figures, Totals]:
    conds = conditions(scope)
    totals = _totals(conds, local_date(now)).get(None, NO_CASES)
    median, p90 = _percentiles(conds, {None: totals.replied}).get(None, [None, None])
    bands = [
        Band(key, str(label), n)
        for (key, _floor, label), n in zip(SATISFACTION_BANDS, totals.bands, strict=True)
    ]
    figures = Figures(
        messages=totals.messages,
        replied=totals.replied,
        reply_rate=Rate(totals.replied, totals.messages),
        on_time=totals.on_time_rate,
        median_days=median,
        p90_days=p90,
        overdue_now=totals.overdue,
        ratings=totals.ratings,
        composite=totals.rating_sum / totals.ratings / 3 if totals.ratings else None,
        satisfaction=bands,
        series=series(scope, now) if with_series else [],
    )
    return figures, totals


def figures(scope: Scope, *, now: datetime, with_series: bool = True) -> Figures:
    """All figures of one scope at `now`."""
    return _figures(scope, now, with_series)[0]


# ---------------------------------------------------------------------------------------------
# Rankings

GROUPS = ("region", "board", "unit")
SORTS = ("on_time", "reply_rate", "speed")


@dataclass
class Entity:
    """What a ranked row is about: its kind, code, name and page."""

    kind: str  # region | board | unit
    code: str
    name: str


@dataclass
class RankRow:
    """One ranked entity."""

    entity: Entity
    messages: int
    reply_rate: Rate
    on_time: Rate
    median_days: float | None
    p90_days: float | None
    overdue_now: int
    rank: int = 0

    def as_json(self) -> dict:
        """The row as the API returns it."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)

        return {
            "rank": self.rank,
            "group": self.entity.kind,
            "code": self.entity.code,
            "name": self.entity.name,
            "messages": self.messages,
            "reply_rate": self.reply_rate.as_json(),
            "on_time": self.on_time.as_json(),
            "median_days_to_reply": r(self.median_days),
            "p90_days_to_reply": r(self.p90_days),
            "overdue_now": self.overdue_now,
        }


@dataclass
class Ranking:
    """Ranked rows and how many entities had too few cases to be ranked."""

    rows: list[RankRow]
    unranked: int
    min_cases: int
    group_by: str
    sort: str


def _group_expression(group_by: str, level: str | None, post: str | None) -> tuple:
    """(column to group by, extra conditions) for a ranking."""
    if group_by == "board":
        extra = []
        if level:
            boards = select(Board.id).join(Region, Board.region_code == Region.code)
            extra.append(Fact.board_id.in_(boards.where(Region.level == level)))
        if post:
            extra.append(Fact.board_id.in_(select(Board.id).where(Board.post == post)))
        return Fact.board_id, extra
    if group_by == "unit":
        extra = [Fact.unit_id.is_not(None)]
        if level:
            units = select(Unit.id).join(Region, Unit.region_code == Region.code)
            extra.append(Fact.unit_id.in_(units.where(Region.level == level)))
        return Fact.unit_id, extra
    column = LEVEL_COLUMNS[PATH_LENGTH[RegionLevel(level or RegionLevel.PROVINCE)]]
    return column, [column.is_not(None)]


def _entities(group_by: str, keys: list) -> dict:
    """{key: Entity} for the grouped keys."""
    if not keys:
        return {}
    if group_by == "board":
        return {
            b.id: Entity("board", b.code, b.label)
            for b in db.session.scalars(select(Board).where(Board.id.in_(keys)))
        }
    if group_by == "unit":
        return {
            u.id: Entity("unit", u.code, u.label)
            for u in db.session.scalars(select(Unit).where(Unit.id.in_(keys)))
        }
    return {
        r.code: Entity("region", r.code, r.full_label)
        for r in db.session.scalars(select(Region).where(Region.code.in_(keys)))
    }


def ranking(
    group_by: str,
    scope: Scope,
    *,
    now: datetime,
    min_cases: int,
    level: str | None = None,
    post: str | None = None,
    sort: str = "on_time",
) -> Ranking:
    """Entities with at least `min_cases` cases, best first by the chosen measure.

    Rates are ordered by the lower bound of their 95% Wilson interval (a small entity with a
    lucky streak does not beat a large one that is reliably good); speed by median days to reply
    (fewest first), ties broken by the on-time lower bound.
    """
    post = post if group_by == "board" else None
    group, extra = _group_expression(group_by, level, post)
    conds = conditions(scope) + extra
    totals = _totals(conds, local_date(now), group, satisfaction=False)
    large = {g: t for g, t in totals.items() if g is not None and t.messages >= min_cases}
    unranked = sum(1 for g, t in totals.items() if g is not None and t.messages < min_cases)
    speeds = _percentiles(conds, {g: t.replied for g, t in large.items()}, group)
    entities = _entities(group_by, list(large))
    rows = []
    for key, t in large.items():
        if key not in entities:
            continue
        median, p90 = speeds.get(key, [None, None])
        rows.append(
            RankRow(
                entity=entities[key],
                messages=t.messages,
                reply_rate=Rate(t.replied, t.messages),
                on_time=t.on_time_rate,
                median_days=median,
                p90_days=p90,
                overdue_now=t.overdue,
            )
        )

    def low(rate: Rate) -> float:
        return rate.low if rate.low is not None else -1.0

    if sort == "reply_rate":
        rows.sort(key=lambda r: (-low(r.reply_rate), -r.messages, r.entity.code))
    elif sort == "speed":
        rows.sort(
            key=lambda r: (
                r.median_days if r.median_days is not None else math.inf,
                -low(r.on_time),
                r.entity.code,
            )
        )
    else:
        sort = "on_time"
        rows.sort(key=lambda r: (-low(r.on_time), -r.messages, r.entity.code))
    for position, row in enumerate(rows, start=1):
        row.rank = position
    return Ranking(rows, unranked, min_cases, group_by, sort)


# ---------------------------------------------------------------------------------------------
# Home


@dataclass(frozen=True)
class Counters:
    """Messages written and replies published: today, this year, in total (Beijing days).

    Bare volumes: every message received counts, public or not (no breakdown is shown)."""

    messages_today: int
    messages_year: int
    messages_total: int
    replies_today: int
    replies_year: int
    replies_total: int


def counters(*, now: datetime) -> Counters:
    """The home counters: six counts, each a range of an index (`ix_message_created_at`,
    `ix_reply_state_published_at`) rather than a pass over every row."""
    today = local_date(now)
    day = day_start(today)
    year = day_start(today.replace(month=1, day=1))

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    published = Reply.state == ReplyState.PUBLISHED
    return Counters(
        messages_today=count(Message, Message.created_at >= day),
        messages_year=count(Message, Message.created_at >= year),
        messages_total=count(Message),
        replies_today=count(Reply, published, Reply.published_at >= day),
        replies_year=count(Reply, published, Reply.published_at >= year),
        replies_total=count(Reply, published),
    )


def most_cosigned(*, now: datetime, limit: int = 8) -> list[tuple[Message, int]]:
    """Public messages with the most co-signs given this (Beijing) month, with that count.

    The month's co-signs are counted first (`ix_cosign_created_at`) and the messages fetched by
    primary key for the leading candidates only, `limit` × 4 at a time until enough of them are
    public; joining the counts to the message table made PostgreSQL scan every message."""
    today = local_date(now)
    since = day_start(today.replace(day=1))
    counts = (
        select(Cosign.message_id, func.count(Cosign.id).label("n"))
        .where(Cosign.created_at >= since)
        .group_by(Cosign.message_id)
        .order_by(desc("n"), Cosign.message_id.desc())
    )
    found: list[tuple[Message, int]] = []
    batch = max(limit * 4, 1)
    offset = 0
    while len(found) < limit:
        candidates = db.session.execute(counts.limit(batch).offset(offset)).all()
        if not candidates:
            break
        public = {
            m.id: m
            for m in db.session.scalars(
                select(Message)
                .options(selectinload(Message.author))
                .where(Message.id.in_([mid for mid, _n in candidates]), public_condition())
            )
        }
        found += [(public[mid], n) for mid, n in candidates if mid in public]
        offset += batch
    return found[:limit]


# ---------------------------------------------------------------------------------------------
# Periodic report (信访工作条例 Art. 41)


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: its name, label and first and last Beijing days."""

    name: str  # 2026, 2026-Q1, 2026-03
    first: date
    last: date

    @property
    def kind(self) -> str:
        """year | quarter | month."""
        if "-Q" in self.name:
            return "quarter"
        return "month" if "-" in self.name else "year"

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "year":
            return parse_period(str(self.first.year - 1))
        if self.kind == "quarter":
            q = (self.first.month - 1) // 3 + 1
            year, q = (self.first.year - 1, 4) if q == 1 else (self.first.year, q - 1)
            return parse_period(f"{year}-Q{q}")
        year, month = (
            (self.first.year - 1, 12)
            if self.first.month == 1
            else (self.first.year, self.first.month - 1)
        )
        return parse_period(f"{year:04d}-{month:02d}")


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def parse_period(text: str | None) -> Period | None:
    """`2026`, `2026-Q2` or `2026-03` as a Period; None when malformed or out of range."""
    text = (text or "").strip().upper()
    try:
        if len(text) == 4 and text.isdigit():
            year = int(text)
            if not 1900 <= year <= 2999:
                return None
            return Period(text, date(year, 1, 1), date(year, 12, 31))
        if len(text) == 7 and text[4:6] == "-Q" and text[:4].isdigit() and text[6] in "1234":
            year, q = int(text[:4]), int(text[6])
            if not 1900 <= year <= 2999:
                return None
            return Period(text, date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            year, month = int(text[:4]), int(text[5:])
            if not 1900 <= year <= 2999 or not 1 <= month <= 12:
                return None
            return Period(text, date(year, month, 1), _month_end(year, month))
    except ValueError:
        return None
    return None


@dataclass
class Report:
    """The periodic report of a region (信访工作条例 Art. 41)."""

    region: Region
    period: Period
    figures: Figures
    previous_messages: int
    all_received: int
    by_kind: list[tuple[str, int, int]]  # (kind, cases, replied)
    by_domain: list[tuple[str, int, int]]
    complained_units: list[tuple[Unit, int, Rate]]  # (unit, complaints, on-time)
    assigned: int
    assigned_units: int
    transfers: int
    returns: int
    urges: int
    urged_messages: int
    extensions: int
    late_replies: int
    suggestions: int
    suggestions_replied: int
    suggestions_adopted: int

    @property
    def trend(self) -> float | None:
        """Change in cases against the previous period, as a fraction."""
        if not self.previous_messages:
            return None
        return (self.figures.messages - self.previous_messages) / self.previous_messages

    @property
    def adoption(self) -> Rate:
        """Adopted suggestions among the answered ones."""
        return Rate(self.suggestions_adopted, self.suggestions_replied)


COMPLAINT_KINDS = (Kind.COMPLAINT, Kind.CLAIM)
SUGGESTION_KINDS = (Kind.SUGGESTION, Kind.OPINION)


REPORT_EVENTS = ("transfer", "return_approved", "urge", "extend")


def _event_counts(conds: list, period: Period) -> dict[str, tuple[int, int]]:
    """{action: (events, cases)} of the report's actions dated within the period, on the scope's
    cases (`ix_event_action_created_at` finds the few such events; each is checked against its
    case's fact row by primary key)."""
    rows = db.session.execute(
        select(Event.action, func.count(Event.id), func.count(func.distinct(Event.message_id)))
        .select_from(Event)
        .join(Fact, Fact.message_id == Event.message_id)
        .where(
            Event.action.in_(REPORT_EVENTS),
            Event.created_at >= day_start(period.first),
            Event.created_at < day_start(period.last + timedelta(days=1)),
            *conds,
        )
        .group_by(Event.action)
    )
    return {action: (n, cases) for action, n, cases in rows}


def report(region: Region, period: Period, *, now: datetime) -> Report:
    """Volumes and trend, kinds and domains, most-complained units, assignment, supervision,
    overdue handling and adopted suggestions for a region and period."""
    scope = Scope(region=region, date_from=period.first, date_to=period.last)
    conds = conditions(scope)
    today = local_date(now)
    fig, totals = _figures(scope, now, with_series=True)
    # The previous period's cases and every message received in this one, in one pass.
    previous = period.previous()
    previous_messages, all_received = (
        int(n or 0)
        for n in db.session.execute(
            select(
                func.count().filter(
                    Fact.is_case == true(),
                    Fact.published_on >= previous.first,
                    Fact.published_on <= previous.last,
                ),
                func.count().filter(
                    Fact.is_received.is_(True),
                    Fact.created_on >= period.first,
                    Fact.created_on <= period.last,
                ),
            ).where(region_condition(region.path))
        ).one()
    )

    # Kinds, domains, adoption, assignment and each unit's complaints with their on-time
    # rate: one GROUP BY kind, domain, unit (one sort of the period's cases).
    kinds: dict = defaultdict(lambda: [0, 0])
    domains: dict = defaultdict(lambda: [0, 0])
    suggestions = [0, 0, 0]  # cases, replied, adopted
    assigned = 0
    units_assigned: set = set()
    complaint_counts: dict = defaultdict(lambda: [0, 0, 0])  # unit: cases, decided, on time
    rows = db.session.execute(
        select(
            Fact.kind,
            Fact.domain,
            Fact.unit_id,
            func.count(),
            func.count(Fact.replied_on),
            func.count().filter(Fact.adopted.is_(True)),
            func.count().filter(Fact.is_assigned.is_(True)),
            func.sum(Fact.answers_met),
            *_past_due_sums(today),
            func.sum(Fact.answers_on_time),
        )
        .where(*conds)
        .group_by(Fact.kind, Fact.domain, Fact.unit_id)
    )
    rows = rows.all()
    several_open: dict = {}
    if any(row[9] for row in rows):
        several_open = _several_past_due(conds, today, Fact.kind, Fact.domain, Fact.unit_id)
    for kind, domain, unit_id, n, *counts in rows:
        replied, adopted, assigned_n, met, one, _with_several, on_time = (
            int(c or 0) for c in counts
        )
        several = several_open.get((kind, domain, unit_id), 0)
        for table, key in ((kinds, kind), (domains, domain)):
            table[key][0] += n
            table[key][1] += replied
        if kind in SUGGESTION_KINDS:
            suggestions[0] += n
            suggestions[1] += replied
            suggestions[2] += adopted
        assigned += assigned_n
        if unit_id is not None and assigned_n:
            units_assigned.add(unit_id)
        if unit_id is not None and kind in COMPLAINT_KINDS:
            complaint_counts[unit_id][0] += n
            complaint_counts[unit_id][1] += met + one + several
            complaint_counts[unit_id][2] += on_time
    assigned_units = len(units_assigned)

    def ordered(table: dict) -> list[tuple[str, int, int]]:
        return sorted(((k, n, r) for k, (n, r) in table.items()), key=lambda t: (-t[1], t[0]))

    complaints = {
        unit_id: (n, Rate(on_time, decided))
        for unit_id, (n, decided, on_time) in complaint_counts.items()
    }
    top = sorted(complaints.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    units = {
        u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_([k for k, _ in top])))
    }
    complained = [(units[k], n, rate) for k, (n, rate) in top if k in units]
    events = _event_counts(conds, period)
    return Report(
        region=region,
        period=period,
        figures=fig,
        previous_messages=previous_messages,
        all_received=all_received,
        by_kind=ordered(kinds),
        by_domain=ordered(domains),
        complained_units=complained,
        assigned=assigned,
        assigned_units=assigned_units,
        transfers=events.get("transfer", (0, 0))[0],
        returns=events.get("return_approved", (0, 0))[0],
        urges=events.get("urge", (0, 0))[0],
        urged_messages=events.get("urge", (0, 0))[1],
        extensions=events.get("extend", (0, 0))[0],
        late_replies=totals.late,
        suggestions=suggestions[0],
        suggestions_replied=suggestions[1],
        suggestions_adopted=suggestions[2],
    )


__all__ = [
    "ANSWER_POLICIES",
    "Counters",
    "Figures",
    "Period",
    "Rate",
    "Ranking",
    "Report",
    "Scope",
    "conditions",
    "counters",
    "figures",
    "most_cosigned",
    "parse_period",
    "ranking",
    "report",
    "wilson",
]
