"""Follows of messages and saved searches (Alaveteli's "tracks")."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Message, User


class Follow(db.Model):
    """A signed-in user follows a public message and hears when it is replied to or closed."""

    __tablename__ = "follow"
    __table_args__ = (UniqueConstraint("user_id", "message_id", name="uq_follow_user_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    message: Mapped[Message] = relationship()


class SavedSearch(db.Model):
    """A public search (words and filters) a user keeps: a daily digest and an Atom feed."""

    __tablename__ = "saved_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The search as a query string in the public listing's parameter names (stats/listing.py).
    query: Mapped[str] = mapped_column(String(1000))
    # The unguessable part of the feed's URL (secrets.token_urlsafe, 32 characters).
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    is_digest_on: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The digest covers messages published after `checked_at`; one digest per Beijing day.
    checked_at: Mapped[datetime] = mapped_column(DateTime)
    last_digest_on: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship()
