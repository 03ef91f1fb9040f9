"""The deadline rules against the official holiday schedules (国务院办公厅 notices, 2024–2026)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from board.deadlines import (
    Calendar,
    DayInfo,
    DayUnit,
    Policy,
    compute,
    extend,
    package_calendar,
    provisional_line,
    working_days_between,
)

W, C = DayUnit.WORKING, DayUnit.CALENDAR
CALENDAR = package_calendar(range(2024, 2028))

# (start, days, unit, due_on, why) — each checked by hand against the State Council's notice.
CASES = [
    ("2026-09-28", 20, W, "2026-10-30", "DESIGN §4: 国庆 10-01…10-07 skipped, Sat 10-10 works"),
    ("2026-09-16", 15, C, "2026-10-08", "lands on 国庆节 10-01, moves past the holiday"),
    ("2026-03-01", 15, C, "2026-03-16", "DESIGN §4: 15 days from 1 March end on 16 March"),
    ("2025-01-24", 10, W, "2025-02-13", "春节 2025: Sun 01-26 and Sat 02-08 work, 01-28…02-04 off"),
    ("2026-02-13", 10, W, "2026-03-05", "春节 2026: Sat 02-14 and Sat 02-28 work, 02-15…02-23 off"),
    ("2025-09-26", 5, W, "2025-10-10", "国庆 2025: Sun 09-28 works, 10-01…10-08 off"),
    ("2025-09-16", 15, C, "2025-10-09", "lands on 国庆 2025 (10-01), first working day 10-09"),
    ("2024-09-27", 3, W, "2024-10-08", "国庆 2024: Sun 09-29 works, 10-01…10-07 off"),
    ("2024-02-08", 1, W, "2024-02-09", "除夕 2024-02-09 was officially a working day"),
    ("2025-10-03", 1, W, "2025-10-09", "a start on a holiday counts from the next working day"),
    ("2026-02-17", 2, W, "2026-02-25", "a start inside 春节 2026"),
    ("2025-02-07", 1, W, "2025-02-08", "make-up Saturday 2025-02-08 is a working day"),
    ("2026-10-09", 1, W, "2026-10-10", "make-up Saturday 2026-10-10 is a working day"),
    ("2025-01-31", 30, C, "2025-03-03", "month end: 30 days → Sun 03-02 → Mon 03-03"),
    ("2024-01-30", 30, C, "2024-02-29", "leap day 2024-02-29 exists and is a working day"),
    ("2024-01-01", 60, C, "2024-03-01", "a leap February has 29 days"),
    ("2024-02-28", 1, W, "2024-02-29", "one working day after 02-28 in a leap year"),
    ("2026-08-03", 60, C, "2026-10-08", "petition handling (Art. 34) landing on 国庆 2026-10-02"),
    ("2026-01-01", 1, W, "2026-01-04", "元旦 2026: 01-01…01-03 off, Sun 01-04 works"),
    ("2025-04-25", 2, W, "2025-04-28", "劳动节 2025: Sun 04-27 works"),
    ("2026-03-02", 0, W, "2026-03-02", "a zero-length clock is due the day it starts"),
]


@pytest.mark.parametrize(("start", "days", "unit", "due", "why"), CASES)
def test_due_dates_follow_the_official_holiday_schedules(start, days, unit, due, why):
    """Each case's due date is the one counted by hand from the published schedule."""
    deadline = compute(date.fromisoformat(start), Policy("p", days, unit), CALENDAR)
    assert deadline.due_on == date.fromisoformat(due), why
    assert deadline.unknown_years == []


def test_design_example_explains_the_holidays_and_the_make_up_saturday():
    """The explanation names the skipped holidays and the counted Saturday, in Chinese."""
    deadline = compute(date(2026, 9, 28), Policy("board_reply_long", 20, W), CALENDAR)
    text = "\n".join(deadline.explanation)
    assert "20 个工作日，自 2026-09-28 起算（当日不计入）" in text
    assert "跳过节假日（国庆节）：2026-10-01 … 2026-10-07" in text
    assert "2026-10-10（周六）为调休上班日，计为工作日" in text
    assert deadline.explanation[-1] == "→ 2026-10-30 24:00（北京时间）到期"


def test_calendar_deadline_on_a_holiday_explains_the_move():
    """A calendar-day deadline moved off a holiday says why (民法典 Art. 203)."""
    deadline = compute(date(2026, 9, 16), Policy("petition_acceptance", 15, C), CALENDAR)
    assert any(
        "期满日 2026-10-01 为国庆节，顺延至下一个工作日 2026-10-08" in line
        for line in deadline.explanation
    )


def test_due_at_is_the_end_of_the_day_in_shanghai():
    """Due at 24:00 Beijing time: midnight at the start of the next day, UTC+8."""
    deadline = compute(date(2026, 9, 28), Policy("p", 20, W), CALENDAR)
    moment = deadline.due_at()
    assert moment.isoformat() == "2026-10-31T00:00:00+08:00"


