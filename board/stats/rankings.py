"""Rankings: regions, boards or units ordered by the lower bound of a rate or by speed (DESIGN §6)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    select,
)

from ..clock import local_date
from ..extensions import db
from ..models import (
    Board,
    Region,
    RegionLevel,
    Unit,
)
from .figures import (
    LEVEL_COLUMNS,
    PATH_LENGTH,
    Rate,
    Scope,
    _percentiles,
    _totals,
    conditions,
)
from .models import StatsCase as Fact

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
    """Ranked rows and how many entities had too few cases to be ranked, with the choices that
    made the ranking (what is ranked, the order, and the region level or board post)."""

    rows: list[RankRow]
    unranked: int
    min_cases: int
    group_by: str
    sort: str
    level: str | None
    post: str | None


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
        rows.append(RankRow(entity=entities[key], **t.reply_figures(median, p90)))

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
    return Ranking(rows, unranked, min_cases, group_by, sort, level, post)


# ---------------------------------------------------------------------------------------------
