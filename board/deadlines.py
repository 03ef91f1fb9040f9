"""The deadline engine's rules: working-day calendars and clocks that explain themselves.

Pure functions over a `Calendar`; no database access here. Counting follows DESIGN §4:
the starting day is not counted (民法典 Art. 201); a calendar-day deadline that lands on a
non-working day moves to the next working day (Art. 203); make-up Saturdays (调休) count as
working days. A year without an official schedule counts weekends and the statutory holidays the
law fixes (board.holidays, with their make-up days off), and every deadline that counts through
such a year is provisional until the State Council's schedule for it is loaded.
"""

from __future__ import annotations

import re
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


def N_(message: str) -> str:  # noqa: N802 (gettext_noop: marks a message for extraction)
    """Mark `message` for translation; it is translated where it is shown."""
    return message


def translate(message: str) -> str:
    """`message` in the request's language (Chinese outside a request)."""
    from flask import has_request_context
    from flask_babel import gettext

    return gettext(message) if has_request_context() else message


class Step(str):
    """One line of an explanation. As a `str` it is the Chinese sentence (what tests, logs and
    older rows compare with); `text` renders the same pieces in the request's language; `data`
    is what the clock stores (the message id and its arguments, not a sentence)."""

    msg: str | None
    args: dict

    def __new__(cls, msg: str | None, **args) -> Step:
        self = super().__new__(cls, _render(msg, args, localise=False))
        self.msg, self.args = msg, args
        return self

    @classmethod
    def plain(cls, sentence: str) -> Step:
        """A line stored as a sentence by an older version: shown as it is."""
        return cls(None, sentence=sentence)

    @property
    def text(self) -> str:
        """The line in the request's language."""
        return _render(self.msg, self.args, localise=True)

    @property
    def data(self) -> dict | str:
        """The stored form: {"msg", "args"} (a nested step stored as its own data)."""
        if self.msg is None:
            return self.args["sentence"]
        args = {k: v.data if isinstance(v, Step) else v for k, v in self.args.items()}
        return {"msg": self.msg, "args": args}

    @classmethod
    def load(cls, item: dict | str) -> Step:
        """A stored line back as a step (a plain string from an older row stays as it is)."""
        if isinstance(item, str):
            return parse_sentence(item)
        args = {
            k: cls.load(v) if isinstance(v, dict) and "msg" in v else v
            for k, v in item["args"].items()
        }
        return cls(item["msg"], **args)


def _render(msg: str | None, args: dict, *, localise: bool) -> str:
    """The sentence of `msg` with its arguments; names (holidays, weekdays) translated too."""
    if msg is None:
        return args["sentence"]
    say = translate if localise else (lambda m: m)
    values = {}
    for key, value in args.items():
        if isinstance(value, Step):
            values[key] = value.text if localise else str(value)
        elif isinstance(value, list):  # names, joined with the language's list comma
            values[key] = say(N_("、")).join(say(v) for v in value)
        elif key.endswith("_name"):
            values[key] = say(value)
        else:
            values[key] = value
    return say(msg) % values


# The lines an explanation is made of (message ids: translated where they are shown).
WORKING_DAYS = N_("%(days)d 个工作日，自 %(start)s 起算（当日不计入）")
CALENDAR_DAYS = N_("%(days)d 日（自然日），自 %(start)s 起算（当日不计入） → 期满日 %(nominal)s")
MOVED_TO_WORKDAY = N_(
    "期满日 %(nominal)s 为%(why_name)s，顺延至下一个工作日 %(due)s（民法典第二百零三条）"
)
SKIPPED_NAMED = N_("跳过节假日（%(names)s）：%(days)s")
SKIPPED = N_("跳过节假日：%(days)s")
MAKEUP_DAY = N_("%(day)s（%(weekday_name)s）为调休上班日，计为工作日")
DUE = N_("→ %(due)s 24:00（北京时间）到期")
PROVISIONAL = N_(
    "%(year)d 年的放假安排尚未导入：暂按法定节假日（含补休）和周末推算，此期限为暂定；"
    "导入国务院办公厅公布的 %(year)d 年安排后将重新计算"
)
EXTENSION = N_("延期：%(step)s")
HEARING = N_("听证：%(step)s")
LINES = (  # the ones that wrap another line first
    EXTENSION,
    HEARING,
    WORKING_DAYS,
    CALENDAR_DAYS,
    MOVED_TO_WORKDAY,
    SKIPPED_NAMED,
    SKIPPED,
    MAKEUP_DAY,
    DUE,
    PROVISIONAL,
)
LIST_ARGS = {"names", "days"}  # joined with 、 in a sentence


