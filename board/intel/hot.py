"""Hot issues (热点): public messages about the same matter grouped in a scope and period, each
with a heat score, a short label naming the place and the matter, keywords and its messages.

Method (docs/intelligence.md): every message becomes TF-IDF weights of its title (twice) and the
start of its body as character 2–3-grams (no segmentation: place names and matters such as
"丽发新城" or "搅拌站" survive intact; grams common to more than 5% of the messages, or half of a small set, are dropped);
two messages whose cosine similarity reaches SIMILARITY are linked and the connected groups of
two or more messages are the issues. Heat = distinct authors + 2·ln(1 + co-signs) +
ln(1 + days the issue spans), times a recency factor 0.5 + 0.5·e^(−age/90 days) where age is
from the issue's last message to the end of the period.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..messages.services import public_messages_query
from ..models import Message, Region
from ..privacy import public_text
from . import classifier

SIMILARITY = 0.25
MAX_MESSAGES = 6000
BODY_CHARS = 300
RECENCY_DAYS = 90
CURRENT_DAYS = 90
MAX_LIMIT = 20
_LEAD = re.compile(r"^(关于|投诉|举报|反映|请问|咨询|建议|再次|强烈|恳请|请求|希望)+")
_TRAIL = re.compile(r"[？?！!。，,；;、\s]+$")
# Words of any complaint that say nothing about its matter: they never link two messages.
_GENERIC = re.compile(
    r"问题|的|了|关于|投诉|举报|反映|请问|咨询|建议|请求|恳请|希望|解决|何时|严重|情况|市民|我们"
)


@dataclass
class HotIssue:
    """One issue: its label, heat, size, keywords and messages (most co-signed first)."""

    label: str
    heat: float
    count: int
    keywords: list[str]
    messages: list[Message]


def _period(from_on: date | None, to_on: date | None, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC-naive datetimes; by default the CURRENT_DAYS before `now`."""
    end = datetime.combine(to_on + timedelta(days=1), time()) if to_on else now
    start = datetime.combine(from_on, time()) if from_on else end - timedelta(days=CURRENT_DAYS)
    return start, end


def _scope_query(board_id: int | None, region: Region | None, start: datetime, end: datetime):
    """Public messages of the scope published in the period, newest first, capped."""
    query = public_messages_query().where(Message.published_at >= start, Message.published_at < end)
    if board_id is not None:
        query = query.where(Message.board_id == board_id)
    if region is not None:
        query = query.where(Message.region_path.startswith(region.path, autoescape=True))
    return query.limit(MAX_MESSAGES)


def _label(title: str) -> str:
    """A title without its 投诉/关于… opening and closing punctuation."""
    return _TRAIL.sub("", _LEAD.sub("", title.strip())) or title


def _keywords(titles: list[str], limit: int = 5) -> list[str]:
    """The words (two characters or more) most of the titles share."""
    counts: Counter[str] = Counter()
    for title in titles:
        counts.update({w for w in classifier.words(title, frozenset()).split() if len(w) > 1})
    return [w for w, n in counts.most_common(limit) if n > 1 or len(titles) == 1]


