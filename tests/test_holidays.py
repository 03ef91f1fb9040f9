"""The statutory holidays computed from the law, checked against the official schedules."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from board import holidays
from board.deadlines import DayUnit, Policy, compute, package_calendar


def _d(text: str) -> date:
    return date.fromisoformat(text)


# 2027: worked out by hand from the lunar calendar and the law (2024 revision) — 除夕 is
# 2027-02-05, 清明 2027-04-05, 端午 (五月初五) 2027-06-09, 中秋 (八月十五) 2027-09-15.
FESTIVALS_2027 = {
    "2027-01-01": "元旦",  # Friday
    "2027-02-05": "春节",  # 除夕, Friday
    "2027-02-06": "春节",  # 初一, Saturday
    "2027-02-07": "春节",  # 初二, Sunday
    "2027-02-08": "春节",  # 初三, Monday
    "2027-04-05": "清明节",  # Monday
    "2027-05-01": "劳动节",  # Saturday
    "2027-05-02": "劳动节",  # Sunday
    "2027-06-09": "端午节",  # Wednesday
    "2027-09-15": "中秋节",  # Wednesday
    "2027-10-01": "国庆节",  # Friday
    "2027-10-02": "国庆节",  # Saturday
    "2027-10-03": "国庆节",  # Sunday
}
# Art. 6: the six festival days on a weekend are made up on the next free weekdays.
MAKEUP_2027 = {
    "2027-02-09": "春节补休",
    "2027-02-10": "春节补休",
    "2027-05-03": "劳动节补休",
    "2027-05-04": "劳动节补休",
    "2027-10-04": "国庆节补休",
    "2027-10-05": "国庆节补休",
}


def test_2027_festival_days_follow_the_2024_revision():
    """元旦 1, 春节 4 from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3: thirteen days."""
    found = {day.isoformat(): name for day, name in holidays.festival_days(2027).items()}
    assert found == FESTIVALS_2027


def test_2027_make_up_days_land_on_the_next_free_weekdays():
    """Weekend festival days in 春节, 劳动节 and 国庆节 each get a weekday off after the break."""
    found = {day.isoformat(): name for day, name in holidays.makeup_days(2027).items()}
    assert found == MAKEUP_2027
    assert all(_d(day).weekday() < 5 for day in found)


def test_the_lunar_dates_and_the_solar_term_of_2027():
    """The library's 除夕, 端午, 中秋 and 清明 for 2027, and chinese-calendar's solar term."""
    assert holidays.spring_festival_eve(2027) == date(2027, 2, 5)
    assert holidays.qingming(2027) == date(2027, 4, 5)
    terms = dict(
        (name, day)
        for day, name in chinese_calendar.get_solar_terms(date(2027, 4, 1), date(2027, 4, 30))
    )
    assert terms["清明"] == date(2027, 4, 5)


def test_qingming_agrees_with_chinese_calendars_solar_terms_this_century():
    """Two independent computations of the Qingming term give the same day, 2000–2099."""
    for year in range(2000, 2100):
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
        official = next(day for day, name in terms if name == "清明")
        assert holidays.qingming(year) == official, year


@pytest.mark.parametrize("year", range(2004, 2027))
def test_every_statutory_day_is_a_holiday_in_the_official_schedule(year):
    """Each day the law gives (by the revision then in force) was off in the State Council's notice."""
    festivals = holidays.festival_days(year)
    assert festivals, year
    working = [day for day in festivals if chinese_calendar.is_workday(day)]
    assert working == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_make_up_days_match_the_2025_and_2026_notices(year):
    """The notices placed each 补休 on the first free weekday after the festival, as we do."""
    official_off = {
        day
        for day in (date(year, 1, 1) + timedelta(days=i) for i in range(366))
        if day.year == year and not chinese_calendar.is_workday(day) and day.weekday() < 5
    }
    assert holidays.makeup_days(year)
    assert set(holidays.makeup_days(year)) <= official_off


