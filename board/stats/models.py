"""The maintained per-case fact table of the statistics, and indexes on tables defined elsewhere.

`StatsCase` holds one narrow row per message with everything the figures need already joined
and converted (Beijing dates and months, days to reply, answer-clock counts, the open answer
clocks' earliest due date, the latest rating's score sum). Every figure, series, percentile and
ranking reads this one table with GROUP BY and no join to clock or rating. It is kept exact in
the same transaction as every change (`board/stats/facts.py`); `flask stats rebuild` recomputes
it from the source tables.

Indexes on other tables:
- `ix_message_replied_at`: the home page's latest replies and the replies feed order by
  `replied_at`; without it each home page sorts every replied message.
- `ix_message_public_replied`, `ix_message_public_published`: the home page's latest replies
  and latest messages (and the feeds) walk these newest first and stop after a page; with the
  state in the index instead, the database gathered every public message and sorted them.
- `ix_message_stats`: the downloads and feeds filter public cases (visibility, hidden, state)
  and read these narrow columns; with all of them in one index the database scans the index
  instead of the wide message rows (titles and bodies).
- `ix_cosign_created_at`: "most co-signed this month" reads only this month's co-signs.
- `ix_reply_state_published_at`: the home counters count published replies by date.
- `ix_event_action_created_at`: the report counts transfers, returns, urges and extensions
  dated within a period; the index holds only those few events instead of every event.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import Cosign, Event, Message, Reply

# The columns every index of stats_case carries after its scope column, is_case and the days
# to reply.
COVERED = (
    "published_on",
    "replied_on",
    "answers_met",
    "answers_on_time",
    "answers_open",
    "open_due_on",
    "rating_total",
    "published_month",
    "reply_month",
    "kind",
    "domain",
    "unit_id",
    "is_assigned",
    "adopted",
    "is_received",
    "created_on",
)


class StatsCase(db.Model):
    """One message as the statistics see it (maintained; never edited by hand)."""

    __tablename__ = "stats_case"
    # Indexes: one per scope column (and one for the whole platform), each leading with the
    # scope column, whether the row is a case and the days to reply, and covering every column
    # the figures read, so that
    # - a region, board or unit's sums and series read one contiguous slice of its index,
    # - a ranking's GROUP BY reads its index in group order (no sort),
    # - a percentile walks the slice in order of days to reply to a known position,
    # never fetching rows from the table one by one (services.py, docs/open-data.md).
    __table_args__ = tuple(
        Index(
            f"ix_stats_case_{name}",
            *lead,
            # The platform-wide index leads with the days: led by is_case it would be chosen for
            # every `is_case = true` ranking and the GROUP BY would have to sort.
            *(("is_case", "days_to_reply") if lead else ("days_to_reply", "is_case")),
            *(column for column in COVERED if column not in lead),
        )
        for name, lead in (
            ("days", ()),
            ("province_days", ("province",)),
            ("city_days", ("city",)),
            ("county_days", ("county",)),
            ("board_days", ("board_id",)),
            ("unit_days", ("unit_id",)),
        )
    )

    # No foreign key: the row is rewritten or removed in the transaction that changes the
    # message, and it must not stand in the way of deleting one.
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # A case: public, not hidden, in a public state (services.public_condition).
    is_case: Mapped[bool] = mapped_column(Boolean)
    # Received by the platform (a public state), public or not: the report's bare volume.
    is_received: Mapped[bool] = mapped_column(Boolean)
    track: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str] = mapped_column(String(16))
    board_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    region_path: Mapped[str] = mapped_column(String(32))
    # The region path's codes at each level (None below the message's own level).
    province: Mapped[str] = mapped_column(String(6))
    city: Mapped[str | None] = mapped_column(String(6))
    county: Mapped[str | None] = mapped_column(String(6))
    created_on: Mapped[date] = mapped_column(Date)  # Beijing dates and months
    published_on: Mapped[date | None] = mapped_column(Date)
    published_month: Mapped[str | None] = mapped_column(String(7))
    replied_on: Mapped[date | None] = mapped_column(Date)
    reply_month: Mapped[str | None] = mapped_column(String(7))
    days_to_reply: Mapped[float | None] = mapped_column(Float)
    is_assigned: Mapped[bool] = mapped_column(Boolean)
    # Answer clocks (services.ANSWER_POLICIES): met, met on time, still open, earliest open due.
    answers_met: Mapped[int] = mapped_column(Integer)
    answers_on_time: Mapped[int] = mapped_column(Integer)
    answers_open: Mapped[int] = mapped_column(Integer)
    open_due_on: Mapped[date | None] = mapped_column(Date)
    # The latest rating's resolution + attitude + speed (3–15), None without a rating.
    rating_total: Mapped[int | None] = mapped_column(Integer)
    # A final published reply with the outcome `supported` (a suggestion adopted).
    adopted: Mapped[bool] = mapped_column(Boolean)


INDEXES = (
    Index("ix_message_replied_at", Message.replied_at),
    Index("ix_message_public_replied", Message.visibility, Message.is_hidden, Message.replied_at),
    Index(
        "ix_message_public_published", Message.visibility, Message.is_hidden, Message.published_at
    ),
    Index(
        "ix_message_stats",
        Message.visibility,
        Message.is_hidden,
        Message.state,
        Message.region_path,
        Message.board_id,
        Message.unit_id,
        Message.kind,
        Message.domain,
        Message.published_at,
        Message.created_at,
        Message.replied_at,
    ),
    Index("ix_cosign_created_at", Cosign.created_at),
    Index("ix_reply_state_published_at", Reply.state, Reply.published_at),
    Index("ix_event_action_created_at", Event.action, Event.created_at, Event.message_id),
)


class StatsTally(db.Model):
    """Running sums of the cases (public fact rows) of one region, board or unit, by one
    dimension: kept by board/stats/tally.py in the transaction that changes the fact rows.

    dim `p`: by publication month (value `YYYY-MM`): cases, replied, answer clocks met and met on
    time, cases with several open answer clocks; `r`: replies by reply month; `d`: cases with an
    open answer clock, by the earliest one's due date (`YYYY-MM-DD`; `open_one`: with exactly
    one open); `x`: replied cases by hours to reply (whole hours, for percentiles); `b`: rated cases by
    the latest rating's score sum."""

    __tablename__ = "stats_tally"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # province … unit
    key: Mapped[str] = mapped_column(String(16), primary_key=True)  # region code or id
    dim: Mapped[str] = mapped_column(String(1), primary_key=True)
    value: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    replied: Mapped[int] = mapped_column(Integer, default=0)
    met: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    several: Mapped[int] = mapped_column(Integer, default=0)
    open_one: Mapped[int] = mapped_column(Integer, default=0)


class StatsDay(db.Model):
    """Messages received (`created_at`) and replies published (`published_at`, published replies
    only) on one Beijing day: the home counters. Kept by board/stats/daily.py in the transaction
    of every change."""

    __tablename__ = "stats_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
