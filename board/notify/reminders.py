"""Reminders and digests (`flask deadlines tick`), and the mail about a due date that moved.

Each reminder is keyed on the clock and its current due date, so however often the tick runs a
reminder goes out once — and once more only if an extension or a calendar change moved the date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import LazyString, gettext
from sqlalchemy import Select, select

from ..clock import local_date, to_local
from ..deadlines import PolicyName
from ..extensions import db
from ..models import Clock, ClockState, Event, Message, Role, Unit
from ..privacy import public_text
from .outbox import (
    Draft,
    _author_address,
    _office_of,
    enqueue,
    event_drafts,
    link,
    unit_addresses,
)

RATE_REMINDER_DAYS = 7  # remind the author this many days before the rating window ends
WINDOW_NOTICE_DAYS = 7  # …and before a review / re-review request window ends
HANDLER_DUTIES = frozenset(
    {
        PolicyName.BOARD_REPLY_SHORT,
        PolicyName.BOARD_REPLY_LONG,
        PolicyName.PETITION_ACCEPTANCE,
        PolicyName.PETITION_HANDLING,
    }
)
REVIEW_WINDOWS = frozenset(
    {PolicyName.PETITION_REVIEW_REQUEST, PolicyName.PETITION_REREVIEW_REQUEST}
)


def policy_label(name: str) -> LazyString:
    """A deadline policy's label, translated when the mail is rendered (the recipient's
    language); a label an admin typed is shown as typed, an unknown policy by its name."""
    from ..calendar import services as clocks

    def text() -> str:
        try:
            label = clocks.get_policy(name).label
        except KeyError:
            return name
        return gettext(label) if label else name

    return LazyString(text)


# Clocks whose moved due date a unit's handlers hear of (their own duties), and clocks only the
# handling side watches (the author is not told when these move).
CLOCK_HANDLER_POLICIES = HANDLER_DUTIES | {PolicyName.BOARD_RETURN}
STAFF_ONLY_CLOCKS = frozenset(
    {PolicyName.BOARD_MODERATION, PolicyName.BOARD_ASSIGNMENT, PolicyName.BOARD_RETURN}
)


def queue_clock_moved_mail(event: Event, clock: Clock, *, previous_on: date) -> int:
    """Tell the author and the unit's handlers that a calendar change moved a due date.

    In the caller's transaction (the recompute that wrote `event`, already flushed). The author
    hears of the clocks that bind the handling side to them and of their own windows; handlers
    of their unit's duties. Returns how many mails were queued.
    """

    message = clock.message
    drafts: list[Draft] = []

    def add(addresses: Iterable[str], audience: str, title: str, path: str) -> None:
        context = {
            "message": message,
            "clock": clock,
            "policy_label": policy_label(clock.policy),
            "previous_on": previous_on,
            "provisional_years": clock.provisional_year_list,
            "audience": audience,
            "title": title,
            "url": link(path),
        }
        drafts.extend(
            event_drafts(
                event,
                addresses,
                audience,
                kind="clock_moved",
                template="clock_moved",
                context=context,
            )
        )

    if clock.policy not in STAFF_ONLY_CLOCKS:
        # The author reads their own words unmasked.
        add(_author_address(message), "author", message.title, f"/m/{message.code}")
    if clock.policy in CLOCK_HANDLER_POLICIES:
        add(
            unit_addresses(message.unit, Role.HANDLER),
            "handlers",
            public_text(message, message.title),
            f"/desk/m/{message.code}",
        )
    return sum(1 for draft in drafts if enqueue(draft, now=event.created_at) is not None)


# ---------------------------------------------------------------------------------------------
# Reminders (flask deadlines tick)


@dataclass
class ReminderCounts:
    """What one tick queued."""

    due_soon: int = 0
    overdue: int = 0
    rate: int = 0
    window: int = 0
    digests: int = 0

    @property
    def total(self) -> int:
        """All mails queued."""
        return self.due_soon + self.overdue + self.rate + self.window + self.digests


def _open_clocks(query: Select) -> list[Clock]:
    return list(db.session.scalars(query))


def queue_reminders(*, now: datetime) -> ReminderCounts:
    """Queue due-soon, overdue, rating and window reminders, and the daily digests.

    Digests (the coordinators' overdue list, each unit's running cases) go out once a day, from
    MAIL_DIGEST_HOUR (Beijing time, default 8) on.

    Each is keyed on the clock and its current due date, so however often this runs a reminder
    goes out once — and once more only if an extension or a calendar change moved the date.
    Commits.
    """
    from ..calendar import services as clocks

    counts = ReminderCounts()
    today = local_date(now)
    for clock in _open_clocks(clocks.due_soon(now)):
        if clock.policy in HANDLER_DUTIES and clock.message.unit is not None:
            counts.due_soon += _queue_clock(clock, "due_soon", now, today)
    overdue_clocks = _open_clocks(clocks.overdue(now))
    for clock in overdue_clocks:
        if clock.policy in HANDLER_DUTIES and clock.message.unit is not None:
            counts.overdue += _queue_clock(clock, "overdue", now, today)
    window_start = today + timedelta(days=RATE_REMINDER_DAYS)
    citizen_windows = select(Clock).where(
        Clock.state == ClockState.OPEN,
        Clock.policy.in_({PolicyName.RATING_WINDOW} | REVIEW_WINDOWS),
        Clock.due_on >= today,
        Clock.due_on <= window_start,
    )
    for clock in _open_clocks(citizen_windows.order_by(Clock.due_on, Clock.id)):
        kind = "rate_reminder" if clock.policy == PolicyName.RATING_WINDOW else "window_closing"
        added = _queue_clock(clock, kind, now, today)
        if kind == "rate_reminder":
            counts.rate += added
        else:
            counts.window += added
    if to_local(now).hour >= int(current_app.config.get("MAIL_DIGEST_HOUR", 8)):
        counts.digests += _queue_digests(overdue_clocks, now, today)
        counts.digests += _queue_unit_digests(now, today)
    db.session.commit()
    return counts


def _queue_unit_digests(now: datetime, today: date) -> int:
    """Each unit's daily list of its running answer clocks, soonest first (DESIGN §8)."""
    from ..calendar import services as clocks

    soon_before = clocks.due_soon_before(now)
    rows = db.session.scalars(
        select(Clock)
        .join(Message, Clock.message_id == Message.id)
        .where(
            Clock.state == ClockState.OPEN,
            Clock.policy.in_(HANDLER_DUTIES),
            Message.unit_id.is_not(None),
        )
        .order_by(Clock.due_on, Clock.id)
    ).all()
    by_unit: dict[int, list[Clock]] = defaultdict(list)
    for clock in rows:
        by_unit[clock.message.unit_id].append(clock)
    added = 0
    for unit_id, unit_clocks in sorted(by_unit.items()):
        unit = unit_clocks[0].message.unit
        items = [
            {
                "code": c.message.code,
                "title": public_text(c.message, c.message.title),
                "policy": policy_label(c.policy),
                "due_on": c.due_on,
                "overdue": c.due_on < today,
                "due_soon": today <= c.due_on < soon_before,
                "provisional": c.is_provisional,
            }
            for c in unit_clocks
        ]
        for address in unit_addresses(unit, Role.HANDLER):
            draft = Draft(
                recipient=address,
                kind="unit_digest",
                dedupe_key=f"unit_digest:{unit_id}:{today.isoformat()}:{address.lower()}",
                template="unit_digest",
                context={"unit": unit, "items": items, "today": today,
                         "url": link("/desk/handler")},
            )  # fmt: skip
            if enqueue(draft, now=now) is not None:
                added += 1
    return added


