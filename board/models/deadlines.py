"""Deadlines: the working-day calendar, deadline policies and the clocks that run on messages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .messages import Message, OnMessage
from .vocab import ClockState


class CalendarDay(db.Model):
    """One date the calendar table knows: a holiday, a make-up working day, or any listed day."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(16), default="package")  # package | admin | file


class CalendarYear(db.Model):
    """A year whose holiday schedule was loaded; other years count Monday–Friday."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16), default="package")
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


class DeadlinePolicy(db.Model):
    """A named clock length (DESIGN §4, §10): N working or calendar days, admin-editable."""

    __tablename__ = "deadline_policy"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))  # working | calendar
    label: Mapped[str] = mapped_column(String(80), default="")


class Clock(OnMessage, db.Model):
    """A deadline running on a message, with its computed due date and explanation."""

    __tablename__ = "clock"
    __table_args__ = (Index("ix_clock_state_due_on", "state", "due_on"),)

    policy: Mapped[str] = mapped_column(String(40))
    started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    # Twice the length from the same start: past it the clock is seriously overdue.
    double_due_on: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ClockState.OPEN)
    # An approved extension (counted from the base due date) and hearing days (复核听证),
    # kept apart so a calendar change recomputes base → extension → hearing.
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_unit: Mapped[str | None] = mapped_column(String(16))
    hearing_days: Mapped[int] = mapped_column(Integer, default=0)
    explanation: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of lines
    # Years it counts through that have no official holiday schedule yet ("2027", "2027,2028"):
    # the due date is provisional until they are imported. Set with due_on, recomputed with it.
    provisional_years: Mapped[str] = mapped_column(String(40), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    message: Mapped[Message] = relationship()

    @property
    def explanation_lines(self) -> list:
        """The stored explanation as steps (`str`: Chinese; `.text`: the request's language)."""
        import json

        from ..deadlines import load_explanation

        return load_explanation(json.loads(self.explanation or "[]"))

    @property
    def provisional_year_list(self) -> list[int]:
        """The years without an official schedule that the due date depends on."""
        return [int(year) for year in (self.provisional_years or "").split(",") if year]

    @property
    def is_provisional(self) -> bool:
        """True while the due date rests on a year whose official schedule is not imported."""
        return bool(self.provisional_years)
