"""Figures for any scope and period, computed by the database with GROUP BY (DESIGN §4, §6).

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
    and_,
    case,
    desc,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

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
    Rating,
    Region,
    RegionLevel,
    Reply,
    ReplyState,
    Unit,
    Visibility,
)
from .sql import days_between, local_month
from .sql import local_date as sql_local_date

ANSWER_POLICIES = ("board_reply_short", "board_reply_long", "petition_handling")
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


def conditions(scope: Scope, *, public: bool = True) -> list[ColumnElement[bool]]:
    """SQL conditions on Message for a scope (public cases only unless `public=False`)."""
    found: list[ColumnElement[bool]] = [public_condition()] if public else []
    if not public:
        found.append(Message.state.in_(PUBLIC_STATES))  # received by the platform
    if scope.region is not None:
        found.append(within(Message.region_path, scope.region.path))
    if scope.board is not None:
        found.append(Message.board_id == scope.board.id)
    if scope.unit is not None:
        found.append(Message.unit_id == scope.unit.id)
    for name in ("kind", "domain", "track"):
        value = getattr(scope, name)
        if value:
            found.append(getattr(Message, name) == value)
    moment = Message.published_at if public else Message.created_at
    if scope.date_from is not None:
        found.append(moment >= day_start(scope.date_from))
    if scope.date_to is not None:
        found.append(moment < day_start(scope.date_to + timedelta(days=1)))
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


def _volume(conds: list, group=None) -> dict:
    """{group: (messages, replied)}."""
    replied = func.sum(case((Message.replied_at.is_not(None), 1), else_=0))
    columns = [func.count(Message.id), replied]
    if group is None:
        row = db.session.execute(select(*columns).where(*conds)).one()
        return {None: (row[0] or 0, int(row[1] or 0))}
    rows = db.session.execute(select(group, *columns).where(*conds).group_by(group))
    return {g: (n or 0, int(k or 0)) for g, n, k in rows}


def _on_time(conds: list, today: date, group=None) -> dict:
    """{group: Rate} of decided answer clocks met on time.

    The clock states are tested inside the sums, not in WHERE, so the planner walks from the
    scope's messages to their clocks (message_id index) instead of scanning every met clock of
    the platform through the (state, due_on) index."""
    decided = or_(
        Clock.state == ClockState.MET,
        and_(Clock.state == ClockState.OPEN, Clock.due_on < today),
    )
    in_time = and_(Clock.state == ClockState.MET, sql_local_date(Clock.closed_at) <= Clock.due_on)
    columns = [
        func.sum(case((decided, 1), else_=0)),
        func.sum(case((in_time, 1), else_=0)),
    ]
    query = (
        select(*([group] if group is not None else []), *columns)
        .select_from(Clock)
        .join(Message, Message.id == Clock.message_id)
        .where(*conds, Clock.policy.in_(ANSWER_POLICIES))
    )
    if group is None:
        n, k = db.session.execute(query).one()
        return {None: Rate(int(k or 0), int(n or 0))}
    return {
        g: Rate(int(k or 0), int(n or 0)) for g, n, k in db.session.execute(query.group_by(group))
    }


def _overdue(conds: list, today: date, group=None) -> dict:
    """{group: messages with an open answer clock past its due date}."""
    query = (
        select(*([group] if group is not None else []), func.count(func.distinct(Message.id)))
        .select_from(Clock)
        .join(Message, Message.id == Clock.message_id)
        .where(
            *conds,
            Clock.policy.in_(ANSWER_POLICIES),
            Clock.state == ClockState.OPEN,
            Clock.due_on < today,
        )
    )
    if group is None:
        return {None: db.session.scalar(query) or 0}
    return {g: n for g, n in db.session.execute(query.group_by(group))}


# Percentiles as (numerator, denominator): the median and the 90th percentile.
MEDIAN, P90 = (1, 2), (9, 10)


def percentile_positions(n: int, fraction: tuple[int, int]) -> tuple[int, int, float]:
    """0-based (lower, upper, weight) of linear interpolation between order statistics."""
    k, d = fraction
    lower = k * (n - 1) // d
    upper = (k * (n - 1) + d - 1) // d
    return lower, upper, (k * (n - 1) - lower * d) / d


def _percentiles(
    conds: list, group=None, fractions: Iterable[tuple[int, int]] = (MEDIAN, P90)
) -> dict:
    """{group: [days to reply at each fraction]}, linear interpolation (like percentile_cont).

    A window query numbers each group's replied cases by days to reply and the database returns
    only the one or two rows around each percentile, never the cases themselves.
    """
    fractions = tuple(fractions)
    value = days_between(Message.created_at, Message.replied_at)
    partition = [group] if group is not None else None
    label = group.label("g") if group is not None else literal(0).label("g")
    inner = (
        select(
            label,
            value.label("v"),
            func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(*conds, Message.replied_at.is_not(None))
        .subquery()
    )
    picks = []
    for k, d in fractions:
        picks.append(inner.c.rn == 1 + (k * (inner.c.n - 1)) // d)
        picks.append(inner.c.rn == 1 + (k * (inner.c.n - 1) + d - 1) // d)
    rows = db.session.execute(
        select(inner.c.g, inner.c.rn, inner.c.n, inner.c.v).where(or_(*picks))
    )
    values: dict = defaultdict(dict)
    sizes: dict = {}
    for g, rn, n, v in rows:
        values[g][rn - 1] = float(v)
        sizes[g] = n
    result = {}
    for g, found in values.items():
        answers = []
        for fraction in fractions:
            lower, upper, weight = percentile_positions(sizes[g], fraction)
            answers.append(found[lower] + weight * (found[upper] - found[lower]))
        result[None if group is None else g] = answers
    return result


def _satisfaction(conds: list) -> tuple[int, float | None, list[Band]]:
    """(ratings, mean composite, bands) over the latest rating of each case."""
    later = aliased(Rating)
    latest = ~exists().where(later.message_id == Rating.message_id, later.id > Rating.id)
    total = Rating.resolution + Rating.attitude + Rating.speed
    band_columns = []
    previous = None
    for _key, floor, _label in SATISFACTION_BANDS:
        test = total >= floor if previous is None else and_(total >= floor, total < previous)
        band_columns.append(func.sum(case((test, 1), else_=0)))
        previous = floor
    row = db.session.execute(
        select(func.count(Rating.id), func.avg(total), *band_columns)
        .select_from(Message)
        .join(Rating, Rating.message_id == Message.id)
        .where(*conds, latest)
    ).one()
    count = row[0] or 0
    composite = float(row[1]) / 3 if count else None
    bands = [
        Band(key, str(label), int(n or 0))
        for (key, _floor, label), n in zip(SATISFACTION_BANDS, row[2:], strict=True)
    ]
    return count, composite, bands


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
    ranged = scope.with_period(first, last)
    month = local_month(Message.published_at)
    published = dict(
        db.session.execute(
            select(month, func.count(Message.id)).where(*conditions(ranged)).group_by(month)
        ).all()
    )
    reply_month = local_month(Message.replied_at)
    undated = scope.with_period(None, None)
    replied = dict(
        db.session.execute(
            select(reply_month, func.count(Message.id))
            .where(
                *conditions(undated),
                Message.replied_at >= day_start(first),
                Message.replied_at < day_start(last + timedelta(days=1)),
            )
            .group_by(reply_month)
        ).all()
    )
    return [
        MonthPoint(m, published.get(m, 0), replied.get(m, 0)) for m in months_between(first, last)
    ]


def figures(scope: Scope, *, now: datetime, with_series: bool = True) -> Figures:
    """All figures of one scope at `now`."""
    conds = conditions(scope)
    today = local_date(now)
    messages, replied = _volume(conds)[None]
    median, p90 = _percentiles(conds).get(None, [None, None])
    ratings, composite, bands = _satisfaction(conds)
    return Figures(
        messages=messages,
        replied=replied,
        reply_rate=Rate(replied, messages),
        on_time=_on_time(conds, today)[None],
        median_days=median,
        p90_days=p90,
        overdue_now=_overdue(conds, today)[None],
        ratings=ratings,
        composite=composite,
        satisfaction=bands,
        series=series(scope, now) if with_series else [],
    )


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


def _group_expression(group_by: str, level: str | None):
    """(SQL expression to group by, extra conditions) for a ranking."""
    if group_by == "board":
        extra = []
        if level:
            boards = select(Board.id).join(Region, Board.region_code == Region.code)
            extra.append(Message.board_id.in_(boards.where(Region.level == level)))
        return Message.board_id, extra
    if group_by == "unit":
        extra = [Message.unit_id.is_not(None)]
        if level:
            units = select(Unit.id).join(Region, Unit.region_code == Region.code)
            extra.append(Message.unit_id.in_(units.where(Region.level == level)))
        return Message.unit_id, extra
    length = PATH_LENGTH[RegionLevel(level or RegionLevel.PROVINCE)]
    return func.substr(Message.region_path, 1, length), [func.length(Message.region_path) >= length]


def _entities(group_by: str, keys: list) -> dict:
    """{key: Entity} for the grouped keys."""
    if not keys:
        return {}
    if group_by == "board":
        return {
            b.id: Entity("board", b.code, b.title)
            for b in db.session.scalars(select(Board).where(Board.id.in_(keys)))
        }
    if group_by == "unit":
        return {
            u.id: Entity("unit", u.code, u.name)
            for u in db.session.scalars(select(Unit).where(Unit.id.in_(keys)))
        }
    by_code = {str(k)[-6:]: k for k in keys}
    return {
        by_code[r.code]: Entity("region", r.code, r.full_name)
        for r in db.session.scalars(select(Region).where(Region.code.in_(list(by_code))))
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
    group, extra = _group_expression(group_by, level)
    conds = conditions(scope) + extra
    if post and group_by == "board":
        conds.append(Message.board_id.in_(select(Board.id).where(Board.post == post)))
    today = local_date(now)
    volumes = _volume(conds, group)
    large = {g: v for g, v in volumes.items() if g is not None and v[0] >= min_cases}
    unranked = sum(1 for g, v in volumes.items() if g is not None and v[0] < min_cases)
    on_time = _on_time(conds, today, group)
    overdue = _overdue(conds, today, group)
    speeds = _percentiles(conds, group)
    entities = _entities(group_by, list(large))
    rows = []
    for key, (messages, replied) in large.items():
        if key not in entities:
            continue
        median, p90 = speeds.get(key, [None, None])
        rows.append(
            RankRow(
                entity=entities[key],
                messages=messages,
                reply_rate=Rate(replied, messages),
                on_time=on_time.get(key, Rate(0, 0)),
                median_days=median,
                p90_days=p90,
                overdue_now=overdue.get(key, 0),
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
    """The home counters in two queries (one per table), each with conditional sums."""
    today = local_date(now)
    day = day_start(today)
    year = day_start(today.replace(month=1, day=1))

    def since(column, start):
        return func.sum(case((column >= start, 1), else_=0))

    m = db.session.execute(
        select(
            func.count(Message.id), since(Message.created_at, year), since(Message.created_at, day)
        )
    ).one()
    r = db.session.execute(
        select(
            func.count(Reply.id), since(Reply.published_at, year), since(Reply.published_at, day)
        ).where(Reply.state == ReplyState.PUBLISHED)
    ).one()
    return Counters(
        messages_today=int(m[2] or 0),
        messages_year=int(m[1] or 0),
        messages_total=m[0] or 0,
        replies_today=int(r[2] or 0),
        replies_year=int(r[1] or 0),
        replies_total=r[0] or 0,
    )


def most_cosigned(*, now: datetime, limit: int = 8) -> list[tuple[Message, int]]:
    """Public messages with the most co-signs given this (Beijing) month, with that count."""
    today = local_date(now)
    since = day_start(today.replace(day=1))
    counts = (
        select(Cosign.message_id.label("mid"), func.count(Cosign.id).label("n"))
        .where(Cosign.created_at >= since)
        .group_by(Cosign.message_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Message, counts.c.n)
        .join(counts, counts.c.mid == Message.id)
        .where(public_condition())
        .order_by(desc(counts.c.n), Message.id.desc())
        .limit(limit)
    ).all()
    return [(message, n) for message, n in rows]


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


def _event_count(conds: list, actions: tuple[str, ...], period: Period, distinct=False) -> int:
    """Events of these actions dated within the period, on the scope's cases."""
    counted = func.count(func.distinct(Event.message_id)) if distinct else func.count(Event.id)
    return (
        db.session.scalar(
            select(counted)
            .select_from(Event)
            .join(Message, Message.id == Event.message_id)
            .where(
                *conds,
                Event.action.in_(actions),
                Event.created_at >= day_start(period.first),
                Event.created_at < day_start(period.last + timedelta(days=1)),
            )
        )
        or 0
    )


