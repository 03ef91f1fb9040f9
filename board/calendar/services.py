"""Deadline policies, the calendar table and the clocks running on messages (DESIGN §4)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from flask import g
from sqlalchemy import Select, delete, func, select

from .. import deadlines
from ..clock import local_date
from ..deadlines import PolicyName as P
from ..extensions import db
from ..models import (
    CalendarDay,
    CalendarYear,
    Clock,
    ClockState,
    DeadlinePolicy,
    Event,
    Kind,
    Message,
)

# DESIGN §4 defaults: name → (days, unit, label).
DEFAULT_POLICIES: dict[str, tuple[int, str, str]] = {
    P.BOARD_MODERATION: (1, "working", deadlines.N_("审核")),
    P.BOARD_ASSIGNMENT: (2, "working", deadlines.N_("交办")),
    P.BOARD_RETURN: (5, "working", deadlines.N_("退回")),
    P.BOARD_REPLY_SHORT: (10, "working", deadlines.N_("答复（咨询、建言、感谢）")),
    P.BOARD_REPLY_LONG: (20, "working", deadlines.N_("答复（投诉、求助）")),
    P.BOARD_EXTENSION: (15, "working", deadlines.N_("延期答复")),
    P.PETITION_ACCEPTANCE: (15, "calendar", deadlines.N_("受理告知")),
    P.PETITION_HANDLING: (60, "calendar", deadlines.N_("信访事项办理")),
    P.PETITION_EXTENSION: (30, "calendar", deadlines.N_("延长办理期限")),
    P.PETITION_REVIEW_REQUEST: (30, "calendar", deadlines.N_("申请复查期限")),
    P.PETITION_REVIEW: (30, "calendar", deadlines.N_("复查意见")),
    P.PETITION_REREVIEW_REQUEST: (30, "calendar", deadlines.N_("申请复核期限")),
    P.PETITION_REREVIEW: (30, "calendar", deadlines.N_("复核意见")),
    P.RATING_WINDOW: (30, "calendar", deadlines.N_("评价期")),
}
# Windows the citizen may use; they are not the handling side's duty, so never "overdue".
CITIZEN_WINDOWS = frozenset(
    {P.RATING_WINDOW, P.PETITION_REVIEW_REQUEST, P.PETITION_REREVIEW_REQUEST}
)
# Clocks that are not a duty of the handling side: the citizen's windows and the unit's right
# to return a message (退回, 5 working days) — none of them is ever "overdue".
NOT_DUTIES = CITIZEN_WINDOWS | {P.BOARD_RETURN}
# The clocks a unit answers against; an approved extension lengthens the open one.
ANSWER_CLOCKS = frozenset(
    {P.BOARD_REPLY_SHORT, P.BOARD_REPLY_LONG, P.PETITION_ACCEPTANCE, P.PETITION_HANDLING}
)
HANDLING_CLOCKS = ANSWER_CLOCKS | {P.BOARD_RETURN}
MAX_HEARING_DAYS = 60
SHORT_REPLY_KINDS = frozenset({Kind.INQUIRY, Kind.SUGGESTION, Kind.THANKS})
DUE_SOON_WORKING_DAYS = 3
_CACHE = "_deadline_calendar"


# ---------------------------------------------------------------------------------------------
# Policies


def seed_policies() -> int:
    """Insert the default policies that are missing (idempotent); returns how many were added."""
    added = 0
    for name, (days, unit, label) in DEFAULT_POLICIES.items():
        if db.session.get(DeadlinePolicy, name) is None:
            db.session.add(DeadlinePolicy(name=name, days=days, unit=unit, label=label))
            added += 1
    db.session.commit()
    return added


def get_policy(name: str) -> deadlines.Policy:
    """The policy as stored (or its DESIGN default when not seeded); KeyError if unknown."""
    row = db.session.get(DeadlinePolicy, name)
    if row is not None:
        return deadlines.Policy(row.name, row.days, deadlines.DayUnit(row.unit), row.label)
    days, unit, label = DEFAULT_POLICIES[name]
    return deadlines.Policy(name, days, deadlines.DayUnit(unit), label)


def label_for(name: str) -> str:
    """A policy's label for people (its name when it has none or is no longer known)."""
    try:
        label = get_policy(name).label
    except KeyError:
        return name
    # The default labels are in the catalog; one an admin typed is shown as typed.
    return deadlines.translate(label) if label else name


def policy_choices() -> list[deadlines.Policy]:
    """Every known policy, stored ones first in DESIGN order, then any extra ones by name."""
    names = list(DEFAULT_POLICIES)
    names += sorted(set(db.session.scalars(select(DeadlinePolicy.name))) - set(names))
    return [get_policy(name) for name in names]


