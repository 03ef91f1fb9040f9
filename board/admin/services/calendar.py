"""The holiday calendar: loaded years, the month view, a day changed, a year imported."""

from __future__ import annotations

import calendar as pycalendar
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import func, select

from ... import holidays
from ...audit import record_change
from ...calendar import services as clocks
from ...errors import NotFound, ValidationFailed
from ...extensions import db
from ...models import CalendarDay, CalendarYear, User
from .common import require_admin

NOTE_MAX = 80


def _forget_cached_calendar() -> None:
    """db_calendar caches per request by a version that a changed day does not bump."""
    g.pop(clocks._CACHE, None)


@dataclass
class YearRow:
    """A loaded year as the calendar page lists it."""

    year: int
    source: str
    loaded_at: datetime
    holidays: int
    workdays: int


def calendar_years(actor: User) -> list[YearRow]:
    """The loaded years with their source and how many exceptional days each has."""
    require_admin(actor)
    counts: dict[tuple[int, bool], int] = {}
    for day, workday in db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)):
        counts[(day.year, workday)] = counts.get((day.year, workday), 0) + 1
    return [
        YearRow(
            row.year,
            row.source,
            row.loaded_at,
            counts.get((row.year, False), 0),
            counts.get((row.year, True), 0),
        )
        for row in db.session.scalars(select(CalendarYear).order_by(CalendarYear.year))
    ]


@dataclass(frozen=True)
class MissingYear:
    """A year whose official schedule is due but not imported, and the clocks waiting on it."""

    year: int
    provisional_clocks: int


def missing_years(actor: User, *, now: datetime) -> list[MissingYear]:
    """This year, and from 1 October (Beijing) next year, where no official schedule is loaded.

    Deadlines there count the statutory holidays by law and are provisional until it is.
    """
    require_admin(actor)
    return [
        MissingYear(year, clocks.provisional_open_count(year))
        for year in clocks.missing_schedule_years(now)
    ]


@dataclass
class MonthDay:
    """One day of the month view."""

    day: date
    is_workday: bool
    note: str
    source: str  # "" for the week, "law" for a statutory holiday of a year not imported
    in_month: bool


def month_view(actor: User, year: int, month: int) -> tuple[list[list[MonthDay]], bool]:
    """Weeks (Monday first) of the month, and whether its year is loaded."""
    require_admin(actor)
    if not (1949 <= year <= 2200 and 1 <= month <= 12):
        raise NotFound()
    rows = {
        r.day: r
        for r in db.session.scalars(
            select(CalendarDay).where(
                CalendarDay.day >= date(year, month, 1),
                CalendarDay.day <= date(year, month, pycalendar.monthrange(year, month)[1]),
            )
        )
    }
    loaded = db.session.get(CalendarYear, year) is not None
    law = {} if loaded else holidays.days_off(year)
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        cells = []
        for day in week:
            row = rows.get(day)
            if row is not None:
                cell = MonthDay(day, row.is_workday, row.note or "", row.source, day.month == month)
            elif day in law:
                cell = MonthDay(day, False, law[day], "law", day.month == month)
            else:
                cell = MonthDay(day, day.weekday() < 5, "", "", day.month == month)
            cells.append(cell)
        weeks.append(cells)
    return weeks, loaded


def set_day(actor: User, day: date, *, is_workday: bool, note: str, now: datetime) -> int:
    """Make a day a working day or a holiday (with a note); recompute open clocks; commits.

    Returns how many open clocks got a new due date (each logs a `clock_recomputed` event).
    """
    require_admin(actor)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(fields={"note": [_("备注不能超过 80 个字。")]})
    row = db.session.get(CalendarDay, day)
    before = {"is_workday": row.is_workday, "note": row.note} if row is not None else None
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday = bool(is_workday)
    row.note = note or ("调休上班" if is_workday and day.weekday() >= 5 else "")
    row.source = "admin"
    record_change(
        actor,
        "calendar.day",
        day.isoformat(),
        before,
        {"is_workday": row.is_workday, "note": row.note},
        now=now,
    )
    db.session.flush()
    _forget_cached_calendar()
    changed = clocks.recompute_open_clocks(now=now)
    db.session.commit()
    _forget_cached_calendar()
    return changed


def import_year(
    actor: User, year: int, *, csv_bytes: bytes | None = None, now: datetime
) -> tuple[int, int]:
    """Load a year from the chinese-calendar package, or from an uploaded CSV; commits.

    The CSV has the format of `flask calendar import --file`: `date,is_workday,note` lines.
    Returns (days stored, open clocks with a new due date).
    """
    require_admin(actor)
    if not 1949 <= year <= 2200:
        raise ValidationFailed(fields={"year": [_("请输入有效的年份。")]})
    try:
        if csv_bytes is None:
            rows = clocks.package_rows(year)
        else:
            text = csv_bytes.decode("utf-8-sig")
            rows = clocks.read_calendar_csv(io.StringIO(text), year)
    except UnicodeDecodeError as error:
        raise ValidationFailed(fields={"file": [_("文件须为 UTF-8 编码的 CSV。")]}) from error
    except ValueError as error:
        field = "file" if csv_bytes is not None else "year"
        raise ValidationFailed(fields={field: [str(error)]}) from error
    _forget_cached_calendar()
    source = "file" if csv_bytes is not None else "package"
    rows = list(rows)
    record_calendar_import(actor, year, rows, source=source, now=now)
    result = clocks.load_calendar_year(year, rows, source=source, now=now)
    _forget_cached_calendar()
    return result


def record_calendar_import(
    actor: User | str, year: int, rows: list, *, source: str, now: datetime
) -> None:
    """Log a year's import (web or `flask calendar import`) in the transaction that loads it."""
    loaded = db.session.get(CalendarYear, year)
    stored = db.session.scalar(
        select(func.count())
        .select_from(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    )
    before = {"source": loaded.source, "days": stored} if loaded is not None else None
    record_change(
        actor, "calendar.import", str(year), before, {"source": source, "days": len(rows)}, now=now
    )


def package_years_available() -> list[int]:
    """The years the package can load."""
    return clocks.package_years()


def exceptional_day_count() -> int:
    """How many rows the calendar table has."""
    return db.session.scalar(select(func.count()).select_from(CalendarDay)) or 0
