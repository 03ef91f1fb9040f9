"""Boards: leader posts and department boards, and their holders over time."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Select, select

from ...audit import record_change
from ...errors import ValidationFailed
from ...extensions import db
from ...models import Board, BoardTerm, Post, Region, Unit, User
from .common import clean_text, found, require_admin

BOARD_CODE = re.compile(r"^([0-9]{6})-[a-z0-9][a-z0-9-]{0,32}$")
HOLDER_MAX = 64


def boards_query(actor: User, *, region_code: str = "") -> Select:
    """Boards by region and code, optionally of one region."""
    require_admin(actor)
    query = select(Board).order_by(Board.region_code, Board.code)
    if region_code:
        query = query.where(Board.region_code == region_code.strip())
    return query


def get_board(actor: User, code: str) -> Board:
    """One board by code, or NotFound."""
    require_admin(actor)
    board = db.session.scalar(select(Board).where(Board.code == code))
    return found(board, _("没有代码为 %(code)s 的留言板。", code=code))


def create_board(
    actor: User,
    *,
    code: str,
    region_code: str,
    post: str,
    title: str,
    office_code: str,
    holder_name: str = "",
    started_on: date | None = None,
    now: datetime,
) -> Board:
    """Open a leader post or a department board in a region, answered by an office unit; logged.

    A region has at most one board per leader post; department boards are as many as needed.
    """
    require_admin(actor)
    code = (code or "").strip().lower()
    found = BOARD_CODE.match(code)
    region = db.session.get(Region, (region_code or "").strip())
    if region is None:
        raise ValidationFailed(fields={"region": [_("没有这个行政区划代码。")]})
    if not found or found.group(1) != region.code:
        raise ValidationFailed(fields={"code": [_("代码须以行政区划代码开头，如 330100-wj。")]})
    if post not in {p.value for p in Post}:
        raise ValidationFailed(fields={"post": [_("请选择职务类别。")]})
    if db.session.scalar(select(Board.id).where(Board.code == code)) is not None:
        raise ValidationFailed(fields={"code": [_("这个代码已被使用。")]})
    if post != Post.DEPARTMENT and db.session.scalar(
        select(Board.id).where(Board.region_code == region.code, Board.post == post)
    ):
        raise ValidationFailed(fields={"post": [_("这个地区已有该职务的留言板。")]})
    office = db.session.scalar(select(Unit).where(Unit.code == (office_code or "").strip()))
    if office is None:
        raise ValidationFailed(fields={"office": [_("没有这个单位。")]})
    board = Board(
        code=code,
        region_code=region.code,
        post=post,
        title=clean_text(title, "title", most=120),
        office_unit=office,
    )
    db.session.add(board)
    holder = clean_text(holder_name, "holder_name", most=HOLDER_MAX, required=False)
    if holder:
        board.holder_name = holder
        db.session.add(BoardTerm(board=board, holder_name=holder, started_on=started_on))
    record_change(
        actor,
        "board.create",
        code,
        None,
        {"title": board.title, "post": post, "office": office.code, "holder": holder or None},
        now=now,
    )
    db.session.commit()
    return board


def change_holder(
    actor: User, board: Board, *, holder_name: str, started_on: date, now: datetime
) -> Board:
    """A new holder takes the post from `started_on` (the last one's term ends that day); an
    empty name leaves the post vacant. Messages stay with the post. Logged; one transaction."""
    require_admin(actor)
    holder = clean_text(holder_name, "holder_name", most=HOLDER_MAX, required=False)
    if started_on is None:
        raise ValidationFailed(fields={"started_on": [_("请输入有效的日期。")]})
    current = next((t for t in board.terms if t.ended_on is None), None)
    if current is None and board.holder_name:
        # A holder recorded before terms were kept: their term starts unknown.
        current = BoardTerm(board=board, holder_name=board.holder_name, started_on=None)
        db.session.add(current)
    if current is not None and current.started_on and started_on <= current.started_on:
        raise ValidationFailed(
            fields={"started_on": [_("须晚于现任的任职开始日期（%(d)s）。", d=current.started_on)]}
        )
    if current is not None and holder == current.holder_name:
        raise ValidationFailed(fields={"holder_name": [_("这已是现任。")]})
    before = {"holder": board.holder_name}
    if current is not None:
        current.ended_on = started_on
    if holder:
        db.session.add(BoardTerm(board=board, holder_name=holder, started_on=started_on))
    board.holder_name = holder or None
    record_change(
        actor, "board.holder", board.code, before, {"holder": board.holder_name, "from": started_on},
        now=now,
    )  # fmt: skip
    db.session.commit()
    return board