@pytest.mark.parametrize(
    ("start", "days", "unit", "extra", "original", "extended"),
    [
        # Board extension: +15 working days from the original due date (Fri 2026-10-30).
        ("2026-09-28", 20, W, 15, "2026-10-30", "2026-11-20"),
        # Petition extension (Art. 34): +30 days from 2026-10-08 → Sat 11-07 → Mon 11-09.
        ("2026-08-03", 60, C, 30, "2026-10-08", "2026-11-09"),
        # Across 春节 2025: +15 working days from 2025-01-24 crosses the holiday week.
        ("2025-01-03", 15, W, 15, "2025-01-24", "2025-02-20"),
    ],
)
def test_extensions_count_from_the_original_due_date(start, days, unit, extra, original, extended):
    """An extension adds its length to the due date, not to the start."""
    base = compute(date.fromisoformat(start), Policy("p", days, unit), CALENDAR)
    assert base.due_on == date.fromisoformat(original)
    longer = extend(base, Policy("ext", extra, unit), CALENDAR)
    assert longer.due_on == date.fromisoformat(extended)
    assert longer.start == base.start
    assert any(line.startswith("延期：") for line in longer.explanation)
    assert longer.explanation[-1].startswith(f"→ {extended}")


def test_a_year_without_a_schedule_counts_the_law_s_holidays_provisionally():
    """2027 is not in the package: its statutory days rest, and the explanation says provisional."""
    deadline = compute(date(2027, 1, 4), Policy("p", 5, W), CALENDAR)
    assert deadline.due_on == date(2027, 1, 11)
    assert deadline.unknown_years == [2027] and deadline.provisional
    assert provisional_line(2027) in deadline.explanation
    assert "暂定" in provisional_line(2027) and "导入" in provisional_line(2027)


def test_a_clock_crossing_into_2027_skips_new_years_day_and_is_provisional_for_2027_only():
    """From late December 2026 into 2027: 元旦 2027-01-01 (a Friday) is not counted."""
    deadline = compute(date(2026, 12, 28), Policy("p", 10, W), CALENDAR)
    assert deadline.due_on == date(2027, 1, 12)
    assert deadline.unknown_years == [2027]
    assert "跳过节假日（元旦）：2027-01-01" in deadline.explanation


def test_official_years_are_not_provisional():
    """A clock inside 2026, whose official schedule the package has, is final."""
    deadline = compute(date(2026, 9, 28), Policy("p", 20, W), CALENDAR)
    assert deadline.unknown_years == [] and not deadline.provisional
    assert not any("暂定" in line for line in deadline.explanation)


def test_empty_calendar_counts_the_statutory_days_but_cannot_know_the_weekend_swaps():
    """No schedule for 2026: 国庆 10-01…10-03 and the make-up Monday 10-05 rest → due 10-29.

    The State Council's notice also swapped 10-06/10-07 with Sunday 09-20 and Saturday 10-10
    (调休), which gives 10-30: that difference is why such a deadline is marked provisional.
    """
    deadline = compute(date(2026, 9, 28), Policy("p", 20, W), Calendar())
    assert deadline.due_on == date(2026, 10, 29)
    assert deadline.unknown_years == [2026]
    assert "跳过节假日（国庆节、国庆节补休）：2026-10-01 … 2026-10-03、2026-10-05" in (
        deadline.explanation
    )


def test_a_known_year_uses_its_listed_days_and_the_week_elsewhere():
    """An admin calendar with one extra holiday shifts a working-day clock by one day."""
    calendar = Calendar(
        days={date(2026, 3, 3): DayInfo(False, "测试假日")}, years=frozenset({2026})
    )
    deadline = compute(date(2026, 3, 2), Policy("p", 2, W), calendar)
    assert deadline.due_on == date(2026, 3, 5)
    assert "跳过节假日（测试假日）：2026-03-03" in deadline.explanation


def test_negative_lengths_are_refused():
    """A policy cannot run backwards."""
    with pytest.raises(ValueError):
        compute(date(2026, 3, 2), Policy("p", -1, W), CALENDAR)


def test_working_days_between_counts_the_national_day_week():
    """Between 2026-09-28 and 2026-10-30 lie exactly 20 working days."""
    assert working_days_between(date(2026, 9, 28), date(2026, 10, 30), CALENDAR) == 20
    assert working_days_between(date(2026, 10, 30), date(2026, 9, 28), CALENDAR) == -20
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 1), CALENDAR) == 0


# ---------------------------------------------------------------------------------------------
# Properties

starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
lengths = st.integers(min_value=0, max_value=90)
units = st.sampled_from([W, C])


@settings(max_examples=300, deadline=None)
@given(start=starts, days=lengths, unit=units)
def test_due_date_is_never_before_the_start(start, days, unit):
    """Counting only moves forward."""
    deadline = compute(start, Policy("p", days, unit), CALENDAR)
    assert deadline.due_on >= start
    if days > 0:
        assert deadline.due_on > start


@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=90), unit=units)
def test_due_date_is_a_working_day(start, days, unit):
    """Working-day clocks end on a working day; calendar-day ones are moved onto one."""
    deadline = compute(start, Policy("p", days, unit), CALENDAR)
    assert CALENDAR.is_workday(deadline.due_on)
    if unit == W:
        assert working_days_between(start, deadline.due_on, CALENDAR) == days
    else:
        nominal = start + timedelta(days=days)
        assert deadline.due_on >= nominal
        day = nominal
        while day < deadline.due_on:
            assert not CALENDAR.is_workday(day)
            day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=89), unit=units)
def test_due_date_does_not_decrease_with_length(start, days, unit):
    """One more day never makes a clock end sooner."""
    shorter = compute(start, Policy("p", days, unit), CALENDAR)
    longer = compute(start, Policy("p", days + 1, unit), CALENDAR)
    assert longer.due_on >= shorter.due_on
