"""Deadline cases from the regulation and the State Council's holiday notices, worked by hand.

The schedules below are transcribed from the 国务院办公厅 notices 关于2024年/2025年/2026年部分节假日
安排的通知 (published each autumn for the next year), not from the chinese-calendar package: the
package and the calendar table are checked against them. Counting rules (DESIGN §4): the
starting day is not counted (民法典 Art. 201); working-day clocks count working days after it,
make-up weekend days (调休) included; a calendar-day deadline that falls on a non-working day moves
to the next working day (Art. 203); a year with no official schedule counts the statutory holidays
the law fixes (with their make-up days off) and is marked provisional.
Every expected date in CASES was counted by hand against the notices; the count is in `why`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from conftest import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from board import deadlines
from board.calendar import services as clocks
from board.deadlines import Calendar, DayInfo, DayUnit, Policy


def _span(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# Holidays (every day off, weekends inside the break included) and make-up working days.
# fmt: off
OFFICIAL: dict[int, dict[str, list]] = {
    2024: {
        "off": [
            ("元旦", "2024-01-01", "2024-01-01"),
            ("春节", "2024-02-10", "2024-02-17"),
            ("清明节", "2024-04-04", "2024-04-06"),
            ("劳动节", "2024-05-01", "2024-05-05"),
            ("端午节", "2024-06-10", "2024-06-10"),
            ("中秋节", "2024-09-15", "2024-09-17"),
            ("国庆节", "2024-10-01", "2024-10-07"),
        ],
        "work": [
            "2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28",
            "2024-05-11", "2024-09-14", "2024-09-29", "2024-10-12",
        ],
    },
    2025: {
        "off": [
            ("元旦", "2025-01-01", "2025-01-01"),
            ("春节", "2025-01-28", "2025-02-04"),
            ("清明节", "2025-04-04", "2025-04-06"),
            ("劳动节", "2025-05-01", "2025-05-05"),
            ("端午节", "2025-05-31", "2025-06-02"),
            ("国庆节、中秋节", "2025-10-01", "2025-10-08"),
        ],
        "work": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    },
    2026: {
        "off": [
            ("元旦", "2026-01-01", "2026-01-03"),
            ("春节", "2026-02-15", "2026-02-23"),
            ("清明节", "2026-04-04", "2026-04-06"),
            ("劳动节", "2026-05-01", "2026-05-05"),
            ("端午节", "2026-06-19", "2026-06-21"),
            ("中秋节", "2026-09-25", "2026-09-27"),
            ("国庆节", "2026-10-01", "2026-10-07"),
        ],
        "work": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    },
}
# fmt: on


def official_rows(year: int) -> list[tuple[date, bool, str]]:
    """The year's exceptional days as calendar-table rows (date, is_workday, note)."""
    rows = {}
    for name, first, last in OFFICIAL[year]["off"]:
        for day in _span(first, last):
            rows[day] = (day, False, name)
    for text in OFFICIAL[year]["work"]:
        day = date.fromisoformat(text)
        rows[day] = (day, True, "调休上班")
    return [rows[d] for d in sorted(rows)]


def official_calendar(years=(2024, 2025, 2026)) -> Calendar:
    """A pure Calendar of the official schedules."""
    days = {d: DayInfo(w, n) for y in years for d, w, n in official_rows(y)}
    return Calendar(days=days, years=frozenset(years))


WD, CD = DayUnit.WORKING, DayUnit.CALENDAR


@dataclass(frozen=True)
class Case:
    """A start, a length, the expected due date and the hand count that gives it."""

    name: str
    start: str
    days: int
    unit: DayUnit
    due: str
    why: str
    extension: tuple[int, DayUnit] | None = None
    due_after_extension: str | None = None


