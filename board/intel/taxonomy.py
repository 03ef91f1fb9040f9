"""The topic tree's use cases: load it from labels.xlsx, let admins edit it, set a message's topic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from ..admin.services import require_admin
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..extensions import db
from ..messages import services as msg
from ..models import Message, Role, User
from ..search import outbox
from .models import PATH_SEPARATOR, Topic, TopicSource
from .names_en import lang_attributes, path_label, topic_name

MAX_LEVEL = 3
NAME_LENGTH = 40


def read_label_rows(path: Path) -> list[tuple[str, ...]]:
    """The (一级, 二级, 三级) rows of labels.xlsx (or a CSV of the same three columns)."""
    if path.suffix.lower() == ".csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        rows = [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
    cleaned = []
    for row in rows[1:]:
        names = tuple(str(cell).strip() for cell in row[:MAX_LEVEL] if cell and str(cell).strip())
        if names:
            cleaned.append(names)
    return cleaned


def _clean_name(name: str) -> str:
    """A topic name without surrounding spaces, short, and without the path separator."""
    name = (name or "").strip()
    if not name or len(name) > NAME_LENGTH or PATH_SEPARATOR in name:
        raise ValidationFailed(
            fields={"name": [_("名称须为 1–40 个字，且不能含有“/”。")]},
        )
    return name


def load_taxonomy(rows: Iterable[tuple[str, ...]]) -> int:
    """Add every node of the rows that is missing (existing ones are kept); returns how many."""
    known = {topic.path: topic for topic in db.session.scalars(select(Topic))}
    added = 0
    for row in rows:
        parent = None
        for level, name in enumerate(row[:MAX_LEVEL], start=1):
            name = _clean_name(name)
            path = name if parent is None else parent.path + PATH_SEPARATOR + name
            topic = known.get(path)
            if topic is None:
                sort = sum(1 for t in known.values() if t.parent is parent)
                topic = Topic(parent=parent, level=level, name=name, path=path, sort=sort)
                db.session.add(topic)
                known[path] = topic
                added += 1
            parent = topic
    db.session.commit()
    return added


def topic_tree() -> list[Topic]:
    """The first-level topics in order (their children hang below them)."""
    return list(
        db.session.scalars(select(Topic).where(Topic.level == 1).order_by(Topic.sort, Topic.id))
    )


def get_topic(topic_id: int | None) -> Topic:
    """One topic by id, or NotFound."""
    topic = db.session.get(Topic, topic_id) if topic_id else None
    if topic is None:
        raise NotFound(_("没有这个主题分类。"))
    return topic


def topic_by_path(path: str) -> Topic | None:
    """The topic named by its path (first level down), if it exists."""
    return db.session.scalar(select(Topic).where(Topic.path == path))


def active_topic_choices() -> list[SelectChoice]:
    """(id, path) of every active topic, tree order, for a select box (paths in the page's
    language; one left in Chinese on an English page is marked as such)."""

    topics = db.session.scalars(select(Topic).where(Topic.is_active.is_(True))).all()
    choices = []
    for topic in sorted(topics, key=lambda t: t.path):
        label = topic.path_label
        choices.append(SelectChoice(topic.id, label, render_kw=lang_attributes(label)))
    return choices


def compose_topic_choices() -> list:
    """The compose form's topic choices: active topics grouped by first level (<optgroup>), each
    carrying its path for the suggestion script; the empty choice leaves the topic to staff."""

    topics = db.session.scalars(select(Topic).where(Topic.is_active.is_(True))).all()
    by_path = {t.path: t for t in topics}
    choices = [SelectChoice("", _("不确定，由工作人员分类"))]
    for topic in sorted(topics, key=lambda t: (by_path.get(t.names[0], t).sort, t.path)):
        root = topic.names[0]
        if root not in by_path:
            continue  # below a retired first level
        below = topic.names[1:]
        shown = path_label(below, " / ") if below else topic_name(root)
        label = shown if below else _("%(name)s（综合）", name=shown)
        attributes = {"data-path": topic.path, **lang_attributes(shown)}
        choices.append(
            SelectChoice(str(topic.id), label, render_kw=attributes, optgroup=topic_name(root))
        )
    return choices


def citizen_topic(topic_id: str | int | None) -> Topic | None:
    """The topic a citizen picked on the compose form (None for none); a retired or unknown one
    is refused with a field error."""
    if topic_id in (None, ""):
        return None
    text = str(topic_id)
    topic = db.session.get(Topic, int(text)) if text.isdigit() and 0 < int(text) < 2**31 else None
    if topic is None or not topic.is_active:
        raise ValidationFailed(fields={"topic": [_("请从列表中选择主题分类。")]})
    return topic


def add_topic(actor: User, name: str, *, parent: Topic | None) -> Topic:
    """Admins add a first-level topic, or a child below an existing one (three levels at most)."""
    require_admin(actor)
    name = _clean_name(name)
    if parent is not None and parent.level >= MAX_LEVEL:
        raise ValidationFailed(fields={"name": [_("主题分类最多三级。")]})
    path = name if parent is None else parent.path + PATH_SEPARATOR + name
    if topic_by_path(path) is not None:
        raise ValidationFailed(fields={"name": [_("已有同名的主题分类。")]})
    siblings = parent.children if parent is not None else topic_tree()
    topic = Topic(
        parent=parent,
        level=1 if parent is None else parent.level + 1,
        name=name,
        path=path,
        sort=len(siblings),
    )
    db.session.add(topic)
    db.session.commit()
    return topic


def _subtree(topic: Topic) -> list[Topic]:
    """The topic and all its descendants."""
    found = [topic]
    for child in topic.children:
        found.extend(_subtree(child))
    return found


def rename_topic(actor: User, topic: Topic, name: str) -> Topic:
    """Admins rename a topic; the paths below it follow (messages keep pointing at the node)."""
    require_admin(actor)
    name = _clean_name(name)
    if name == topic.name:
        return topic
    prefix = "" if topic.parent is None else topic.parent.path + PATH_SEPARATOR
    if topic_by_path(prefix + name) is not None:
        raise ValidationFailed(fields={"name": [_("已有同名的主题分类。")]})
    old = topic.path
    topic.name = name
    for node in _subtree(topic):
        node.path = prefix + name + node.path[len(old) :]
    db.session.commit()
    return topic


def set_topic_active(actor: User, topic: Topic, *, is_active: bool) -> Topic:
    """Admins retire a topic (and everything below it) or bring it back; messages keep theirs."""
    require_admin(actor)
    for node in _subtree(topic) if not is_active else [topic]:
        node.is_active = is_active
    if is_active and topic.parent is not None and not topic.parent.is_active:
        raise ValidationFailed(fields={"name": [_("请先启用上级分类。")]})
    db.session.commit()
    return topic


def may_set_topic(user: User | None, message: Message) -> bool:
    """Staff on the case (its coordinator or handlers), moderators and admins set the topic."""
    if user is None or not user.is_authenticated:
        return False
    if user.role in (Role.MODERATOR, Role.ADMIN):
        return True
    return msg.is_board_coordinator(user, message.board) or msg.is_unit_handler(user, message)


def apply_topic(message: Message, topic: Topic | None, source: TopicSource) -> None:
    """Give a message a topic in the caller's transaction (submission, import)."""
    if topic is not None and not topic.is_active:
        raise ValidationFailed(fields={"topic": [_("这个主题分类已停用，请另选一个。")]})
    message.topic_id = topic.id if topic is not None else None
    message.topic_source = str(source) if topic is not None else None


def authorize_topic_change(actor: User | None, message: Message) -> None:
    """404 for who may not read the message, 403 for readers who may not set its topic."""
    if not msg.can_view(actor, message):
        raise NotFound()
    if not may_set_topic(actor, message):
        raise PermissionDenied()


def correct_topic(message: Message, topic: Topic, actor: User, *, now: datetime) -> Message:
    """Staff correct a message's topic; the correction is an internal event and feeds training."""
    authorize_topic_change(actor, message)
    apply_topic(message, topic, TopicSource.STAFF)
    msg.record(message, "topic", actor, now=now, note=topic.path, is_public=False)
    outbox.enqueue(message)  # the first-level topic is a search facet
    db.session.commit()
    outbox.apply_after_commit()
    return message
