"""Security records: sign-in attempts and the log of staff reading personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .messages import Message


class LoginAttempt(db.Model):
    """One sign-in try for an e-mail (known or not); recent failures lock the address out."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_created_at", "email", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed, lower-cased: no user FK on purpose
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64))  # truncated, never a full address
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AccessLog(db.Model):
    """A member of staff opened a message the public cannot see (DESIGN §7)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    route: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))  # truncated, never a full address
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    user: Mapped[User] = relationship()
    message: Mapped[Message] = relationship()