# ---------------------------------------------------------------------------------------------
# The calendar table


def _calendar_version() -> tuple:
    """Changes whenever a year is (re)loaded, so a cached calendar knows it went stale."""
    return tuple(
        db.session.execute(
            select(func.count(CalendarYear.year), func.max(CalendarYear.loaded_at))
        ).one()
    ) + (db.session.scalar(select(func.count()).select_from(CalendarDay)),)


def db_calendar(years: Iterable[int] | None = None) -> deadlines.Calendar:
    """A Calendar from the table (cached per app context); unloaded years count Mon–Fri."""
    version = _calendar_version()
    cached = g.get(_CACHE)
    if cached is None or cached[0] != version:
        days = {
            row.day: deadlines.DayInfo(row.is_workday, row.note or "")
            for row in db.session.scalars(select(CalendarDay))
        }
        known = frozenset(db.session.scalars(select(CalendarYear.year)))
        cached = (version, deadlines.Calendar(days=days, years=known))
        setattr(g, _CACHE, cached)
    calendar = cached[1]
    if years is None:
        return calendar
    wanted = set(years)
    return deadlines.Calendar(
        days={d: i for d, i in calendar.days.items() if d.year in wanted},
        years=frozenset(calendar.years & wanted),
    )


def package_rows(year: int) -> list[tuple[date, bool, str]]:
    """The year's exceptional days from chinese-calendar; ValueError if it does not cover it."""
    calendar = deadlines.package_calendar([year])
    if year not in calendar.years:
        raise ValueError(f"chinese-calendar has no holiday schedule for {year}")
    return [(day, info.is_workday, info.note) for day, info in sorted(calendar.days.items())]


def package_years() -> list[int]:
    """The years chinese-calendar covers."""
    import chinese_calendar

    years = []
    for year in range(2004, 2100):
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        years.append(year)
    return years


def read_calendar_csv(
    source: str | Path | io.TextIOBase, year: int
) -> list[tuple[date, bool, str]]:
    """Rows `date,is_workday,note` (a header line is allowed); ValueError names the bad line."""
    handle = (
        open(source, encoding="utf-8-sig", newline="") if isinstance(source, str | Path) else source
    )
    rows: list[tuple[date, bool, str]] = []
    with handle:
        for number, cells in enumerate(csv.reader(handle), start=1):
            if not cells or not "".join(cells).strip():
                continue
            if number == 1 and cells[0].strip().lower() in ("date", "day", "日期"):
                continue
            try:
                day = date.fromisoformat(cells[0].strip())
                flag = cells[1].strip().lower()
            except (ValueError, IndexError) as error:
                raise ValueError(f"line {number}: expected date,is_workday,note") from error
            if flag in ("1", "true", "yes", "y", "是", "班"):
                workday = True
            elif flag in ("0", "false", "no", "n", "否", "休"):
                workday = False
            else:
                raise ValueError(f"line {number}: is_workday must be 1/0 or true/false")
            if day.year != year:
                raise ValueError(f"line {number}: {day.isoformat()} is not in {year}")
            rows.append((day, workday, cells[2].strip() if len(cells) > 2 else ""))
    return rows


def load_calendar_year(
    year: int,
    rows: Iterable[tuple[date, bool, str]] | None = None,
    *,
    source: str = "package",
    now: datetime,
) -> tuple[int, int]:
    """Replace a year's calendar rows, mark it known, recompute open clocks; commits.

    With no `rows` the year comes from chinese-calendar. Returns (days stored, clocks changed).
    """
    rows = package_rows(year) if rows is None else list(rows)
    db.session.execute(
        delete(CalendarDay).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    )
    for day, workday, note in rows:
        db.session.add(CalendarDay(day=day, is_workday=workday, note=note or "", source=source))
    marker = db.session.get(CalendarYear, year)
    if marker is None:
        db.session.add(CalendarYear(year=year, source=source, loaded_at=now))
    else:
        marker.source, marker.loaded_at = source, now
    db.session.flush()
    changed = recompute_open_clocks(now=now)
    db.session.commit()
    return len(rows), changed


# ---------------------------------------------------------------------------------------------
# Clocks


def _lengthen(
    deadline: deadlines.Deadline,
    clock: Clock,
    calendar: deadlines.Calendar,
) -> deadlines.Deadline:
    """Base deadline → + approved extension → + hearing days (the order DESIGN §4 implies)."""
    if clock.extension_days:
        extension = deadlines.Policy(
            "extension", clock.extension_days, deadlines.DayUnit(clock.extension_unit or clock.unit)
        )
        deadline = deadlines.extend(deadline, extension, calendar)
    if clock.hearing_days:
        hearing = deadlines.Policy("hearing", clock.hearing_days, deadlines.DayUnit.CALENDAR)
        before = len([line for line in deadline.explanation if not line.startswith("→")])
        deadline = deadlines.extend(deadline, hearing, calendar)
        line = deadline.explanation[before]
        if line.startswith("延期："):
            deadline.explanation[before] = deadlines.Step(deadlines.HEARING, step=line.args["step"])
    return deadline


