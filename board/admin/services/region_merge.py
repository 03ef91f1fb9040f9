"""Merging two regions after a GB/T 2260 change (`/admin/regions/<code>/merge`): one code is
retired and absorbed by another (e.g. two districts become one). docs/administration.md."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import DateTime, String, func, insert, literal, or_, select, update

from ...audit import record_change
from ...errors import ValidationFailed
from ...extensions import db
from ...models import Board, Message, Post, Region, SearchOutbox, Unit, User
from ...search import outbox as search_outbox
from ...stats import facts
from .common import require_admin
from .regions import _renamed, get_region


def _check(retired: Region, survivor: Region | None, merged_on: date | None) -> Region:
    """The merge's rules: an existing, live region of the same level, not the same one."""
    errors: dict[str, list[str]] = {}
    if survivor is None:
        errors["into"] = [_("没有这个行政区划代码。")]
    elif survivor.code == retired.code:
        errors["into"] = [_("不能并入自身。")]
    elif survivor.merged_into_code:
        errors["into"] = [_("该区划已并入其他区划，请选择现行的区划。")]
    elif survivor.level != retired.level:
        errors["into"] = [_("只能合并同一级的行政区划。")]
    if merged_on is None:
        errors["merged_on"] = [_("请输入有效的日期。")]
    if retired.merged_into_code:
        errors["into"] = [_("该区划已经并入其他区划。")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert survivor is not None
    return survivor


def merge_region(
    actor: User, code: str, *, into: str, merged_on: date | None, now: datetime
) -> Region:
    """Retire region `code` into region `into`: the regions below it, its messages, units and
    department boards move there; its leader boards' messages go to the same post there (or
    the board moves when there is none); statistics and the search index follow. The retired
    code stays as history and its pages redirect. Logged; one transaction. Returns the
    surviving region."""
    require_admin(actor)
    retired = get_region(actor, code)
    survivor = _check(retired, db.session.get(Region, (into or "").strip()[:6]), merged_on)
    old_path, new_path = retired.path, survivor.path
    old_full, new_full = retired.full_name, survivor.full_name
    before = {"name": retired.name, "full_name": old_full, "parent": retired.parent_code}

    below = db.session.scalars(
        select(Region).where(Region.path.startswith(old_path + "/", autoescape=True))
    ).all()
    for place in below:
        place.path = new_path + place.path[len(old_path) :]
        place.full_name = _renamed(place.full_name, old_full, new_full)
        if place.parent_code == retired.code:
            place.parent_code = survivor.code

    in_scope = or_(
        Message.region_path == old_path,
        Message.region_path.startswith(old_path + "/", autoescape=True),
    )
    moved_ids = set(db.session.scalars(select(Message.id).where(in_scope)))
    db.session.execute(
        update(Message)
        .where(Message.region_code == retired.code)
        .values(region_code=survivor.code)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Message)
        .where(in_scope)
        .values(
            region_path=literal(new_path, String)
            + func.substr(Message.region_path, len(old_path) + 1)
        )
        .execution_options(synchronize_session=False)
    )

    boards_moved, boards_merged = [], {}
    for board in list(retired.boards):
        twin = None
        if board.post != Post.DEPARTMENT:
            twin = db.session.scalar(
                select(Board).where(Board.region_code == survivor.code, Board.post == board.post)
            )
        if twin is None:
            board.region_code = survivor.code
            boards_moved.append(board.code)
            continue
        # The post exists there: its messages join that board; this one stays as history.
        moved_ids.update(db.session.scalars(select(Message.id).where(Message.board_id == board.id)))
        db.session.execute(
            update(Message)
            .where(Message.board_id == board.id)
            .values(board_id=twin.id)
            .execution_options(synchronize_session=False)
        )
        boards_merged[board.code] = twin.code
    units = db.session.scalars(select(Unit).where(Unit.region_code == retired.code)).all()
    for unit in units:
        unit.region_code = survivor.code

    retired.merged_into_code, retired.merged_on = survivor.code, merged_on
    retired.parent_code, retired.path = None, retired.code  # out of the tree
    db.session.flush()
    db.session.expire_all()  # the bulk updates above bypassed the loaded objects
    facts.refresh(db.session.connection(), moved_ids)  # statistics count them where they are
    if moved_ids:
        db.session.execute(
            insert(SearchOutbox).from_select(
                ["message_id", "created_at"],
                select(Message.id, literal(now, DateTime)).where(Message.id.in_(moved_ids)),
            )
        )
    record_change(
        actor,
        "region.merge",
        code,
        before,
        {
            "merged_into": survivor.code,
            "merged_on": merged_on,
            "messages": len(moved_ids),
            "regions_moved": sorted(place.code for place in below),
            "units_moved": sorted(unit.code for unit in units),
            "boards_moved": boards_moved,
            "boards_merged": boards_merged,
        },
        now=now,
    )
    db.session.commit()
    search_outbox.apply_after_commit()
    return db.session.get(Region, survivor.code)
