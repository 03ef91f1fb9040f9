"""The topic taxonomy (一级/二级/三级分类) and how a message's topic was set."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

PATH_SEPARATOR = "/"


class TopicSource(StrEnum):
    """Who set a message's topic: the citizen, staff correcting it, or an import."""

    CITIZEN = "citizen"
    STAFF = "staff"
    IMPORT = "import"


TOPIC_SOURCE_LABELS = {
    TopicSource.CITIZEN: _l("留言人选择"),
    TopicSource.STAFF: _l("工作人员更正"),
    TopicSource.IMPORT: _l("导入"),
}


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
