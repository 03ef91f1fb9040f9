"""The admin's deadline settings: policies, the holiday calendar (DESIGN §4), the mail outbox."""

from __future__ import annotations

import calendar as pycalendar
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import holidays
from ..calendar import services as clocks
from ..deadlines import DayUnit
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..models import CalendarDay, CalendarYear, DeadlinePolicy, Role, Unit, User

MAX_POLICY_DAYS = 730
NOTE_MAX = 80


def require_admin(actor: User | None) -> None:
    """Only admins change deadline settings."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role != Role.ADMIN:
        raise PermissionDenied()


def _forget_cached_calendar() -> None:
    """db_calendar caches per request by a version that a changed day does not bump."""
    g.pop(clocks._CACHE, None)


# ---------------------------------------------------------------------------------------------
# Policies


def policies(actor: User) -> list:
    """Every policy with its current length (stored, or the DESIGN default)."""
    require_admin(actor)
    return clocks.policy_choices()


def get_policy(actor: User, name: str):
    """One policy by name, or NotFound."""
    require_admin(actor)
    try:
        return clocks.get_policy(name)
    except KeyError as error:
        raise NotFound(_("没有名为 %(name)s 的期限类型。", name=name)) from error


def update_policy(actor: User, name: str, *, days: int, unit: str, label: str) -> DeadlinePolicy:
    """Change a policy's length, unit and label; clocks already running keep their own length."""
    get_policy(actor, name)
    errors: dict[str, list[str]] = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_POLICY_DAYS:
        errors["days"] = [_("天数须在 1 到 %(max)d 之间。", max=MAX_POLICY_DAYS)]
    if unit not in {u.value for u in DayUnit}:
        errors["unit"] = [_("请选择工作日或自然日。")]
    label = (label or "").strip()
    if not label or len(label) > 80:
        errors["label"] = [_("名称须为 1 到 80 个字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    row = db.session.get(DeadlinePolicy, name)
    if row is None:
        row = DeadlinePolicy(name=name)
        db.session.add(row)
    row.days, row.unit, row.label = days, unit, label
    db.session.commit()
    return row


# ---------------------------------------------------------------------------------------------
# The calendar


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
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday = bool(is_workday)
    row.note = note or ("调休上班" if is_workday and day.weekday() >= 5 else "")
    row.source = "admin"
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
    result = clocks.load_calendar_year(
        year, rows, source="file" if csv_bytes is not None else "package", now=now
    )
    _forget_cached_calendar()
    return result


def package_years_available() -> list[int]:
    """The years the package can load."""
    return clocks.package_years()


def exceptional_day_count() -> int:
    """How many rows the calendar table has."""
    return db.session.scalar(select(func.count()).select_from(CalendarDay)) or 0


# ---------------------------------------------------------------------------------------------
# Units' published contacts

CONTACT_PHONE_MAX = 40
# A number citizens can call: 3–6 digit hotlines (12345, 95598), landlines with or without area
# code and extension, mobiles, 400/800 numbers; digits with spaces, dashes and brackets only.
_CONTACT_PHONE = re.compile(r"^[+(]?[0-9][0-9 ()\-]*(?:(?:转|-|ext\.?|x) ?[0-9]{1,6})?$", re.I)


def units(actor: User) -> list[Unit]:
    """Every unit, by region then code."""
    require_admin(actor)
    return list(db.session.scalars(select(Unit).order_by(Unit.region_code, Unit.code)))


def get_unit(actor: User, code: str) -> Unit:
    """One unit by code, or NotFound."""
    require_admin(actor)
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(_("没有代码为 %(code)s 的单位。", code=code))
    return unit


def _valid_contact_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return bool(_CONTACT_PHONE.match(value)) and 3 <= len(digits) <= 20


def update_unit_contact(actor: User, code: str, *, contact_phone: str) -> Unit:
    """Set (or clear) the phone a unit publishes; it shows on the unit's page and is never masked.

    The change is written to the audit log (logger `board.audit`): who, which unit, old and new.
    """
    unit = get_unit(actor, code)
    phone = unicodedata.normalize("NFKC", contact_phone or "").strip()
    if len(phone) > CONTACT_PHONE_MAX or (phone and not _valid_contact_phone(phone)):
        raise ValidationFailed(
            fields={
                "contact_phone": [
                    _("请填写有效的电话号码，如 0571-87654321、12345 或 0571-87654321 转 802。")
                ]
            }
        )
    before = unit.contact_phone
    unit.contact_phone = phone or None
    db.session.commit()
    current_app.logger.getChild("audit").info(
        "admin %s set the contact phone of unit %s: %r -> %r",
        actor.id,
        unit.code,
        before,
        unit.contact_phone,
    )
    return unit