# fmt: off
CASES = [
    Case(
        "design_example_national_day_2026",
        "2026-09-28", 20, WD, "2026-10-30",
        "9/29(1) 9/30(2), 10/1–10/7 off, 10/8(3) 10/9(4) Sat 10/10 make-up(5), 10/12–16(6–10),"
        " 10/19–23(11–15), 10/26–30(16–20)",
    ),
    Case(
        "spring_festival_2026_two_makeup_saturdays",
        "2026-02-12", 10, WD, "2026-03-04",
        "2/13(1) Sat 2/14 make-up(2), 2/15–2/23 off, 2/24–27(3–6), Sat 2/28 make-up(7),"
        " 3/2(8) 3/3(9) 3/4(10)",
    ),
    Case(
        "due_on_a_makeup_saturday",
        "2026-02-13", 1, WD, "2026-02-14",
        "the next working day after Friday 2/13 is the make-up Saturday 2/14",
    ),
    Case(
        "starts_on_a_holiday",
        "2026-10-03", 5, WD, "2026-10-13",
        "start 10/3 (holiday, not counted), 10/4–10/7 off, 10/8(1) 10/9(2) Sat 10/10(3)"
        " 10/12(4) 10/13(5)",
    ),
    Case(
        "calendar_days_land_in_national_day",
        "2026-09-22", 15, CD, "2026-10-08",
        "9/22 + 15 = 10/7 (国庆节) → next working day Thursday 10/8",
    ),
    Case(
        "calendar_days_land_on_a_makeup_saturday_stay",
        "2026-09-25", 15, CD, "2026-10-10",
        "9/25 + 15 = Saturday 10/10, a make-up working day: no move",
    ),
    Case(
        "calendar_days_land_on_new_year_move_to_makeup_sunday",
        "2025-12-17", 15, CD, "2026-01-04",
        "12/17 + 15 = 1/1 (元旦, off 1/1–1/3) → Sunday 1/4, a make-up working day",
    ),
    Case(
        "month_end_non_leap_lands_on_sunday",
        "2026-01-30", 30, CD, "2026-03-02",
        "1/30 + 30 = 3/1 (2026 has 28 Feb days), a Sunday → Monday 3/2",
    ),
    Case(
        "month_end_working_day",
        "2026-01-30", 1, WD, "2026-02-02",
        "Friday 1/30 → the weekend → Monday 2/2",
    ),
    Case(
        "leap_day_2024",
        "2024-01-30", 30, CD, "2024-02-29",
        "1/30 + 30 = 2/29 (leap year), a Thursday and a working day",
    ),
    Case(
        "sixty_days_over_leap_february_from_a_holiday",
        "2024-01-01", 60, CD, "2024-03-01",
        "1/1 + 60: 1/31 is +30, 2/29 is +59, 3/1 is +60, a Friday",
    ),
    Case(
        "sixty_days_non_leap_lands_on_sunday",
        "2025-01-01", 60, CD, "2025-03-03",
        "1/1 + 60: 2/28 is +58, 3/2 is +60, a Sunday → Monday 3/3",
    ),
    Case(
        "spring_festival_2024_makeup_sunday",
        "2024-02-05", 10, WD, "2024-02-23",
        "2/6–2/9(1–4), 2/10–2/17 off, Sunday 2/18 make-up(5), 2/19–23(6–10)",
    ),
    Case(
        "makeup_sunday_before_spring_festival_2024",
        "2024-02-02", 1, WD, "2024-02-04",
        "Saturday 2/3 rests, Sunday 2/4 is a make-up working day",
    ),
    Case(
        "spring_festival_2025_makeup_sunday",
        "2025-01-24", 2, WD, "2025-01-27",
        "Saturday 1/25 rests, Sunday 1/26 make-up(1), Monday 1/27(2)",
    ),
    Case(
        "labour_day_2024_makeup_sunday",
        "2024-04-26", 1, WD, "2024-04-28",
        "Saturday 4/27 rests, Sunday 4/28 is a make-up working day",
    ),
    Case(
        "labour_day_2024_makeup_saturday",
        "2024-05-09", 2, WD, "2024-05-11",
        "Friday 5/10(1), Saturday 5/11 make-up(2)",
    ),
    Case(
        "national_day_2024",
        "2024-09-27", 20, WD, "2024-10-30",
        "Sat 9/28 rests, Sun 9/29 make-up(1), 9/30(2), 10/1–10/7 off, 10/8–11(3–6),"
        " Sat 10/12 make-up(7), 10/14–18(8–12), 10/21–25(13–17), 10/28–30(18–20)",
    ),
    Case(
        "national_day_2025_calendar_days",
        "2025-09-08", 30, CD, "2025-10-09",
        "9/8 + 30 = 10/8 (国庆节、中秋节, off 10/1–10/8) → Thursday 10/9",
    ),
    Case(
        "dragon_boat_2025_rating_window",
        "2025-05-01", 30, CD, "2025-06-03",
        "5/1 + 30 = Saturday 5/31 (端午节, off 5/31–6/2) → Tuesday 6/3",
    ),
    Case(
        "across_new_year_2026_makeup_sunday",
        "2025-12-29", 5, WD, "2026-01-06",
        "12/30(1) 12/31(2), 1/1–1/3 off, Sunday 1/4 make-up(3), 1/5(4) 1/6(5)",
    ),
    Case(
        "board_extension_over_qingming_2026",
        "2026-03-02", 20, WD, "2026-03-30",
        "March 2026 has no holiday: 3/3–6(1–4) … 3/30(20); +15 working days from 3/30:"
        " 3/31–4/3(1–4), 4/4–4/6 off (清明节, Monday 4/6), 4/7–10(5–8), 4/13–17(9–13),"
        " 4/20(14) 4/21(15)",
        extension=(15, WD),
        due_after_extension="2026-04-21",
    ),
    Case(
        "petition_handling_into_labour_day_then_extension",
        "2026-03-02", 60, CD, "2026-05-06",
        "3/2 + 60 = 5/1 (劳动节, off 5/1–5/5) → Wednesday 5/6; +30 days from 5/6 = Friday 6/5",
        extension=(30, CD),
        due_after_extension="2026-06-05",
    ),
]
# fmt: on


