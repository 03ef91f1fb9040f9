"""The attachment row: the file itself lives under the upload directory with a random name."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Message


class AttachmentKind(StrEnum):
    """What an upload turned out to be, judged by its content."""

    IMAGE = "image"
    PDF = "pdf"


class Attachment(db.Model):
    """One uploaded file of a message, public or private, stored outside static/."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(40))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    # 32 random hex digits and the extension of the detected type: never guessable or chosen.
    stored_name: Mapped[str] = mapped_column(String(48), unique=True)
    original_name: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    message: Mapped[Message] = relationship(
        backref=db.backref(
            "attachments", order_by="Attachment.id", cascade="all, delete-orphan", lazy="select"
        )
    )

    @property
    def is_image(self) -> bool:
        """Images are shown inline; PDFs are downloaded."""
        return self.kind == AttachmentKind.IMAGE
