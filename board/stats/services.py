"""The statistics' use cases in one place: every figure, ranking, counter and report.

The code lives along its seams: `figures.py` (scopes, rates, the figures and series of one
scope, read from the fact table or its tallies), `percentiles.py` (median and 90th
percentile of the days to reply), `rankings.py`, `home.py` (counters, most
co-signed) and `reports.py` (the periodic report). What counts is documented in `figures.py`
and docs/open-data.md.
"""

from __future__ import annotations

from .facts import ANSWER_POLICIES
from .figures import (
    MEDIAN,
    P90,
    PATH_LENGTH,
    SATISFACTION_BANDS,
    Band,
    Figures,
    MonthPoint,
    Rate,
    Scope,
    chart_range,
    conditions,
    day_start,
    figures,
    months_between,
    percentile_positions,
    public_condition,
    region_condition,
    series,
    wilson,
    within,
)
from .home import Counters, counters, most_cosigned
from .rankings import GROUPS, SORTS, Entity, Ranking, RankRow, ranking
from .reports import Period, Report, parse_period, report

__all__ = [
    "ANSWER_POLICIES",
    "GROUPS",
    "MEDIAN",
    "P90",
    "PATH_LENGTH",
    "SATISFACTION_BANDS",
    "SORTS",
    "Band",
    "Counters",
    "Entity",
    "Figures",
    "MonthPoint",
    "Period",
    "RankRow",
    "Ranking",
    "Rate",
    "Report",
    "Scope",
    "chart_range",
    "conditions",
    "counters",
    "day_start",
    "figures",
    "months_between",
    "most_cosigned",
    "parse_period",
    "percentile_positions",
    "public_condition",
    "ranking",
    "region_condition",
    "report",
    "series",
    "wilson",
    "within",
]