def _fill(clock: Clock, calendar: deadlines.Calendar) -> deadlines.Deadline:
    """Compute the clock's due date, doubled due date and explanation from its own length.

    The base length counts from the start; an approved extension and hearing days are kept
    apart on the clock and re-applied on top, so a calendar change keeps them.
    """
    policy = deadlines.Policy(clock.policy, clock.days, deadlines.DayUnit(clock.unit))
    deadline = _lengthen(deadlines.compute(clock.started_on, policy, calendar), clock, calendar)
    double = _lengthen(
        deadlines.compute(
            clock.started_on, deadlines.Policy(clock.policy, clock.days * 2, policy.unit), calendar
        ),
        clock,
        calendar,
    )
    clock.due_on = deadline.due_on
    clock.double_due_on = double.due_on
    clock.explanation = json.dumps(
        deadlines.dump_explanation(deadline.explanation), ensure_ascii=False
    )
    clock.provisional_years = ",".join(str(year) for year in deadline.unknown_years)
    return deadline


def start_clock(message: Message, policy_name: str, started_on: date, *, now: datetime) -> Clock:
    """Start a policy's clock on a message in the caller's transaction."""
    policy = get_policy(policy_name)
    clock = Clock(
        message=message,
        policy=policy.name,
        started_on=started_on,
        days=policy.days,
        unit=policy.unit,
        state=ClockState.OPEN,
        created_at=now,
    )
    _fill(clock, db_calendar())
    db.session.add(clock)
    return clock


def open_clocks(message: Message) -> list[Clock]:
    """The message's running clocks, soonest first."""
    if message.id is None:
        return [c for c in db.session.new if isinstance(c, Clock) and c.message is message]
    # All the message's clocks (a handful), filtered here: with `state` in the query SQLite
    # chose the (state, due_on) index for the order and scanned every open clock — 1.7 s of
    # each approval at a million messages.
    clocks = db.session.scalars(select(Clock).where(Clock.message_id == message.id))
    return sorted((c for c in clocks if c.state == ClockState.OPEN), key=lambda c: (c.due_on, c.id))


def close_clocks(
    message: Message,
    policies: Iterable[str] | None = None,
    *,
    now: datetime,
    state: str = ClockState.MET,
) -> list[Clock]:
    """End the message's open clocks of these policies (all of them when None)."""
    wanted = None if policies is None else set(policies)
    closed = []
    for clock in open_clocks(message):
        if wanted is None or clock.policy in wanted:
            clock.state = state
            clock.closed_at = now
            closed.append(clock)
    return closed


def advance(
    message: Message,
    event: Event,
    *,
    now: datetime,
    close: Iterable[str] | None = (),
    start: str | None = None,
    closed_state: str = ClockState.MET,
) -> Clock | None:
    """A workflow step: close clocks, start the next one and note its due date on the event."""
    if close is None or close:
        close_clocks(message, close, now=now, state=closed_state)
    if start is None:
        return None
    clock = start_clock(message, start, local_date(now), now=now)
    event.due_on = clock.due_on
    return clock


def extend_clock(clock: Clock, policy_name: str) -> Clock:
    """Lengthen an open clock by an extension policy, counted from its current due date.

    Used once per handling round (the service checks that); the extension is stored on the
    clock so `recompute_open_clocks` keeps it when the calendar changes.
    """
    policy = get_policy(policy_name)
    clock.extension_days = (clock.extension_days or 0) + policy.days
    clock.extension_unit = policy.unit
    _fill(clock, db_calendar())
    return clock


def add_hearing_days(clock: Clock, days: int) -> Clock:
    """Add hearing time (听证, calendar days) to a clock; recomputed with the calendar too."""
    if days < 1 or (clock.hearing_days or 0) + days > MAX_HEARING_DAYS:
        raise ValueError(f"hearing days must keep the total within 1…{MAX_HEARING_DAYS}")
    clock.hearing_days = (clock.hearing_days or 0) + days
    _fill(clock, db_calendar())
    return clock


def open_clock(message: Message, policies: Iterable[str]) -> Clock | None:
    """The message's soonest open clock among these policies, or None."""
    wanted = set(policies)
    return next((c for c in open_clocks(message) if c.policy in wanted), None)


