"""The periodic report of a region (信访工作条例 Art. 41): volumes, kinds, units, supervision."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    func,
    select,
    true,
)

from ..clock import local_date
from ..extensions import db
from ..models import (
    Event,
    Kind,
    Region,
    Unit,
)
from .figures import (
    Figures,
    Rate,
    Scope,
    _figures,
    _past_due_sums,
    _several_past_due,
    conditions,
    day_start,
    region_condition,
)
from .models import StatsCase as Fact

# Periodic report (信访工作条例 Art. 41)


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: its name, label and first and last Beijing days."""

    name: str  # 2026, 2026-Q1, 2026-03
    first: date
    last: date

    @property
    def kind(self) -> str:
        """year | quarter | month."""
        if "-Q" in self.name:
            return "quarter"
        return "month" if "-" in self.name else "year"

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "year":
            return parse_period(str(self.first.year - 1))
        if self.kind == "quarter":
            q = (self.first.month - 1) // 3 + 1
            year, q = (self.first.year - 1, 4) if q == 1 else (self.first.year, q - 1)
            return parse_period(f"{year}-Q{q}")
        year, month = (
            (self.first.year - 1, 12)
            if self.first.month == 1
            else (self.first.year, self.first.month - 1)
        )
        return parse_period(f"{year:04d}-{month:02d}")


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def parse_period(text: str | None) -> Period | None:
    """`2026`, `2026-Q2` or `2026-03` as a Period; None when malformed or out of range."""
    text = (text or "").strip().upper()
    try:
        if len(text) == 4 and text.isdigit():
            year = int(text)
            if not 1900 <= year <= 2999:
                return None
            return Period(text, date(year, 1, 1), date(year, 12, 31))
        if len(text) == 7 and text[4:6] == "-Q" and text[:4].isdigit() and text[6] in "1234":
            year, q = int(text[:4]), int(text[6])
            if not 1900 <= year <= 2999:
                return None
            return Period(text, date(year, 3 * q - 2, 1), _month_end(year, 3 * q))
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            year, month = int(text[:4]), int(text[5:])
            if not 1900 <= year <= 2999 or not 1 <= month <= 12:
                return None
            return Period(text, date(year, month, 1), _month_end(year, month))
    except ValueError:
        return None
    return None


@dataclass
class Report:
    """The periodic report of a region (信访工作条例 Art. 41)."""

    region: Region
    period: Period
    figures: Figures
    previous_messages: int
    all_received: int
    by_kind: list[tuple[str, int, int]]  # (kind, cases, replied)
    by_domain: list[tuple[str, int, int]]
    complained_units: list[tuple[Unit, int, Rate]]  # (unit, complaints, on-time)
    assigned: int
    assigned_units: int
    transfers: int
    returns: int
    urges: int
    urged_messages: int
    extensions: int
    late_replies: int
    suggestions: int
    suggestions_replied: int
    suggestions_adopted: int

    @property
    def trend(self) -> float | None:
        """Change in cases against the previous period, as a fraction."""
        if not self.previous_messages:
            return None
        return (self.figures.messages - self.previous_messages) / self.previous_messages

    @property
    def adoption(self) -> Rate:
        """Adopted suggestions among the answered ones."""
        return Rate(self.suggestions_adopted, self.suggestions_replied)


COMPLAINT_KINDS = (Kind.COMPLAINT, Kind.CLAIM)
SUGGESTION_KINDS = (Kind.SUGGESTION, Kind.OPINION)


REPORT_EVENTS = ("transfer", "return_approved", "urge", "extend")


def _event_counts(conds: list, period: Period) -> dict[str, tuple[int, int]]:
    """{action: (events, cases)} of the report's actions dated within the period, on the scope's
    cases (`ix_event_action_created_at` finds the few such events; each is checked against its
    case's fact row by primary key)."""
    rows = db.session.execute(
        select(Event.action, func.count(Event.id), func.count(func.distinct(Event.message_id)))
        .select_from(Event)
        .join(Fact, Fact.message_id == Event.message_id)
        .where(
            Event.action.in_(REPORT_EVENTS),
            Event.created_at >= day_start(period.first),
            Event.created_at < day_start(period.last + timedelta(days=1)),
            *conds,
        )
        .group_by(Event.action)
    )
    return {action: (n, cases) for action, n, cases in rows}


