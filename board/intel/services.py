"""Use cases of the intelligence features that read the database: training examples from the
platform's own messages, topic suggestions for a draft."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import chinese
from ..extensions import db
from ..messages.services import public_messages_query
from ..models import DOMAIN_LABELS, Domain, Message, Unit
from ..privacy import public_text
from . import classifier
from .classifier import DOMAIN_OF_TOPIC, Examples
from .models import PATH_SEPARATOR, Topic, TopicSource


def platform_examples(stopwords: frozenset[str]) -> Examples:
    """Public messages whose topic a citizen chose or staff corrected (masked text only: the
    model file must never hold private words)."""
    query = (
        public_messages_query()
        .where(Message.topic_id.is_not(None))
        .where(Message.topic_source.in_([TopicSource.CITIZEN, TopicSource.STAFF]))
        .add_columns(Topic.path)
        .join(Topic, Topic.id == Message.topic_id)
        .options(selectinload(Message.author))
    )
    examples = Examples()
    for message, path in db.session.execute(query):
        text = f"{public_text(message, message.title)}\n{public_text(message, message.body)}"
        examples.add(classifier.words(text, stopwords), path.split(PATH_SEPARATOR)[0])
    return examples


@dataclass
class Suggestion:
    """What the suggest endpoint answers."""

    topics: list[dict]
    domain: str | None
    units: list[dict]
    similar: list[str]


def _topic_paths(ranked: list[tuple[str, float]], title: str, body: str) -> list[dict]:
    """First-level topics with their scores; the best one narrowed to the most specific active
    node below it whose name the text mentions (in either script: 物業服務 names 物业服务)."""
    text = chinese.simplified(f"{title}\n{body}")
    topics = []
    for n, (label, score) in enumerate(ranked):
        path = label
        if n == 0:
            below = db.session.scalars(
                select(Topic).where(
                    Topic.path.startswith(label + PATH_SEPARATOR, autoescape=True),
                    Topic.is_active.is_(True),
                )
            ).all()
            mentioned = [t for t in below if chinese.simplified(t.name) in text]
            if mentioned:
                path = max(mentioned, key=lambda t: (t.level, len(t.name))).path
        names = path.split(PATH_SEPARATOR)
        topics.append({"label": names[-1], "path": names, "score": round(score, 4)})
    return topics


def suggested_topic(title: str, body: str) -> Topic | None:
    """The active topic the model sees in a draft (narrowed to the most specific node the text
    names), or None without a model or a guess."""
    model = classifier.load()
    ranked = model.predict(title or "", body or "")[:1] if model is not None else []
    if not ranked:
        return None
    path = PATH_SEPARATOR.join(_topic_paths(ranked, title or "", body or "")[0]["path"])
    topic = db.session.scalar(select(Topic).where(Topic.path == path))
    return topic if topic is not None and topic.is_active else None


def suggest(title: str, body: str, *, limit: int = 3) -> Suggestion:
    """Topics, domain, units that answered similar public messages, and those messages."""
    from ..search.query import similar_to_text

    model = classifier.load()
    ranked = model.predict(title, body)[:limit] if model is not None else []
    domain = DOMAIN_OF_TOPIC.get(ranked[0][0]) if ranked else None
    similar = similar_to_text(title, body, limit=10)
    weights: dict[int, float] = {}
    units = {}
    for rank, message in enumerate(similar):
        answered = {r.unit for r in message.published_replies} or (
            {message.unit} if message.unit is not None else set()
        )
        for unit in answered:
            units[unit.id] = unit
            weights[unit.id] = weights.get(unit.id, 0.0) + 1.0 / (rank + 1)
    total = sum(weights.values()) or 1.0
    best_units = sorted(weights, key=lambda u: -weights[u])[:limit]
    return Suggestion(
        topics=_topic_paths(ranked, title or "", body or ""),
        domain=domain if domain in set(Domain) else None,
        units=[
            {"code": units[u].code, "name": units[u].name, "score": round(weights[u] / total, 4)}
            for u in best_units
        ],
        similar=[m.code for m in similar[:5]],
    )


def domain_label(code: str | None) -> str:
    """The label of a domain code, or an empty string."""
    return str(DOMAIN_LABELS[Domain(code)]) if code else ""


@dataclass
class DeskView:
    """What the staff panel of a message shows: its topic, suggestions and likely duplicates."""

    topic: Topic | None
    topic_source: str | None
    suggestion: Suggestion
    same_author: list[Message]
    similar: list[Message]
    units: list[Unit]  # the suggestion's units, best first (their names in the page's language)


SAME_AUTHOR_DAYS = 180


def _units(codes) -> list[Unit]:
    """The units of these codes, in the same order."""
    codes = list(codes)
    found = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    return [found[code] for code in codes if code in found]


def desk_view(message: Message) -> DeskView:
    """The panel's content: the suggestion from the message's own text, the author's other
    messages on the board in the last half year (the same person on the same matter?) and
    similar public messages (many people on one matter?)."""
    from datetime import timedelta

    from ..search.query import similar_messages

    suggestion = suggest(message.title, message.body)
    same_author: list[Message] = []
    if message.author_id is not None:
        same_author = list(
            db.session.scalars(
                select(Message)
                .where(
                    Message.author_id == message.author_id,
                    Message.board_id == message.board_id,
                    Message.id != message.id,
                    Message.created_at >= message.created_at - timedelta(days=SAME_AUTHOR_DAYS),
                )
                .order_by(Message.created_at.desc())
                .limit(5)
            )
        )
    return DeskView(
        topic=db.session.get(Topic, message.topic_id) if message.topic_id else None,
        topic_source=message.topic_source,
        suggestion=suggestion,
        same_author=same_author,
        similar=similar_messages(message, limit=5),
        units=_units(u["code"] for u in suggestion.units),
    )