def reply_policy(message: Message) -> str:
    """The board reply clock for the message's kind: 10 or 20 working days."""
    return P.BOARD_REPLY_SHORT if message.kind in SHORT_REPLY_KINDS else P.BOARD_REPLY_LONG


def recompute_open_clocks(*, now: datetime) -> int:
    """Recompute every open clock against the calendar table, in the caller's transaction.

    A clock whose due date moved gets a `clock_recomputed` event, and its author and handlers a
    mail; one that only stopped being provisional (its year's schedule came) gets a
    `clock_confirmed` event. Returns how many due dates moved.
    """
    from ..notify import services as notify

    calendar = db_calendar()
    moved: list[tuple[Event, Clock, date]] = []
    for clock in db.session.scalars(select(Clock).where(Clock.state == ClockState.OPEN)):
        old_due, old_years = clock.due_on, clock.provisional_year_list
        _fill(clock, calendar)
        settled = [year for year in old_years if year not in clock.provisional_year_list]
        if clock.due_on == old_due and not settled:
            continue
        event = Event(
            message=clock.message,
            action="clock_recomputed" if clock.due_on != old_due else "clock_confirmed",
            from_state=clock.message.state,
            to_state=clock.message.state,
            note=_change_note(clock, old_due, settled),
            is_public=False,
            due_on=clock.due_on,
            created_at=now,
        )
        db.session.add(event)
        if clock.due_on != old_due:
            moved.append((event, clock, old_due))
    if moved:
        db.session.flush()  # event ids for the mails' dedupe keys
    for event, clock, old_due in moved:
        notify.queue_clock_moved_mail(event, clock, previous_on=old_due)
    return len(moved)


def _change_note(clock: Clock, old_due: date, settled: list[int]) -> str:
    """What a recompute did to a clock, for its event (staff read it on the timeline)."""
    cause = (
        f"{'、'.join(str(y) for y in settled)} 年放假安排已导入" if settled else "节假日安排变更"
    )
    if clock.due_on == old_due:
        change = f"期限 {clock.due_on.isoformat()} 不变"
    else:
        change = f"期限由 {old_due.isoformat()} 改为 {clock.due_on.isoformat()}"
    status = "仍为暂定" if clock.is_provisional else ("不再是暂定" if settled else "")
    return f"{label_for(clock.policy)}：{cause}，{change}" + (f"，{status}" if status else "")


def recompute_all(*, now: datetime) -> int:
    """Recompute open clocks after the rules changed (an upgrade); commits; returns how many moved."""
    changed = recompute_open_clocks(now=now)
    db.session.commit()
    return changed


def provisional_open_count(year: int) -> int:
    """How many open clocks rest on a year whose official schedule is not imported."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Clock)
            .where(Clock.state == ClockState.OPEN, Clock.provisional_years.contains(str(year)))
        )
        or 0
    )


def official_years() -> frozenset[int]:
    """The years whose official holiday schedule is loaded."""
    return frozenset(db.session.scalars(select(CalendarYear.year)))


def missing_schedule_years(now: datetime) -> list[int]:
    """Years lacking the official schedule they need by now: this year; next year from 1 October.

    The State Council publishes next year's schedule in the autumn; `now` is read in Beijing time.
    """
    today = local_date(now)
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    known = official_years()
    return [year for year in wanted if year not in known]


# ---------------------------------------------------------------------------------------------
# Queries with an explicit `now` (nothing stored can go stale)


def _duties() -> Select:
    """Open clocks the handling side owes (citizen windows and the return right excluded)."""
    return (
        select(Clock)
        .where(Clock.state == ClockState.OPEN, Clock.policy.not_in(NOT_DUTIES))
        .order_by(Clock.due_on, Clock.id)
    )


def overdue(now: datetime) -> Select:
    """Open clocks whose due day ended before today (Asia/Shanghai)."""
    return _duties().where(Clock.due_on < local_date(now))


def seriously_overdue(now: datetime) -> Select:
    """Open clocks past twice their length."""
    return _duties().where(Clock.double_due_on < local_date(now))


def due_soon_before(now: datetime) -> date:
    """The first day that is more than three working days after today."""
    policy = deadlines.Policy("due_soon", DUE_SOON_WORKING_DAYS + 1, deadlines.DayUnit.WORKING)
    return deadlines.compute(local_date(now), policy, db_calendar()).due_on


def due_soon(now: datetime) -> Select:
    """Open clocks not yet overdue with at most three working days left."""
    today = local_date(now)
    return _duties().where(Clock.due_on >= today, Clock.due_on < due_soon_before(now))


def deadline_for(start: date, policy_name: str) -> deadlines.Deadline:
    """The public calculator: a policy started on a date, against the calendar table."""
    return deadlines.compute(start, get_policy(policy_name), db_calendar())
