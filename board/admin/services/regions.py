"""Regions: the GB/T 2260 list, searched and renamed."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import DateTime, Select, insert, literal, select

from ...audit import record_change
from ...errors import ValidationFailed
from ...extensions import db
from ...models import Message, Post, Region, RegionName, SearchOutbox, User
from ...search import outbox as search_outbox
from .common import SEARCH_MAX, clean_text, found, require_admin

REGION_NAME_MAX = 64


def regions_query(actor: User, *, q: str = "") -> Select:
    """Regions by code; `q` matches a code's start or part of a name."""
    require_admin(actor)
    query = select(Region).order_by(Region.code)
    q = (q or "").strip()[:SEARCH_MAX]
    if q:
        query = query.where(
            Region.code.startswith(q, autoescape=True)
            | Region.full_name.contains(q, autoescape=True)
        )
    return query


def get_region(actor: User, code: str) -> Region:
    """One region by code, or NotFound."""
    require_admin(actor)
    return found(db.session.get(Region, (code or "").strip()), _("没有这个行政区划代码。"))


def _renamed(text: str, old: str, new: str) -> str:
    return new + text[len(old) :] if text.startswith(old) else text


def rename_region(
    actor: User, code: str, *, name: str, changed_on: date | None, now: datetime
) -> Region:
    """Rename a region after a GB/T 2260 change (the code stays): its full name and those of the
    regions below it, its leader boards and their offices follow; the old name is kept as
    history; messages there are re-indexed. Logged; one transaction."""
    region = get_region(actor, code)
    name = clean_text(name, "name", most=REGION_NAME_MAX)
    if changed_on is None:
        raise ValidationFailed(fields={"changed_on": [_("请输入有效的日期。")]})
    old_name, old_full = region.name, region.full_name
    if name == old_name:
        raise ValidationFailed(fields={"name": [_("新名称与现名称相同。")]})
    new_full = (
        _renamed(old_full, old_name, name)
        if not region.parent
        else (region.parent.full_name + name)
    )
    subtree = list(
        db.session.scalars(
            select(Region).where(
                (Region.code == region.code) | Region.path.startswith(region.path + "/")
            )
        )
    )
    for place in subtree:
        place.full_name = _renamed(place.full_name, old_full, new_full)
    region.name = name
    for board in region.boards:
        if board.post != Post.DEPARTMENT:
            board.title = _renamed(board.title, old_name, name)
            board.office_unit.name = _renamed(board.office_unit.name, old_name, name)
    db.session.add(
        RegionName(region_code=region.code, old_name=old_name, new_name=name, changed_on=changed_on)
    )
    # Search results show the region's full name: re-index the messages of the whole subtree.
    db.session.execute(
        insert(SearchOutbox).from_select(
            ["message_id", "created_at"],
            select(Message.id, literal(now, DateTime)).where(
                Message.region_code.in_([place.code for place in subtree])
            ),
        )
    )
    record_change(
        actor,
        "region.rename",
        region.code,
        {"name": old_name, "full_name": old_full},
        {"name": name, "full_name": new_full, "changed_on": changed_on},
        now=now,
    )
    db.session.commit()
    search_outbox.apply_after_commit()
    return region
