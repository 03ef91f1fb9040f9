"""The attachment row and its bytes: in the database (every node reads them) or, for files
uploaded before that, under the upload directory with a random name."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Message


class AttachmentKind(StrEnum):
    """What an upload turned out to be, judged by its content."""

    IMAGE = "image"
    PDF = "pdf"


class Storage(StrEnum):
    """Where an attachment's bytes are: a row of `attachment_blob`, or a file on disk."""

    DATABASE = "database"
    DISK = "disk"


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
    # Rows from before attachments moved into the database say "disk" until
    # `flask attachments migrate` moves their files.
    storage: Mapped[str] = mapped_column(String(8), default=Storage.DATABASE, server_default="disk")

    message: Mapped[Message] = relationship(
        backref=db.backref(
            "attachments", order_by="Attachment.id", cascade="all, delete-orphan", lazy="select"
        )
    )

    blob: Mapped[AttachmentBlob | None] = relationship(
        back_populates="attachment", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_image(self) -> bool:
        """Images are shown inline; PDFs are downloaded."""
        return self.kind == AttachmentKind.IMAGE


class AttachmentBlob(db.Model):
    """The bytes of one attachment, in the database so that every app node serves them."""

    __tablename__ = "attachment_blob"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)

    attachment: Mapped[Attachment] = relationship(back_populates="blob")
