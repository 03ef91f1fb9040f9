"""What the index holds of a message: the search document, and the words jieba must keep whole.

Only public text enters the index: a message is indexed iff `message.is_public`, and its title,
body and published replies pass through `privacy.public_text` first; otherwise its document is
deleted. Used by the outbox applier (`indexer`) and by rebuilds (`rebuild`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from whoosh.writing import SegmentWriter

from ..clock import local_date
from ..extensions import db
from ..models import PUBLIC_STATES, Board, Message, Region, Unit, Visibility
from ..privacy import public_text
from . import analysis, topics
from .topics import topic_roots

# Common short names of departments, so they stay whole like the unit names they stand for.
DEPARTMENT_ABBREVIATIONS = (
    "住建局",
    "住建委",
    "住建厅",
    "交通局",
    "交运局",
    "交警队",
    "人社局",
    "人社厅",
    "市监局",
    "城管局",
    "发改委",
    "卫健委",
    "教育局",
    "教育厅",
    "公安局",
    "民政局",
    "环保局",
    "生态环境局",
    "自然资源局",
    "规划局",
    "水务局",
    "医保局",
    "税务局",
    "信访局",
    "街道办",
    "居委会",
    "村委会",
    "业委会",
)
_REGION_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "新区",
    "省",
    "市",
    "区",
    "县",
)


# ---------------------------------------------------------------------------------------------
# The user dictionary


_dictionary_sources: set[str] = set()


def directory_words() -> list[str]:
    """Region, board and unit names (and short forms) that segmentation must keep whole."""
    words: list[str] = list(DEPARTMENT_ABBREVIATIONS)
    for name in db.session.scalars(select(Region.name)):
        words.append(name)
        for suffix in _REGION_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                words.append(name[: -len(suffix)])
                break
    words += db.session.scalars(select(Board.title))
    words += db.session.scalars(select(Unit.name))
    return words


def ensure_dictionary(force: bool = False) -> None:
    """Load the directory's names into jieba once per process and database (or again if forced)."""
    source = str(db.engine.url)
    if force or source not in _dictionary_sources:
        analysis.add_words(directory_words())
        _dictionary_sources.add(source)


# ---------------------------------------------------------------------------------------------
# Documents


def public_condition():
    """SQL for `Message.is_public`."""
    return (
        (Message.visibility == Visibility.PUBLIC)
        & Message.is_hidden.is_(False)
        & Message.state.in_(PUBLIC_STATES)
    )


def public_ids() -> list[int]:
    """Ids of the messages the index should hold, ascending."""
    return list(
        db.session.scalars(select(Message.id).where(public_condition()).order_by(Message.id))
    )


def count_public() -> int:
    """How many messages the index should hold."""
    return db.session.scalar(select(func.count(Message.id)).where(public_condition())) or 0


def document_for(message: Message, roots: dict[int, int] | None = None) -> dict:
    """The index document of a public message: masked text, filters, sort keys.

    `roots` maps topics to their first-level ancestors (`topics.topic_roots()`): pass it when
    writing many documents, else it is read for this one."""
    replies = [r for r in message.published_replies if r.published_at is not None]
    path = message.region_path.split("/")
    published = message.published_at or message.created_at
    doc = {
        "message_id": str(message.id),
        "code": message.code,
        "code_text": message.code,
        "title": public_text(message, message.title),
        "body": public_text(message, message.body),
        "reply": "\n\n".join(public_text(message, r.body) for r in replies),
        "grams": "",  # filled below from the masked title, body and replies
        "region": " ".join(path),
        "region_name": message.region.full_name,
        "board": message.board.code,
        "board_title": message.board.title,
        "kind": message.kind,
        "domain": message.domain,
        "state": message.state,
        "replied": bool(replies),
        "published_on": published,
        "year": str(local_date(published).year),
        "top_region": path[0],
        "cosigns": message.cosign_count or 0,
        "stamp": message.updated_at.isoformat(),
        "reply_days": -1,
    }
    doc["grams"] = "\n".join((doc["title"], doc["body"], doc["reply"]))
    if message.unit is not None:
        doc["unit"] = message.unit.code
    if message.topic_id is not None:
        topic = topics.root_value(message.topic_id, topic_roots() if roots is None else roots)
        if topic is not None:
            doc["topic"] = topic
    if replies:
        first = min(r.published_at for r in replies)
        doc["replied_on"] = first
        doc["reply_days"] = max((first - published).days, 0)
    return doc


def load_messages(ids: Iterable[int]) -> dict[int, Message]:
    """Messages by id with what a document needs, fresh from the database."""
    ids = list(ids)
    found: dict[int, Message] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(Message)
            .where(Message.id.in_(ids[start : start + 500]))
            .options(
                selectinload(Message.board),
                selectinload(Message.region),
                selectinload(Message.unit),
                selectinload(Message.replies),
                selectinload(Message.author),
            )
            .execution_options(populate_existing=True)
        )
        found.update((m.id, m) for m in db.session.scalars(query))
    return found


def write_documents(writer: SegmentWriter, message_ids: Iterable[int]) -> None:
    """Update the documents of these messages, deleting those that are not public (or gone)."""
    message_ids = sorted(set(message_ids))
    messages = load_messages(message_ids)
    fields = set(writer.schema.names())
    roots = topic_roots()
    for message_id in message_ids:
        message = messages.get(message_id)
        if message is not None and message.is_public:
            # An index built before a field was added lacks it until the next rebuild.
            doc = document_for(message, roots)
            writer.update_document(**{k: v for k, v in doc.items() if k in fields})
        else:
            writer.delete_by_term("message_id", str(message_id))
