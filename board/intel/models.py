"""The topic taxonomy (一级/二级/三级分类) and how a message's topic was set."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models.messages import OnMessage
from ..models.vocab import LabelledEnum

PATH_SEPARATOR = "/"


class TopicSource(LabelledEnum):
    """Who set a message's topic: the citizen, staff correcting it, or an import."""

    CITIZEN = "citizen", _l("留言人选择")
    STAFF = "staff", _l("工作人员更正")
    IMPORT = "import", _l("导入")


TOPIC_SOURCE_LABELS = TopicSource.labels()


class Topic(db.Model):
    """A node of the three-level topic tree; `path` names it from the first level down."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(160), unique=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Topic | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Topic]] = relationship(
        back_populates="parent", order_by="Topic.sort, Topic.id"
    )

    @property
    def names(self) -> list[str]:
        """The path as a list of names, first level first."""
        return self.path.split(PATH_SEPARATOR)

    @property
    def root_name(self) -> str:
        """The first-level topic this node belongs to."""
        return self.names[0]

    @property
    def label(self) -> str:
        """The name in the page's language (English names: `names_en`)."""
        from .names_en import topic_name

        return topic_name(self.name)

    @property
    def path_label(self) -> str:
        """The path in the page's language."""
        from .names_en import path_label

        return path_label(self.names)


class LinkKind(StrEnum):
    """How two messages on one matter were joined (DESIGN: duplicates)."""

    MERGE = "merge"  # the same person on the same matter: the later one is closed into the other
    LINK = "link"  # many people on one matter: both stay open and point at each other


class MessageLink(OnMessage, db.Model):
    """A later message joined to an earlier one by a coordinator (who and when are kept)."""

    __tablename__ = "message_link"
    __table_args__ = (UniqueConstraint("message_id", "other_id", name="uq_message_link_pair"),)

    other_id: Mapped[int] = mapped_column(ForeignKey("message.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
