"""The deadline engine's rules: working-day calendars and clocks that explain themselves.

Pure functions over a `Calendar`; no database access here. Counting follows DESIGN §4:
the starting day is not counted (民法典 Art. 201); a calendar-day deadline that lands on a
non-working day moves to the next working day (Art. 203); make-up Saturdays (调休) count as
working days. A year without an official schedule counts weekends and the statutory holidays the
law fixes (board.holidays, with their make-up days off), and every deadline that counts through
such a year is provisional until the State Council's schedule for it is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from . import holidays
from .clock import LOCAL_TZ


class DayUnit(StrEnum):
    """Whether a policy counts working days or calendar days."""

    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says of one date."""

    is_workday: bool
    note: str = ""  # 国庆节, 调休上班 …


@dataclass
class Calendar:
    """Listed days (calendar table or package) over the law's holidays and the week.

    `years` are the years with an official schedule: their listed days are the exceptions and
    every other day follows the week. In any other year the statutory holidays and make-up days
    off (board.holidays) rest too, and a deadline counted there is provisional.
    """

    days: Mapping[date, DayInfo] = field(default_factory=dict)
    years: frozenset[int] = frozenset()

    def info(self, day: date) -> DayInfo:
        """The calendar's entry for a day: a listed day, else the law's holiday, else the week."""
        known = self.days.get(day)
        if known is not None:
            return known
        if day.year not in self.years:
            note = holidays.days_off(day.year).get(day)
            if note:
                return DayInfo(False, note)
        return DayInfo(day.weekday() < 5)

    def is_workday(self, day: date) -> bool:
        """True for working days (including make-up Saturdays)."""
        return self.info(day).is_workday

    def is_known(self, year: int) -> bool:
        """True if the year's official schedule was loaded; otherwise counting is provisional."""
        return year in self.years


def package_calendar(years: Iterable[int]) -> Calendar:
    """A calendar from the chinese-calendar package for the years it covers."""
    import chinese_calendar

    days: dict[date, DayInfo] = {}
    covered: set[int] = set()
    for year in years:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        covered.add(year)
        day = date(year, 1, 1)
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            workday = chinese_calendar.is_workday(day)
            weekend = day.weekday() >= 5
            if workday and weekend:
                days[day] = DayInfo(True, f"调休上班（{HOLIDAY_NAMES.get(name, name or '')}）")
            elif not workday and not weekend:
                days[day] = DayInfo(False, HOLIDAY_NAMES.get(name, name or "节假日"))
            elif on_holiday and name and weekend:
                days[day] = DayInfo(False, HOLIDAY_NAMES.get(name, name))
            day += timedelta(days=1)
    return Calendar(days=days, years=frozenset(covered))


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@dataclass(frozen=True)
class Policy:
    """A named clock length: N working or calendar days."""

    name: str
    days: int
    unit: DayUnit
    label: str = ""


@dataclass
class Deadline:
    """A computed due date with the facts that explain it."""

    policy: str
    start: date
    due_on: date
    unit: DayUnit
    days: int
    explanation: list[str]
    unknown_years: list[int]  # counted through without an official schedule

    @property
    def provisional(self) -> bool:
        """True while a year it counts through has no official schedule loaded."""
        return bool(self.unknown_years)

    def due_at(self) -> datetime:
        """End of the due day in Asia/Shanghai, as an aware datetime."""
        return datetime.combine(self.due_on + timedelta(days=1), time(0), LOCAL_TZ)


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive runs of dates as (first, last) pairs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _fmt_runs(runs: list[tuple[date, date]]) -> str:
    return "、".join(
        a.isoformat() if a == b else f"{a.isoformat()} … {b.isoformat()}" for a, b in runs
    )


def compute(start: date, policy: Policy, calendar: Calendar) -> Deadline:
    """The due date of `policy` started on `start`, with a step-by-step explanation."""
    if policy.days < 0:
        raise ValueError("a policy's length cannot be negative")
    holidays: list[date] = []  # weekdays skipped
    makeup: list[date] = []  # weekend days counted as working days
    unknown: set[int] = set()
    if policy.unit == DayUnit.WORKING:
        day, counted = start, 0
        while counted < policy.days:
            day += timedelta(days=1)
            if not calendar.is_known(day.year):
                unknown.add(day.year)
            working = calendar.is_workday(day)
            if working:
                counted += 1
                if day.weekday() >= 5:
                    makeup.append(day)
            elif day.weekday() < 5 or calendar.info(day).note:
                holidays.append(day)
        due = day
        lines = [f"{policy.days} 个工作日，自 {start.isoformat()} 起算（当日不计入）"]
    else:
        nominal = start + timedelta(days=policy.days)
        due = nominal
        for d in (nominal,):
            if not calendar.is_known(d.year):
                unknown.add(d.year)
        while not calendar.is_workday(due):
            due += timedelta(days=1)
            if not calendar.is_known(due.year):
                unknown.add(due.year)
        lines = [
            f"{policy.days} 日（自然日），自 {start.isoformat()} 起算（当日不计入）"
            f" → 期满日 {nominal.isoformat()}"
        ]
        if due != nominal:
            info = calendar.info(nominal)
            why = info.note or ("周末" if nominal.weekday() >= 5 else "非工作日")
            lines.append(
                f"期满日 {nominal.isoformat()} 为{why}，顺延至下一个工作日 {due.isoformat()}"
                "（民法典第二百零三条）"
            )
    if holidays:
        notes = sorted({calendar.info(d).note for d in holidays if calendar.info(d).note})
        label = f"（{'、'.join(notes)}）" if notes else ""
        lines.append(f"跳过节假日{label}：{_fmt_runs(_ranges(holidays))}")
    for day in makeup:
        lines.append(
            f"{day.isoformat()}（{'周六' if day.weekday() == 5 else '周日'}）为调休上班日，计为工作日"
        )
    for year in sorted(unknown):
        lines.append(provisional_line(year))
    lines.append(f"→ {due.isoformat()} 24:00（北京时间）到期")
    return Deadline(
        policy=policy.name,
        start=start,
        due_on=due,
        unit=policy.unit,
        days=policy.days,
        explanation=lines,
        unknown_years=sorted(unknown),
    )


def provisional_line(year: int) -> str:
    """The explanation's line for a year counted without its official schedule."""
    return (
        f"{year} 年的放假安排尚未导入：暂按法定节假日（含补休）和周末推算，此期限为暂定；"
        f"导入国务院办公厅公布的 {year} 年安排后将重新计算"
    )


def working_days_between(start: date, end: date, calendar: Calendar) -> int:
    """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
    if end == start:
        return 0
    sign, lo, hi = (1, start, end) if end > start else (-1, end, start)
    count, day = 0, lo
    while day < hi:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            count += 1
    return sign * count


def extend(deadline: Deadline, extension: Policy, calendar: Calendar) -> Deadline:
    """A deadline lengthened by an extension policy counted from its original due date."""
    extra = compute(deadline.due_on, extension, calendar)
    lines = [line for line in deadline.explanation if not line.startswith("→")]
    lines.append(f"延期：{extra.explanation[0]}")
    lines.extend(extra.explanation[1:])
    return Deadline(
        policy=deadline.policy,
        start=deadline.start,
        due_on=extra.due_on,
        unit=deadline.unit,
        days=deadline.days,
        explanation=lines,
        unknown_years=sorted(set(deadline.unknown_years) | set(extra.unknown_years)),
    )
