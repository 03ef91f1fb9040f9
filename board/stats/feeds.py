"""Atom 1.0 feeds (RFC 4287) of public messages and replies, built with the standard library.

Only public cases are listed and every text goes through `board.privacy.public_text`.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..clock import to_local
from ..extensions import db
from ..models import Message, Reply, ReplyState
from ..privacy import mask_pen_name, public_text
from . import listing

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
ET.register_namespace("", ATOM)


def rfc3339(moment: datetime) -> str:
    """A stored naive-UTC moment as RFC 3339 in Beijing time."""
    return to_local(moment).isoformat(timespec="seconds")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _feed(title: str, self_url: str, alternate: str, updated: datetime | None, now: datetime):
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", self_url)
    _sub(feed, "title", title)
    _sub(feed, "updated", rfc3339(updated or now))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate)
    author = _sub(feed, "author")
    _sub(author, "name", "民声 Minsheng")
    _sub(feed, "generator", "Minsheng")
    return feed


def _serialize(feed: ET.Element) -> bytes:
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def replies_feed(
    filters: listing.Filters, *, title: str, self_url: str, alternate: str, now: datetime
) -> bytes:
    """The latest published replies to the public cases matching the filters."""
    query = (
        select(Reply)
        .join(Message, Message.id == Reply.message_id)
        .where(Reply.state == ReplyState.PUBLISHED, Reply.published_at.is_not(None))
        .order_by(Reply.published_at.desc(), Reply.id.desc())
        .options(
            selectinload(Reply.unit),
            selectinload(Reply.message).selectinload(Message.author),
            selectinload(Reply.message).selectinload(Message.board),
        )
        .limit(FEED_SIZE)
    )
    if filters.q:
        ids = list(listing.matching_ids(filters, limit=500))
        query = query.where(Message.id.in_(ids or [-1]))
    else:
        query = query.where(*listing.conditions(filters))
    replies = [r for r in db.session.scalars(query) if r.message.is_public]
    feed = _feed(title, self_url, alternate, replies[0].published_at if replies else None, now)
    for reply in replies:
        message = reply.message
        link = url_for("messages.show", code=message.code, _external=True)
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"{link}#reply-{reply.id}")
        _sub(entry, "title", public_text(message, message.title))
        _sub(entry, "updated", rfc3339(reply.published_at))
        _sub(entry, "published", rfc3339(reply.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
        author = _sub(entry, "author")
        _sub(author, "name", reply.unit.name)
        _sub(entry, "category", term=message.kind, label=message.kind_label)
        _sub(entry, "summary", public_text(message, message.body)[:280], type="text")
        _sub(entry, "content", public_text(message, reply.body), type="text")
    return _serialize(feed)


def messages_feed(
    filters: listing.Filters, *, title: str, self_url: str, alternate: str, now: datetime
) -> bytes:
    """The newest public cases matching the filters (and words, through the search index)."""
    ids = list(listing.matching_ids(filters, limit=FEED_SIZE))
    found = {
        m.id: m
        for m in db.session.scalars(
            select(Message).where(Message.id.in_(ids or [-1])).options(*listing.ROW_LOADS)
        )
    }
    messages = [found[i] for i in ids if i in found and found[i].is_public]
    updated = max((m.replied_at or m.published_at for m in messages), default=None)
    feed = _feed(title, self_url, alternate, updated, now)
    for message in messages:
        link = url_for("messages.show", code=message.code, _external=True)
        entry = _sub(feed, "entry")
        _sub(entry, "id", link)
        _sub(entry, "title", public_text(message, message.title))
        _sub(entry, "updated", rfc3339(message.replied_at or message.published_at))
        _sub(entry, "published", rfc3339(message.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=link)
        author = _sub(entry, "author")
        _sub(author, "name", mask_pen_name(message.pen_name))
        _sub(entry, "category", term=message.kind, label=message.kind_label)
        body = public_text(message, message.body)
        replies = message.published_replies
        if replies:
            body += "\n\n" + replies[-1].unit.name + "：" + public_text(message, replies[-1].body)
        _sub(entry, "content", body, type="text")
    return _serialize(feed)
