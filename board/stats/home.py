"""The home page's figures: volume counters and the most co-signed messages of the month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    desc,
    func,
    select,
)
from sqlalchemy.orm import selectinload

from ..clock import local_date
from ..extensions import db
from ..models import Cosign, Message
from . import daily
from .figures import day_start, public_condition

# Home


@dataclass(frozen=True)
class Counters:
    """Messages written and replies published: today, this year, in total (Beijing days).

    Bare volumes: every message received counts, public or not (no breakdown is shown)."""

    messages_today: int
    messages_year: int
    messages_total: int
    replies_today: int
    replies_year: int
    replies_total: int


def counters(*, now: datetime) -> Counters:
    """The home counters, read from the counts per Beijing day (`stats_day`, kept exact in the
    transaction of every change by board/stats/daily.py): one read of a row per day, whatever
    the number of messages."""
    return Counters(*daily.counters(db.session.connection(), local_date(now)))


def most_cosigned(*, now: datetime, limit: int = 8) -> list[tuple[Message, int]]:
    """Public messages with the most co-signs given this (Beijing) month, with that count.

    The month's co-signs are counted first (`ix_cosign_created_at`) and the messages fetched by
    primary key for the leading candidates only, `limit` × 4 at a time until enough of them are
    public; joining the counts to the message table made PostgreSQL scan every message."""
    today = local_date(now)
    since = day_start(today.replace(day=1))
    counts = (
        select(Cosign.message_id, func.count(Cosign.id).label("n"))
        .where(Cosign.created_at >= since)
        .group_by(Cosign.message_id)
        .order_by(desc("n"), Cosign.message_id.desc())
    )
    found: list[tuple[Message, int]] = []
    batch = max(limit * 4, 1)
    offset = 0
    while len(found) < limit:
        candidates = db.session.execute(counts.limit(batch).offset(offset)).all()
        if not candidates:
            break
        public = {
            m.id: m
            for m in db.session.scalars(
                select(Message)
                .options(selectinload(Message.author))
                .where(Message.id.in_([mid for mid, _n in candidates]), public_condition())
            )
        }
        found += [(public[mid], n) for mid, n in candidates if mid in public]
        offset += batch
    return found[:limit]


# ---------------------------------------------------------------------------------------------
