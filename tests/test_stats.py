"""Figures from the database equal figures computed independently from the stored cases."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import world as shared_world
from opendata_world import NOW, beijing_date, build, expected, quantile
from sqlalchemy import select

from board.extensions import db
from board.models import Board, Region, Unit
from board.stats import services as stats


def test_wilson_matches_published_values():
    """8/10 → [0.490, 0.943] and other textbook values (Newcombe 1998, Table I)."""
    low, high = stats.wilson(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    low, high = stats.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = stats.wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    assert stats.wilson(0, 0) is None
    assert stats.Rate(8, 10).value == 0.8


def test_percentile_positions_interpolate():
    """The median of 4 values lies halfway between the 2nd and 3rd; p90 of 11 is the 10th."""
    assert stats.percentile_positions(4, stats.MEDIAN) == (1, 2, 0.5)
    assert stats.percentile_positions(11, stats.P90) == (9, 9, 0.0)
    assert quantile([1, 2, 3, 4], 0.5) == 2.5


def test_parse_period():
    """Years, quarters and months; anything else is None."""
    assert stats.parse_period("2026").first == date(2026, 1, 1)
    q = stats.parse_period("2026-q1")
    assert (q.first, q.last, q.kind) == (date(2026, 1, 1), date(2026, 3, 31), "quarter")
    m = stats.parse_period("2024-02")
    assert m.last == date(2024, 2, 29) and m.previous().name == "2024-01"
    assert stats.parse_period("2026-Q1").previous().name == "2025-Q4"
    for bad in ("", "20x6", "2026-13", "2026-Q5", "99999", None, "2026-00"):
        assert stats.parse_period(bad) is None


@pytest.fixture
def world(app, database, directory, tmp_path_factory):
    """The known dataset (written once per process and database, then restored: conftest's
    `world`)."""
    return shared_world("opendata", database, tmp_path_factory, build)


def _approx(a, b):
    return a == pytest.approx(b, abs=1e-6) if b is not None else a is None


def test_scope_figures_equal_independent_computation(world):
    """Messages, replies, on-time, median, p90, overdue, satisfaction for several scopes."""
    city = db.session.get(Region, "330100")
    board = db.session.scalar(select(Board).where(Board.code == "330100-secretary"))
    unit = db.session.scalar(select(Unit).where(Unit.code == "330100-zj"))
    scopes = [
        (stats.Scope(), world),
        (stats.Scope(region=city), [c for c in world if c.region.startswith("3301")]),
        (stats.Scope(board=board), [c for c in world if c.board == "330100-secretary"]),
        (stats.Scope(unit=unit), [c for c in world if c.unit == "330100-zj"]),
        (
            stats.Scope(region=city, kind="complaint"),
            [c for c in world if c.region.startswith("3301") and c.kind == "complaint"],
        ),
    ]
    for scope, cases in scopes:
        want = expected(cases)
        got = stats.figures(scope, now=NOW)
        assert got.messages == want["messages"]
        assert got.replied == want["replied"]
        assert (got.on_time.hits, got.on_time.total) == want["on_time"]
        assert _approx(got.median_days, want["median"])
        assert _approx(got.p90_days, want["p90"])
        assert got.overdue_now == want["overdue"]
        assert got.ratings == want["ratings"]
        assert _approx(got.composite, want["composite"])
        assert sum(b.count for b in got.satisfaction) == want["ratings"]
        assert sum(p.messages for p in got.series) <= want["messages"]
    assert stats.figures(stats.Scope(), now=NOW).on_time.total > 10


def test_period_counts_by_beijing_publication_date(world):
    """A period keeps the cases published on those Beijing days, and the series adds up."""
    scope = stats.Scope(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    january = [
        c for c in world if date(2026, 1, 1) <= beijing_date(c.published_at) <= date(2026, 1, 31)
    ]
    got = stats.figures(scope, now=NOW)
    assert got.messages == expected(january)["messages"]
    assert [p.month for p in got.series] == ["2026-01"]
    assert got.series[0].messages == got.messages


def test_satisfaction_bands(world):
    """Each latest rating falls in the band of its composite score."""
    got = stats.figures(stats.Scope(), now=NOW)
    want = {"very_satisfied": 0, "satisfied": 0, "fair": 0, "dissatisfied": 0}
    want["very_dissatisfied"] = 0
    for case in world:
        if case.public and case.rating:
            composite = sum(case.rating) / 3
            key = (
                "very_satisfied"
                if composite >= 4.5
                else "satisfied"
                if composite >= 3.5
                else "fair"
                if composite >= 2.5
                else "dissatisfied"
                if composite >= 1.5
                else "very_dissatisfied"
            )
            want[key] += 1
    assert {b.key: b.count for b in got.satisfaction} == want


def test_ranking_orders_by_wilson_lower_bound_and_drops_small_entities(world):
    """Units with fewer cases than the minimum are left out; the rest by lower bound."""
    ranking = stats.ranking("unit", stats.Scope(), now=NOW, min_cases=10)
    by_unit: dict[str, list] = {}
    for c in world:
        by_unit.setdefault(c.unit, []).append(c)
    ranked = {code for code, cases in by_unit.items() if sum(x.public for x in cases) >= 10}
    assert {row.entity.code for row in ranking.rows} == ranked
    lows = [row.on_time.low for row in ranking.rows]
    assert lows == sorted(lows, reverse=True)
    for row in ranking.rows:
        want = expected(by_unit[row.entity.code])
        assert (row.on_time.hits, row.on_time.total) == want["on_time"]
        assert _approx(row.median_days, want["median"])
        assert row.messages == want["messages"]
    few = stats.ranking("unit", stats.Scope(), now=NOW, min_cases=1000)
    assert few.rows == [] and few.unranked == len(by_unit)


def test_ranking_by_region_level_and_board(world):
    """Counties group their cases by path; boards by board; each equals the direct count."""
    counties = stats.ranking("region", stats.Scope(), now=NOW, min_cases=1, level="county")
    for row in counties.rows:
        cases = [c for c in world if c.region == row.entity.code]
        assert row.messages == expected(cases)["messages"]
    cities = stats.ranking("region", stats.Scope(), now=NOW, min_cases=1, level="city")
    assert {r.entity.code for r in cities.rows} == {"330100", "440100"}
    boards = stats.ranking("board", stats.Scope(), now=NOW, min_cases=1, level="city", sort="speed")
    assert {r.entity.code for r in boards.rows} == {"330100-secretary", "440100-secretary"}
    medians = [r.median_days for r in boards.rows]
    assert medians == sorted(medians)


def test_report_counts(world):
    """The report's supervision, suggestions and volumes come from the stored events and replies."""
    province = db.session.get(Region, "330000")
    period = stats.parse_period("2026-Q1")
    report = stats.report(province, period, now=NOW)
    zhejiang = [c for c in world if c.region.startswith("33")]
    public = [c for c in zhejiang if c.public]
    assert report.figures.messages == len(public)
    assert report.all_received == len(zhejiang)  # private and hidden counted as volume
    urged = [c for c in public if int(c.code[-5:]) % 5 == 0]
    assert report.urged_messages == len(urged)
    assert report.urges == 2 * len(urged)
    suggestions = [c for c in public if c.kind == "suggestion"]
    assert report.suggestions == len(suggestions)
    assert report.suggestions_adopted == sum(
        1 for c in suggestions if c.replied_at and c.outcome == "supported"
    )
    assert sum(n for _k, n, _r in report.by_kind) == len(public)
    complaints = {}
    for c in public:
        if c.kind == "complaint":
            complaints[c.unit] = complaints.get(c.unit, 0) + 1
    assert {u.code: n for u, n, _rate in report.complained_units} == complaints
    assert report.previous_messages == 0
