"""The mail outbox: every notification is a row first, delivered later by `flask deadlines tick`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Message


class MailState(StrEnum):
    """Where a mail is: waiting (also after a failed attempt), delivered, or given up."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(db.Model):
    """One e-mail to one address; `dedupe_key` makes every notification exactly-once."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    mail_id: Mapped[str] = mapped_column(String(200))  # the RFC 5322 Message-ID header
    kind: Mapped[str] = mapped_column(String(40), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    about_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default=MailState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    about_message: Mapped[Message | None] = relationship()


class MailOptOut(db.Model):
    """An address that asked not to get one optional category of mail (docs/notifications.md).

    Kept by address, not by account, so a unit's mailbox can unsubscribe from a digest too.
    """

    __tablename__ = "mail_optout"
    __table_args__ = (UniqueConstraint("address", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))  # lower-cased
    category: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
