"""Public cases and their replies by first-level topic (一级分类, board/intel's taxonomy), for the
periodic report and the API's figures. A topic below the first level counts for its first level;
cases without a topic are counted apart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..intel.models import Topic
from ..models import Message
from .figures import Rate, Scope, conditions
from .models import StatsCase as Fact


@dataclass(frozen=True)
class TopicFigure:
    """One first-level topic (None: no topic yet) with its public cases and replied ones."""

    topic: str | None
    cases: int
    replied: int

    @property
    def reply_rate(self) -> Rate:
        """Replied cases among the topic's cases, with its interval."""
        return Rate(self.replied, self.cases)

    def as_json(self) -> dict:
        """`{"topic", "cases", "replied", "reply_rate"}` (reply_rate as the figures give rates)."""
        return {
            "topic": self.topic,
            "cases": self.cases,
            "replied": self.replied,
            "reply_rate": self.reply_rate.as_json(),
        }


def by_topic(scope: Scope) -> list[TopicFigure]:
    """The scope's public cases by first-level topic, most cases first; unclassified last.

    One GROUP BY over the scope's fact rows joined to their messages by primary key; the few
    topic ids found are then mapped to their first level."""
    rows = db.session.execute(
        select(Message.topic_id, func.count(), func.count(Fact.replied_on))
        .select_from(Fact)
        .join(Message, Message.id == Fact.message_id)
        .where(*conditions(scope))
        .group_by(Message.topic_id)
    ).all()
    ids = [topic_id for topic_id, *_ in rows if topic_id is not None]
    roots = (
        {t.id: t.root_name for t in db.session.scalars(select(Topic).where(Topic.id.in_(ids)))}
        if ids
        else {}
    )
    totals: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for topic_id, cases, replied in rows:
        key = roots.get(topic_id) if topic_id is not None else None
        totals[key][0] += int(cases or 0)
        totals[key][1] += int(replied or 0)
    figures = [TopicFigure(name, n, r) for name, (n, r) in totals.items()]
    return sorted(figures, key=lambda f: (f.topic is None, -f.cases, f.topic or ""))