def test_make_up_days_since_2004_with_the_two_notices_that_placed_them_elsewhere():
    """Only 2012 (端午 on Saturday, made up the Friday before) and 2015 (中秋 on Sunday, made up
    inside the National Day week) put a 补休 somewhere other than the next free weekday."""
    elsewhere = [
        day
        for year in range(2004, 2027)
        for day in holidays.makeup_days(year)
        if chinese_calendar.is_workday(day)
    ]
    assert elsewhere == [date(2012, 6, 25), date(2015, 9, 28)]


def test_the_revision_in_force_decides_the_days():
    """除夕 2024 was a working day (2013 revision); from 2025 it is a festival day."""
    assert holidays.revision_for(2024).title == "2013 年修订"
    assert date(2024, 2, 9) not in holidays.festival_days(2024)
    assert holidays.revision_for(2025).title == "2024 年修订"
    assert date(2025, 1, 28) in holidays.festival_days(2025)
    assert date(2025, 5, 2) in holidays.festival_days(2025)
    assert holidays.revision_for(1999) is None and holidays.days_off(1999) == {}


def test_a_festival_shared_by_two_holidays_earns_a_make_up_day():
    """中秋 on 国庆 2020-10-01 (as the notice did): two make-up days, 10-05 and 10-06."""
    assert holidays.festival_days(2020)[date(2020, 10, 1)] == "国庆节、中秋节"
    assert set(holidays.makeup_days(2020)) >= {date(2020, 10, 5), date(2020, 10, 6)}


def test_any_year_is_computed_and_cached():
    """Far years work (the library computes, it has no table), and each year is computed once."""
    assert len(holidays.festival_days(2150)) == 13
    holidays.days_off(2099)
    before = holidays.days_off.cache_info().hits
    holidays.days_off(2099)
    assert holidays.days_off.cache_info().hits == before + 1


# ---------------------------------------------------------------------------------------------
# The examples: clocks started on Monday 2026-12-07 run into 2027, which has no schedule

CALENDAR = package_calendar([2026, 2027])


def test_a_20_working_day_reply_clock_skips_new_years_day_2027():
    """Was due 2027-01-04 counting 元旦 as a working day; now 2027-01-05, provisional."""
    deadline = compute(date(2026, 12, 7), Policy("board_reply_long", 20, DayUnit.WORKING), CALENDAR)
    assert deadline.due_on == date(2027, 1, 5)
    assert deadline.provisional and deadline.unknown_years == [2027]
    assert "跳过节假日（元旦）：2027-01-01" in deadline.explanation


def test_a_60_day_petition_clock_moves_past_the_spring_festival_2027():
    """Lands on 除夕 2027-02-05; 春节 runs to 02-08 and its make-up days to 02-10 → 02-11."""
    deadline = compute(
        date(2026, 12, 7), Policy("petition_handling", 60, DayUnit.CALENDAR), CALENDAR
    )
    assert deadline.due_on == date(2027, 2, 11)
    assert deadline.provisional
    assert any(
        "期满日 2027-02-05 为春节，顺延至下一个工作日 2027-02-11" in line
        for line in deadline.explanation
    )


@pytest.mark.parametrize(
    ("start", "days", "unit"),
    [
        (date(2026, 12, 1) + timedelta(days=i), n, u)
        for i in range(0, 60, 3)
        for n, u in [
            (10, DayUnit.WORKING),
            (20, DayUnit.WORKING),
            (15, DayUnit.CALENDAR),
            (60, DayUnit.CALENDAR),
        ]
    ],
)
def test_no_2027_deadline_lands_on_a_statutory_day_off(start, days, unit):
    """Whatever the start, a due date in 2027 is never one of the law's days off."""
    deadline = compute(start, Policy("p", days, unit), CALENDAR)
    assert deadline.due_on not in holidays.days_off(deadline.due_on.year)
    assert deadline.due_on.weekday() < 5