def cluster(
    messages: list[Message], *, end: datetime, limit: int, similarity: float = SIMILARITY
) -> list[HotIssue]:
    """Group the messages, score the groups, describe the hottest `limit`."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(messages) < 2:
        return []
    titles = [public_text(m, m.title) for m in messages]
    texts = [
        _GENERIC.sub(" ", f"{t} {t} {public_text(m, m.body[:BODY_CHARS])}")
        for t, m in zip(titles, messages, strict=True)
    ]
    # Grams in more than 5% of the messages say nothing about a matter; in a small set, more
    # than half of them (at most 50).
    common = max(int(0.05 * len(texts)), min(len(texts) // 2, 50))
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=2, max_df=common
    )
    try:
        weights = vectorizer.fit_transform(texts)
    except ValueError:  # no gram shared by two messages
        return []
    pairs = (weights @ weights.T).tocoo()
    linked = (pairs.data >= similarity) & (pairs.row < pairs.col)
    parent = list(range(len(messages)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(pairs.row[linked].tolist(), pairs.col[linked].tolist(), strict=True):
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(messages)):
        groups.setdefault(root(i), []).append(i)

    def heat(group: list[int]) -> float:
        authors = len({(messages[i].author_id, messages[i].pen_name) for i in group})
        cosigns = sum(messages[i].cosign_count or 0 for i in group)
        moments = [messages[i].published_at or messages[i].created_at for i in group]
        span = (max(moments) - min(moments)).days
        age = max((end - max(moments)).total_seconds() / 86400, 0)
        recency = 0.5 + 0.5 * math.exp(-age / RECENCY_DAYS)
        return (authors + 2 * math.log1p(cosigns) + math.log1p(span)) * recency

    scored = sorted(
        ((heat(g), g) for g in groups.values() if len(g) > 1), key=lambda p: (-p[0], p[1][0])
    )[:limit]
    issues = []
    for score, group in scored:
        # The label is the title of the message most like the others of its group.
        inner = np.asarray(weights[group] @ weights[group].T.sum(axis=1)).ravel()
        central = group[int(np.argmax(inner))]
        ordered = sorted(group, key=lambda i: (-(messages[i].cosign_count or 0), -messages[i].id))
        issues.append(
            HotIssue(
                label=_label(titles[central]),
                heat=round(score, 2),
                count=len(group),
                keywords=_keywords([titles[i] for i in group]),
                messages=[messages[i] for i in ordered],
            )
        )
    return issues


_cache: dict[tuple, list[HotIssue]] = {}
_cache_lock = threading.Lock()
CACHE_SIZE = 64


def hot_issues(
    *,
    board_id: int | None = None,
    region: Region | None = None,
    from_on: date | None = None,
    to_on: date | None = None,
    limit: int = 5,
    now: datetime,
) -> list[HotIssue]:
    """The hottest issues of a scope and period (by default the last 90 days); the grouping is
    kept per data version, so it is recomputed only when public data changed."""
    from ..cache.versions import current

    start, end = _period(from_on, to_on, now)
    limit = max(1, min(limit, MAX_LIMIT))
    key = (
        db.engine.url.render_as_string(),
        board_id,
        region.code if region else None,
        start,
        end if to_on else end.date(),
        limit,
        current(),
    )
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return [_reattach(issue) for issue in cached]
    messages = list(db.session.scalars(_scope_query(board_id, region, start, end)))
    issues = cluster(messages, end=end, limit=limit)
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = issues
    return issues


def _reattach(issue: HotIssue) -> HotIssue:
    """A cached issue with its messages loaded in this session (public ones only, as before)."""
    ids = [m.id for m in issue.messages]
    found = {m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(ids)))}
    kept = [found[i] for i in ids if i in found and found[i].is_public]
    return HotIssue(issue.label, issue.heat, len(kept), issue.keywords, kept)


PAGE_MESSAGES = 500
PAGE_LIMIT = 5
# Pages reuse their hot issues 15 times as long as their other figures (15 minutes by default):
# grouping 500 messages costs about a second of CPU.
PAGE_REUSE_FACTOR = 15


def current_hot_issues(*, board_id: int | None, region: Region | None, now: datetime):
    """The hot issues a page shows: the last 90 days over the 500 newest public messages of
    the scope, reused for HOT_REUSE_SECONDS (default 15 × STATS_REUSE_SECONDS) in this worker."""
    from flask import current_app

    def compute() -> list[tuple[str, float, int, list[str], list[int]]]:
        start, end = _period(None, None, now)
        query = _scope_query(board_id, region, start, end).limit(PAGE_MESSAGES)
        issues = cluster(list(db.session.scalars(query)), end=end, limit=PAGE_LIMIT)
        return [(i.label, i.heat, i.count, i.keywords, [m.id for m in i.messages]) for i in issues]

    config = current_app.config
    seconds = config.get("HOT_REUSE_SECONDS")
    if seconds is None:
        seconds = PAGE_REUSE_FACTOR * config["STATS_REUSE_SECONDS"]
    key = ("hot", board_id, region.code if region else None)
    found = current_app.extensions["recent"].get(key, seconds, compute)
    issues = []
    for label, heat, count, keywords, ids in found:
        messages = {
            m.id: m for m in db.session.scalars(select(Message).where(Message.id.in_(ids[:50])))
        }
        kept = [messages[i] for i in ids[:50] if i in messages and messages[i].is_public]
        if len(kept) > 1:
            issues.append(HotIssue(label, heat, count, keywords, kept))
    return issues
