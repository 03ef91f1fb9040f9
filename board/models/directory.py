"""The directory: regions (GB/T 2260), units and boards."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    String,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .vocab import LEVEL_LABELS, Post, RegionLevel


class Region(db.Model):
    """A GB/T 2260 administrative division; `path` lists the codes from the province down."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))  # 浙江省杭州市西湖区
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    path: Mapped[str] = mapped_column(String(32), index=True)  # 330000/330100/330106
    # GB/T 2260 merges (board/admin/services/region_merge.py): a retired region was absorbed by this
    # code on `merged_on`. It leaves the tree (no parent, its path is its own code), keeps its
    # names as history, and its public pages redirect to the region that absorbed it.
    merged_into_code: Mapped[str | None] = mapped_column(String(6), index=True)
    merged_on: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[Region | None] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")
    boards: Mapped[list[Board]] = relationship(back_populates="region", order_by="Board.id")
    former_names: Mapped[list[RegionName]] = relationship(
        order_by="(RegionName.changed_on.desc(), RegionName.id.desc())"
    )
    # The regions merged into this one: their codes are this region's former codes.
    absorbed: Mapped[list[Region]] = relationship(
        primaryjoin="Region.code == foreign(Region.merged_into_code)",
        remote_side="Region.merged_into_code",
        viewonly=True,
        order_by="Region.code",
    )

    @property
    def level_label(self) -> str:
        """The level's human label."""
        return str(LEVEL_LABELS[RegionLevel(self.level)])

    @property
    def label(self) -> str:
        """The name in the page's language (romanised in English: 杭州市 → Hangzhou)."""
        from ..directory.names import in_english, region_name_en

        return region_name_en(self.code, self.name) if in_english() else self.name

    @property
    def full_label(self) -> str:
        """浙江省杭州市西湖区, or in English "Xihu District, Hangzhou, Zhejiang"."""
        from ..directory.names import in_english

        if not in_english():
            return self.full_name
        return self.label + (f", {self.parent.full_label}" if self.parent else "")

    def contains(self, other: Region) -> bool:
        """True if `other` is this region or lies inside it (a merged region holds nothing and
        lies nowhere: no new message goes there)."""
        if self.merged_into_code or other.merged_into_code:
            return False
        return other.path == self.path or other.path.startswith(self.path + "/")


class Unit(db.Model):
    """An organisation that answers messages; a board's coordinator office is a unit too."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    # The number the unit publishes for citizens to call back: readable in every public text.
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)

    region: Mapped[Region] = relationship()
    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        """The name in the page's language: offices and departments have an English name built
        from their region's (杭州市交通运输局 → Hangzhou Transport Bureau); others keep theirs."""
        from ..directory.names import in_english, unit_name_en

        if not in_english():
            return self.name
        region = self.region
        parent = (region.parent.code, region.parent.name) if region.parent else None
        return unit_name_en(self.name, region.code, region.name, region.level, parent) or self.name


class Board(db.Model):
    """A leader post in a region (e.g. 杭州市委书记); messages belong to the post, not the holder."""

    __tablename__ = "board"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    post: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    holder_name: Mapped[str | None] = mapped_column(String(64))
    office_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="boards")
    office_unit: Mapped[Unit] = relationship()
    # Newest first: the current holder's term (no end) leads, then the past ones.
    terms: Mapped[list[BoardTerm]] = relationship(
        back_populates="board",
        order_by="(BoardTerm.ended_on.is_(None).desc(), BoardTerm.ended_on.desc(), "
        "BoardTerm.id.desc())",
    )

    @property
    def label(self) -> str:
        """The title in the page's language (杭州市委书记 → Party Secretary of Hangzhou)."""
        from ..directory.names import board_title_en, in_english

        if not in_english() or self.post == Post.DEPARTMENT:
            return self.title
        region = self.region
        return board_title_en(self.post, region.code, region.name, region.level)


class BoardTerm(db.Model):
    """One holder's term on a board's post: messages stay with the post, terms record who held it.

    `started_on` is empty for a holder recorded before terms were kept; `ended_on` is empty for
    the current holder.
    """

    __tablename__ = "board_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    board: Mapped[Board] = relationship(back_populates="terms")


class RegionName(db.Model):
    """A region's earlier name (GB/T 2260 renames keep the code): the history its page shows."""

    __tablename__ = "region_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    old_name: Mapped[str] = mapped_column(String(64))
    new_name: Mapped[str] = mapped_column(String(64))
    changed_on: Mapped[date] = mapped_column(Date)


@event.listens_for(Unit, "after_insert")
@event.listens_for(Unit, "after_update")
@event.listens_for(Unit, "after_delete")
def _unit_contacts_changed(mapper, connection, target) -> None:
    """A unit's published phone or e-mail may have changed: masking must see the new ones."""
    from ..privacy import units_changed

    units_changed()