def _policy(case: Case) -> Policy:
    return Policy(case.name, case.days, case.unit)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_against_the_official_schedule(case: Case):
    """The pure engine with the transcribed official calendar gives the hand-counted date."""
    calendar = official_calendar()
    deadline = deadlines.compute(date.fromisoformat(case.start), _policy(case), calendar)
    assert deadline.due_on.isoformat() == case.due, case.why
    assert deadline.unknown_years == []
    assert deadline.explanation[-1].startswith(f"→ {case.due}")
    if case.extension:
        days, unit = case.extension
        longer = deadlines.extend(deadline, Policy("ext", days, unit), calendar)
        assert longer.due_on.isoformat() == case.due_after_extension, case.why
        assert any(line.startswith("延期") for line in longer.explanation)


def test_the_explanation_names_skipped_holidays_and_makeup_days():
    """The DESIGN example explains itself: the National Day break and Saturday 10/10."""
    deadline = deadlines.compute(
        date(2026, 9, 28), Policy("board_reply_long", 20, WD), official_calendar()
    )
    text = "\n".join(deadline.explanation)
    assert "2026-10-01 … 2026-10-07" in text and "国庆节" in text
    assert "2026-10-10（周六）为调休上班日" in text


def test_calendar_day_move_is_explained():
    """A calendar-day deadline moved off a holiday says why (民法典第二百零三条)."""
    deadline = deadlines.compute(
        date(2026, 9, 22), Policy("petition_acceptance", 15, CD), official_calendar()
    )
    assert any("顺延至下一个工作日 2026-10-08" in line for line in deadline.explanation)


def test_year_without_data_counts_the_statutory_days_provisionally():
    """2031 is not loaded: 10 working days from 元旦 (Wed 2031-01-01, the start) → 1/15, provisional."""
    deadline = deadlines.compute(date(2031, 1, 1), Policy("x", 10, WD), official_calendar())
    # 1/2(1) 1/3(2), 1/6–10(3–7), 1/13(8) 1/14(9) 1/15(10)
    assert deadline.due_on == date(2031, 1, 15)
    assert deadline.unknown_years == [2031]
    assert deadlines.provisional_line(2031) in deadline.explanation


def test_crossing_into_an_unloaded_year_skips_its_new_years_day():
    """From Mon 2026-12-28 with only 2024–2026 known: 元旦 2027 (a Friday) is not counted."""
    deadline = deadlines.compute(date(2026, 12, 28), Policy("x", 5, WD), official_calendar())
    # 12/29(1) 12/30(2) 12/31(3), 2027-01-01 元旦 off, 1/4 Monday(4), 1/5(5)
    assert deadline.due_on == date(2027, 1, 5)
    assert deadline.unknown_years == [2027]