def report(region: Region, period: Period, *, now: datetime) -> Report:
    """Volumes and trend, kinds and domains, most-complained units, assignment, supervision,
    overdue handling and adopted suggestions for a region and period."""
    scope = Scope(region=region, date_from=period.first, date_to=period.last)
    conds = conditions(scope)
    today = local_date(now)
    fig = figures(scope, now=now)
    previous = period.previous()
    previous_messages = _volume(conditions(scope.with_period(previous.first, previous.last)))[None][
        0
    ]
    all_received = _volume(conditions(scope, public=False))[None][0]

    def breakdown(column) -> list[tuple[str, int, int]]:
        rows = _volume(conds, column)
        return sorted(((k, n, r) for k, (n, r) in rows.items()), key=lambda t: (-t[1], t[0]))

    complaint_conds = conds + [Message.kind.in_(COMPLAINT_KINDS), Message.unit_id.is_not(None)]
    complaints = _volume(complaint_conds, Message.unit_id)
    top = sorted(complaints.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    on_time = _on_time(complaint_conds, today, Message.unit_id)
    units = {
        u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_([k for k, _ in top])))
    }
    complained = [(units[k], n, on_time.get(k, Rate(0, 0))) for k, (n, _r) in top if k in units]

    assigned_row = db.session.execute(
        select(func.count(Message.id), func.count(func.distinct(Message.unit_id))).where(
            *conds, Message.assigned_at.is_not(None)
        )
    ).one()
    met_late = and_(Clock.state == ClockState.MET, sql_local_date(Clock.closed_at) > Clock.due_on)
    late = db.session.scalar(
        select(func.sum(case((met_late, 1), else_=0)))
        .select_from(Clock)
        .join(Message, Message.id == Clock.message_id)
        .where(*conds, Clock.policy.in_(ANSWER_POLICIES))
    )
    suggestion_conds = conds + [Message.kind.in_(SUGGESTION_KINDS)]
    s_total, s_replied = _volume(suggestion_conds)[None]
    adopted = (
        db.session.scalar(
            select(func.count(func.distinct(Message.id)))
            .select_from(Message)
            .join(Reply, Reply.message_id == Message.id)
            .where(
                *suggestion_conds,
                Reply.state == ReplyState.PUBLISHED,
                Reply.is_interim.is_(False),
                Reply.outcome == "supported",
            )
        )
        or 0
    )
    return Report(
        region=region,
        period=period,
        figures=fig,
        previous_messages=previous_messages,
        all_received=all_received,
        by_kind=breakdown(Message.kind),
        by_domain=breakdown(Message.domain),
        complained_units=complained,
        assigned=assigned_row[0] or 0,
        assigned_units=assigned_row[1] or 0,
        transfers=_event_count(conds, ("transfer",), period),
        returns=_event_count(conds, ("return_approved",), period),
        urges=_event_count(conds, ("urge",), period),
        urged_messages=_event_count(conds, ("urge",), period, distinct=True),
        extensions=_event_count(conds, ("extend",), period),
        late_replies=late or 0,
        suggestions=s_total,
        suggestions_replied=s_replied,
        suggestions_adopted=adopted,
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
