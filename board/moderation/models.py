"""Moderation safety: the admin-edited sensitive-word list and the per-message review lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import User


class SensitiveWord(db.Model):
    """A word that flags a message for the moderator's attention (never drops it)."""

    __tablename__ = "sensitive_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class ModerationLock(db.Model):
    """Who is reviewing a message, until when: another moderator cannot decide meanwhile."""

    __tablename__ = "moderation_lock"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    moderator_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    locked_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    moderator: Mapped[User] = relationship()