def _pattern(msg: str) -> re.Pattern:
    """A regex reading the sentence `msg` renders back into its arguments."""
    parts = re.split(r"%\((\w+)\)([sd])", msg)
    regex, seen = "", set()
    for i, part in enumerate(parts):
        if i % 3 == 0:
            regex += re.escape(part)
        elif i % 3 == 1:
            kind = r"\d+" if parts[i + 1] == "d" else ".+?"
            regex += f"(?P={part})" if part in seen else f"(?P<{part}>{kind})"
            seen.add(part)
    return re.compile(f"^{regex}$")


def parse_sentence(sentence: str) -> Step:
    """A line stored as a Chinese sentence (before explanations kept their pieces) read back
    into its pieces, so it is shown in any language; an unknown sentence stays as it is."""
    for msg in LINES:
        match = _pattern(msg).match(sentence)
        if match is None:
            continue
        args: dict = {}
        for key, value in match.groupdict().items():
            if key == "step":
                args[key] = parse_sentence(value)
            elif f"%({key})d" in msg:
                args[key] = int(value)
            elif key in LIST_ARGS:
                args[key] = value.split("、")
            else:
                args[key] = value
        return Step(msg, **args)
    return Step.plain(sentence)


def dump_explanation(lines: Iterable[Step]) -> list:
    """An explanation as stored in a clock's JSON column."""
    return [line.data if isinstance(line, Step) else line for line in lines]


def load_explanation(items: Iterable[dict | str]) -> list[Step]:
    """A clock's stored explanation as steps."""
    return [Step.load(item) for item in items]


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
    "New Year's Day": N_("元旦"),
    "Spring Festival": N_("春节"),
    "Tomb-sweeping Day": N_("清明节"),
    "Labour Day": N_("劳动节"),
    "Dragon Boat Festival": N_("端午节"),
    "National Day": N_("国庆节"),
    "Mid-autumn Festival": N_("中秋节"),
    "Anti-Fascist 70th Day": N_("抗战胜利70周年纪念日"),
}


class PolicyName(StrEnum):
    """The name of every clock a message can run (its length lives in the policy table)."""

    BOARD_MODERATION = "board_moderation"
    BOARD_ASSIGNMENT = "board_assignment"
    BOARD_RETURN = "board_return"
    BOARD_REPLY_SHORT = "board_reply_short"
    BOARD_REPLY_LONG = "board_reply_long"
    BOARD_EXTENSION = "board_extension"
    PETITION_ACCEPTANCE = "petition_acceptance"
    PETITION_HANDLING = "petition_handling"
    PETITION_EXTENSION = "petition_extension"
    PETITION_REVIEW_REQUEST = "petition_review_request"
    PETITION_REVIEW = "petition_review"
    PETITION_REREVIEW_REQUEST = "petition_rereview_request"
    PETITION_REREVIEW = "petition_rereview"
    RATING_WINDOW = "rating_window"


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
    explanation: list[Step]
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


def _fmt_runs(runs: list[tuple[date, date]]) -> list[str]:
    return [a.isoformat() if a == b else f"{a.isoformat()} … {b.isoformat()}" for a, b in runs]


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
        lines = [
            Step(
                WORKING_DAYS,
                days=policy.days,
                start=start.isoformat(),
            )
        ]
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
            Step(
                CALENDAR_DAYS,
                days=policy.days,
                start=start.isoformat(),
                nominal=nominal.isoformat(),
            )
        ]
        if due != nominal:
            info = calendar.info(nominal)
            why = info.note or (N_("周末") if nominal.weekday() >= 5 else N_("非工作日"))
            lines.append(
                Step(
                    MOVED_TO_WORKDAY,
                    nominal=nominal.isoformat(),
                    why_name=why,
                    due=due.isoformat(),
                )
            )
    if holidays:
        notes = sorted({calendar.info(d).note for d in holidays if calendar.info(d).note})
        runs = _fmt_runs(_ranges(holidays))
        if notes:
            lines.append(Step(SKIPPED_NAMED, names=notes, days=runs))
        else:
            lines.append(Step(SKIPPED, days=runs))
    for day in makeup:
        weekday = N_("周六") if day.weekday() == 5 else N_("周日")
        lines.append(
            Step(
                MAKEUP_DAY,
                day=day.isoformat(),
                weekday_name=weekday,
            )
        )
    for year in sorted(unknown):
        lines.append(provisional_line(year))
    lines.append(Step(DUE, due=due.isoformat()))
    return Deadline(
        policy=policy.name,
        start=start,
        due_on=due,
        unit=policy.unit,
        days=policy.days,
        explanation=lines,
        unknown_years=sorted(unknown),
    )


def provisional_line(year: int) -> Step:
    """The explanation's line for a year counted without its official schedule."""
    return Step(PROVISIONAL, year=year)


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
    lines.append(Step(EXTENSION, step=extra.explanation[0]))
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