def report(region: Region, period: Period, *, now: datetime) -> Report:
    """Volumes and trend, kinds and domains, most-complained units, assignment, supervision,
    overdue handling and adopted suggestions for a region and period."""
    scope = Scope(region=region, date_from=period.first, date_to=period.last)
    conds = conditions(scope)
    today = local_date(now)
    fig, totals = _figures(scope, now, with_series=True)
    # The previous period's cases and every message received in this one, in one pass.
    previous = period.previous()
    previous_messages, all_received = (
        int(n or 0)
        for n in db.session.execute(
            select(
                func.count().filter(
                    Fact.is_case == true(),
                    Fact.published_on >= previous.first,
                    Fact.published_on <= previous.last,
                ),
                func.count().filter(
                    Fact.is_received.is_(True),
                    Fact.created_on >= period.first,
                    Fact.created_on <= period.last,
                ),
            ).where(region_condition(region.path))
        ).one()
    )

    # Kinds, domains, adoption, assignment and each unit's complaints with their on-time
    # rate: one GROUP BY kind, domain, unit (one sort of the period's cases).
    kinds: dict = defaultdict(lambda: [0, 0])
    domains: dict = defaultdict(lambda: [0, 0])
    suggestions = [0, 0, 0]  # cases, replied, adopted
    assigned = 0
    units_assigned: set = set()
    complaint_counts: dict = defaultdict(lambda: [0, 0, 0])  # unit: cases, decided, on time
    rows = db.session.execute(
        select(
            Fact.kind,
            Fact.domain,
            Fact.unit_id,
            func.count(),
            func.count(Fact.replied_on),
            func.count().filter(Fact.adopted.is_(True)),
            func.count().filter(Fact.is_assigned.is_(True)),
            func.sum(Fact.answers_met),
            *_past_due_sums(today),
            func.sum(Fact.answers_on_time),
        )
        .where(*conds)
        .group_by(Fact.kind, Fact.domain, Fact.unit_id)
    )
    rows = rows.all()
    several_open: dict = {}
    if any(row[9] for row in rows):
        several_open = _several_past_due(conds, today, Fact.kind, Fact.domain, Fact.unit_id)
    for kind, domain, unit_id, n, *counts in rows:
        replied, adopted, assigned_n, met, one, _with_several, on_time = (
            int(c or 0) for c in counts
        )
        several = several_open.get((kind, domain, unit_id), 0)
        for table, key in ((kinds, kind), (domains, domain)):
            table[key][0] += n
            table[key][1] += replied
        if kind in SUGGESTION_KINDS:
            suggestions[0] += n
            suggestions[1] += replied
            suggestions[2] += adopted
        assigned += assigned_n
        if unit_id is not None and assigned_n:
            units_assigned.add(unit_id)
        if unit_id is not None and kind in COMPLAINT_KINDS:
            complaint_counts[unit_id][0] += n
            complaint_counts[unit_id][1] += met + one + several
            complaint_counts[unit_id][2] += on_time
    assigned_units = len(units_assigned)

    def ordered(table: dict) -> list[tuple[str, int, int]]:
        return sorted(((k, n, r) for k, (n, r) in table.items()), key=lambda t: (-t[1], t[0]))

    complaints = {
        unit_id: (n, Rate(on_time, decided))
        for unit_id, (n, decided, on_time) in complaint_counts.items()
    }
    top = sorted(complaints.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    units = {
        u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_([k for k, _ in top])))
    }
    complained = [(units[k], n, rate) for k, (n, rate) in top if k in units]
    events = _event_counts(conds, period)
    return Report(
        region=region,
        period=period,
        figures=fig,
        previous_messages=previous_messages,
        all_received=all_received,
        by_kind=ordered(kinds),
        by_domain=ordered(domains),
        complained_units=complained,
        assigned=assigned,
        assigned_units=assigned_units,
        transfers=events.get("transfer", (0, 0))[0],
        returns=events.get("return_approved", (0, 0))[0],
        urges=events.get("urge", (0, 0))[0],
        urged_messages=events.get("urge", (0, 0))[1],
        extensions=events.get("extend", (0, 0))[0],
        late_replies=totals.late,
        suggestions=suggestions[0],
        suggestions_replied=suggestions[1],
        suggestions_adopted=suggestions[2],
    )
