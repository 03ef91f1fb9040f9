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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    or_,
    select,
    true,
)

from ..clock import from_local, local_date
from ..extensions import db
from ..models import (
    PUBLIC_STATES,
    Board,
    Clock,
    ClockState,
    Message,
    Region,
    RegionLevel,
    Unit,
    Visibility,
)
from . import tally
from .facts import ANSWER_POLICIES
from .models import StatsCase as Fact
from .percentiles import MEDIAN, P90, _percentiles, percentile_positions  # noqa: F401

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
        return replace(self, date_from=date_from, date_to=date_to)


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

    def reply_figures(self, median_days: float | None, p90_days: float | None) -> dict:
        """The figures a scope's page and a ranking row share, with the reply-time percentiles."""
        return {
            "messages": self.messages,
            "reply_rate": Rate(self.replied, self.messages),
            "on_time": self.on_time_rate,
            "median_days": median_days,
            "p90_days": p90_days,
            "overdue_now": self.overdue,
        }


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


def tally_key(scope: Scope) -> tuple[str, str] | None:
    """(scope, key) of `stats_tally` when the figures of this scope can be read from its sums:
    one region, board or unit, no filter, no period."""
    if scope.kind or scope.domain or scope.track or scope.date_from or scope.date_to:
        return None
    given = [x for x in (scope.region, scope.board, scope.unit) if x is not None]
    if len(given) != 1:
        return None
    if scope.region is not None:
        level = {6: "province", 13: "city", 20: "county"}.get(len(scope.region.path))
        return (level, scope.region.path[-6:]) if level else None
    if scope.board is not None:
        return "board", str(scope.board.id)
    return "unit", str(scope.unit.id)


def _values_at(conds: list, buckets: list[tuple[int, int]], lower: int, upper: int) -> list:
    """The days to reply at 0-based positions lower…upper in order: the hour buckets' counts
    (board/stats/tally.py) say which buckets hold them, one probe of the scope's index reads
    them there."""
    before, start, end = 0, None, None
    for bucket, n in buckets:
        if start is None and lower < before + n:
            start, offset = bucket, lower - before
        if upper < before + n:
            end = bucket
            break
        before += n
    if start is None or end is None:
        return []
    per_day = tally.BUCKETS_PER_DAY
    # The index range is one bucket wider on each side (floating point near a boundary); the
    # bucket expression itself decides, as it did for the sums.
    found = tally.bucket(Fact.days_to_reply)
    return list(
        db.session.scalars(
            select(Fact.days_to_reply)
            .where(
                *conds,
                Fact.days_to_reply >= (start - 1) / per_day,
                Fact.days_to_reply < (end + 2) / per_day,
                found >= start,
                found <= end,
            )
            .order_by(Fact.days_to_reply)
            .limit(upper - lower + 1)
            .offset(offset)
        )
    )


def _tallied(scope: Scope, key: tuple[str, str], now: datetime, with_series: bool) -> tuple:
    """(totals, [median, p90], series) from the scope's running sums (board/stats/tally.py):
    the same numbers as the direct computation, at a cost that does not grow with the data."""
    today = local_date(now)
    rows = tally.read(db.session.connection(), *key)
    p = [row for row in rows if row.dim == "p"]
    messages, replied, met, on_time, several = (
        sum(getattr(row, name) for row in p)
        for name in ("n", "replied", "met", "on_time", "several")
    )
    due = [row for row in rows if row.dim == "d" and row.value < today.isoformat()]
    conds = conditions(scope)
    past_due_several = _several_past_due(conds, today).get((), 0) if several else 0
    scores = {int(row.value): row.n for row in rows if row.dim == "b" and row.n}
    bands, previous = [], None
    for _key, floor, _label in SATISFACTION_BANDS:
        bands.append(
            sum(n for s, n in scores.items() if s >= floor and (previous is None or s < previous))
        )
        previous = floor
    totals = Totals(
        messages=messages,
        replied=replied,
        decided=met + sum(row.open_one for row in due) + past_due_several,
        on_time=on_time,
        late=met - on_time,
        overdue=sum(row.n for row in due),
        ratings=sum(scores.values()),
        rating_sum=sum(s * n for s, n in scores.items()),
        bands=tuple(bands),
    )
    buckets = sorted((int(row.value), row.n) for row in rows if row.dim == "x" and row.n)
    percentiles = [None, None]
    if replied:
        for i, fraction in enumerate((MEDIAN, P90)):
            lower, upper, weight = percentile_positions(replied, fraction)
            got = _values_at(conds, buckets, lower, upper)
            if got:
                percentiles[i] = got[0] + weight * (got[-1] - got[0])
    points = []
    if with_series:
        first, last = chart_range(scope, now)
        published = {row.value: row.n for row in p}
        replies = {row.value: row.n for row in rows if row.dim == "r"}
        points = [
            MonthPoint(m, published.get(m, 0), replies.get(m, 0))
            for m in months_between(first, last)
        ]
    return totals, percentiles, points


def _figures(scope: Scope, now: datetime, with_series: bool) -> tuple[Figures, Totals]:
    key = tally_key(scope)
    if key is not None:
        totals, (median, p90), points = _tallied(scope, key, now, with_series)
    else:
        conds = conditions(scope)
        totals = _totals(conds, local_date(now)).get(None, NO_CASES)
        median, p90 = _percentiles(conds, {None: totals.replied}).get(None, [None, None])
        points = series(scope, now) if with_series else []
    bands = [
        Band(key, str(label), n)
        for (key, _floor, label), n in zip(SATISFACTION_BANDS, totals.bands, strict=True)
    ]
    figures = Figures(
        **totals.reply_figures(median, p90),
        replied=totals.replied,
        ratings=totals.ratings,
        composite=totals.rating_sum / totals.ratings / 3 if totals.ratings else None,
        satisfaction=bands,
        series=points,
    )
    return figures, totals


def figures(scope: Scope, *, now: datetime, with_series: bool = True) -> Figures:
    """All figures of one scope at `now`."""
    return _figures(scope, now, with_series)[0]
