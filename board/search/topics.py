"""The first-level topic as a search facet and filter: indexed by id, shown by name.

A message's topic (board/intel) may sit at any of the three levels; the index holds the id of
its first-level ancestor in the `topic` field, so a search narrows to "城乡建设" and counts
per first-level topic. Ids, not names, go into the index: an admin renaming a topic changes
nothing indexed, and the names shown come from the database at display time.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..intel.models import Topic
from ..intel.names_en import topic_name

MAX_VALUE_CHARS = 40  # a topic name is at most 40 characters


def _as_id(value: str) -> int | None:
    """`value` as a topic id if it is one's digits (ASCII, small enough for any database)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def topic_roots() -> dict[int, int]:
    """Every topic's id → the id of its first-level ancestor (itself at the first level)."""
    rows = db.session.execute(select(Topic.id, Topic.parent_id))
    parents = {topic_id: parent_id for topic_id, parent_id in rows}
    roots: dict[int, int] = {}
    for topic_id in parents:
        node, seen = topic_id, set()
        while parents.get(node) is not None and node not in seen:  # a cycle cannot loop
            seen.add(node)
            node = parents[node]
        roots[topic_id] = node
    return roots


def root_value(topic_id: int | None, roots: dict[int, int]) -> str | None:
    """The indexed value of a message's topic: its first-level ancestor's id, as text."""
    if topic_id is None or topic_id not in roots:
        return None
    return str(roots[topic_id])


def first_level_choices() -> list[tuple[str, str]]:
    """(id, name) of the active first-level topics, in the taxonomy's order, for a select box
    (names in the page's language)."""
    rows = db.session.execute(
        select(Topic.id, Topic.name)
        .where(Topic.level == 1, Topic.is_active.is_(True))
        .order_by(Topic.sort, Topic.id)
    )
    return [(str(topic_id), topic_name(name)) for topic_id, name in rows]


def topic_labels(values: Iterable[str]) -> dict[str, str]:
    """Names of first-level topics by their indexed value (retired ones too: old messages), in
    the page's language."""
    ids = [i for i in map(_as_id, values) if i is not None]
    if not ids:
        return {}
    rows = db.session.execute(select(Topic.id, Topic.name).where(Topic.id.in_(ids)))
    return {str(topic_id): topic_name(name) for topic_id, name in rows}


def resolve_topic(value: str | None) -> str | None:
    """A filter value (a first-level topic's id or its name) as its indexed value, or None
    when it names no first-level topic."""
    value = (value or "").strip()
    if not value or len(value) > MAX_VALUE_CHARS:
        return None
    topic_id = _as_id(value)
    if topic_id is not None:
        found = db.session.scalar(select(Topic.id).where(Topic.id == topic_id, Topic.level == 1))
    else:
        found = db.session.scalar(select(Topic.id).where(Topic.name == value, Topic.level == 1))
    return None if found is None else str(found)