# ---------------------------------------------------------------------------------------------
# The calendar table (and the package that seeds it) agree with the official notices


def _all_days(year: int) -> list[date]:
    return _span(f"{year}-01-01", f"{year}-12-31")


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_package_calendar_matches_the_official_notice(year):
    """chinese-calendar (the default seed) says the same as the notice on every day of the year."""
    package = deadlines.package_calendar([year])
    official = official_calendar([year])
    wrong = [d for d in _all_days(year) if package.is_workday(d) != official.is_workday(d)]
    assert wrong == []


def test_cases_against_the_database_calendar(app):
    """The same cases through the calendar table, loaded from the official rows as a file would."""
    for year in sorted(OFFICIAL):
        clocks.load_calendar_year(year, official_rows(year), source="file", now=T0)
    calendar = clocks.db_calendar()
    assert calendar.years >= frozenset(OFFICIAL)
    for case in CASES:
        deadline = deadlines.compute(date.fromisoformat(case.start), _policy(case), calendar)
        assert deadline.due_on.isoformat() == case.due, case.name
    named = clocks.deadline_for(date(2026, 9, 28), "board_reply_long")
    assert named.due_on == date(2026, 10, 30)
    unknown = clocks.deadline_for(date(2031, 1, 1), "board_reply_short")
    assert unknown.due_on == date(2031, 1, 15) and unknown.unknown_years == [2031]


# ---------------------------------------------------------------------------------------------
# Properties


START = st.dates(min_value=date(2023, 12, 1), max_value=date(2027, 6, 30))
LENGTH = st.integers(min_value=1, max_value=90)
UNITS = st.sampled_from([WD, CD])
OFFICIAL_CAL = official_calendar()


@settings(max_examples=300, deadline=None)
@given(start=START, days=LENGTH, unit=UNITS)
def test_due_is_after_start_and_a_working_day(start, days, unit):
    """A due date is never before its start, at least `days` after it, and always a working day."""
    due = deadlines.compute(start, Policy("p", days, unit), OFFICIAL_CAL).due_on
    assert due > start
    assert (due - start).days >= days
    assert OFFICIAL_CAL.is_workday(due)
    if unit == WD:
        assert deadlines.working_days_between(start, due, OFFICIAL_CAL) == days


@settings(max_examples=300, deadline=None)
@given(start=START, days=LENGTH, unit=UNITS)
def test_due_is_monotonic_in_the_length(start, days, unit):
    """One more day never gives an earlier due date; for working days, a strictly later one."""
    shorter = deadlines.compute(start, Policy("p", days, unit), OFFICIAL_CAL).due_on
    longer = deadlines.compute(start, Policy("p", days + 1, unit), OFFICIAL_CAL).due_on
    assert longer >= shorter
    if unit == WD:
        assert longer > shorter


@settings(max_examples=200, deadline=None)
@given(start=START, days=LENGTH, extra=LENGTH, unit=UNITS)
def test_extension_never_shortens(start, days, extra, unit):
    """An extension counted from the due date ends after it, on a working day."""
    base = deadlines.compute(start, Policy("p", days, unit), OFFICIAL_CAL)
    longer = deadlines.extend(base, Policy("e", extra, unit), OFFICIAL_CAL)
    assert longer.due_on > base.due_on and OFFICIAL_CAL.is_workday(longer.due_on)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=START, days=LENGTH, unit=UNITS)
def test_database_calendar_agrees_with_the_official_one(app, start, days, unit):
    """The calendar table loaded from the package gives the same dates as the notices."""
    for year in (2024, 2025, 2026):
        if year not in clocks.db_calendar().years:
            clocks.load_calendar_year(year, now=T0)
    policy = Policy("p", days, unit)
    db_due = deadlines.compute(start, policy, clocks.db_calendar()).due_on
    assert db_due == deadlines.compute(start, policy, OFFICIAL_CAL).due_on