def _queue_clock(clock: Clock, kind: str, now: datetime, today: date) -> int:
    message = clock.message
    if kind in ("due_soon", "overdue"):
        addresses, url = unit_addresses(message.unit, Role.HANDLER), f"/desk/m/{message.code}"
        title = public_text(message, message.title)
    else:
        addresses, url, title = _author_address(message), f"/m/{message.code}", message.title

    added = 0
    for address in addresses:
        draft = Draft(
            recipient=address,
            kind=kind,
            dedupe_key=f"{kind}:{clock.id}:{clock.due_on.isoformat()}:{address.lower()}",
            template=kind,
            context={
                "message": message,
                "clock": clock,
                "title": title,
                "url": link(url),
                "policy_label": policy_label(clock.policy),
                "days_left": (clock.due_on - today).days,
                "days_late": (today - clock.due_on).days,
                "provisional_years": clock.provisional_year_list,
            },
            message=message,
        )
        if enqueue(draft, now=now) is not None:
            added += 1
    return added


def _queue_digests(overdue_clocks: list[Clock], now: datetime, today: date) -> int:
    """One overdue digest a day for each office whose boards have overdue clocks."""
    by_office: dict[int, list[Clock]] = defaultdict(list)
    offices: dict[int, Unit] = {}
    for clock in overdue_clocks:
        office = _office_of(clock.message)
        if office is None:
            continue
        by_office[office.id].append(clock)
        offices[office.id] = office

    added = 0
    for office_id, rows in sorted(by_office.items()):
        items = [
            {
                "code": c.message.code,
                "title": public_text(c.message, c.message.title),
                "unit": c.message.unit.name if c.message.unit else "",
                "policy": policy_label(c.policy),
                "due_on": c.due_on,
                "days_late": (today - c.due_on).days,
                "seriously": c.double_due_on < today,
            }
            for c in rows
        ]
        for address in unit_addresses(offices[office_id], Role.COORDINATOR):
            draft = Draft(
                recipient=address,
                kind="overdue_digest",
                dedupe_key=f"digest:{office_id}:{today.isoformat()}:{address.lower()}",
                template="overdue_digest",
                context={
                    "office": offices[office_id],
                    "items": items,
                    "today": today,
                    "url": link("/desk/coordinator"),
                },
            )
            if enqueue(draft, now=now) is not None:
                added += 1
    return added
