"""/admin/boards: open leader posts and department boards, change holders with a term history;
messages stay with the post and its public page shows the current and past holders."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import T0, board, login
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange
from board.errors import PermissionDenied, ValidationFailed
from board.extensions import db
from board.models import Board, BoardTerm

NEW_BOARD = {
    "region": "330100",
    "post": "department",
    "code": "330100-wj",
    "title": "杭州市物价局",
    "office": "330100-zj",
    "holder_name": "",
    "started_on": "",
}


def test_admin_opens_a_department_board_that_takes_messages(client, admin, citizen):
    """The new board has its office unit, its public page, and a log entry."""
    login(client, admin)
    response = client.post("/admin/boards", data=NEW_BOARD)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = board("330100-wj")
    assert created.office_unit.code == "330100-zj" and created.post == "department"
    assert client.get("/boards/330100-wj").status_code == 200
    assert "杭州市物价局" in client.get("/admin/boards?region=330100").get_data(as_text=True)
    [change] = db.session.scalars(select(AdminChange).where(AdminChange.kind == "board.create"))
    assert change.after["office"] == "330100-zj"
    writer = client.application.test_client()
    login(writer, citizen)
    assert writer.get("/write?board=330100-wj").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "330200-wj"}, "代码须以行政区划代码开头"),  # another region's code
        ({"code": "330100-secretary"}, "这个代码已被使用"),
        ({"post": "secretary", "code": "330100-sj2"}, "这个地区已有该职务的留言板"),
        ({"region": "999999"}, "没有这个行政区划代码"),
        ({"office": "nope"}, "没有这个单位"),
        ({"post": "emperor"}, ""),
        ({"title": "杭州\x07物价局"}, ""),
        ({"title": "长" * 121}, ""),
        ({"code": "330100-<script>"}, ""),
    ],
)
def test_bad_boards_are_refused(client, admin, changes, field):
    """422 with the reason; no board, no log row."""
    login(client, admin)
    before = db.session.scalar(select(db.func.count(Board.id)))
    response = client.post("/admin/boards", data={**NEW_BOARD, **changes})
    assert response.status_code in (400, 422)
    assert field in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Board.id))) == before
    assert db.session.scalar(select(AdminChange.id)) is None


def test_holder_changes_keep_a_term_history_and_the_messages(client, admin, make_message):
    """张三 → 李四 → vacant: terms close on the next start; the page lists all; messages stay."""
    m = make_message("replied")
    login(client, admin)
    secretary = board("330100-secretary")
    secretary.holder_name = "王五"  # recorded before terms were kept
    db.session.commit()
    assert (
        client.post(
            "/admin/boards/330100-secretary",
            data={"holder_name": "张三", "started_on": "2026-01-05"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/admin/boards/330100-secretary",
            data={"holder_name": "李四", "started_on": "2026-06-01"},
        ).status_code
        == 302
    )
    db.session.expire_all()
    terms = [(t.holder_name, t.started_on, t.ended_on) for t in board("330100-secretary").terms]
    assert terms == [
        ("李四", date(2026, 6, 1), None),
        ("张三", date(2026, 1, 5), date(2026, 6, 1)),
        ("王五", None, date(2026, 1, 5)),
    ]
    assert board("330100-secretary").holder_name == "李四"
    page = client.get("/boards/330100-secretary").get_data(as_text=True)
    assert page.index("李四") < page.index("张三") < page.index("王五")
    assert m.title in page  # the message stays with the post
    # Earlier than the current term, or the same person again: refused.
    early = client.post(
        "/admin/boards/330100-secretary", data={"holder_name": "赵六", "started_on": "2026-05-01"}
    )
    assert early.status_code == 422
    same = client.post(
        "/admin/boards/330100-secretary", data={"holder_name": "李四", "started_on": "2026-07-01"}
    )
    assert same.status_code == 422
    # Vacant.
    client.post(
        "/admin/boards/330100-secretary", data={"holder_name": "", "started_on": "2026-09-01"}
    )
    db.session.expire_all()
    assert board("330100-secretary").holder_name is None
    assert all(t.ended_on for t in board("330100-secretary").terms)
    kinds = list(
        db.session.scalars(select(AdminChange.after).where(AdminChange.kind == "board.holder"))
    )
    assert [k["holder"] for k in kinds] == ["张三", "李四", None]
    # In English too.
    client.get("/lang/en?next=/")
    import flask_babel

    flask_babel.refresh()
    assert "Past and present holders" in client.get("/boards/330100-secretary").get_data(
        as_text=True
    )


def test_only_admins_change_holders(app, coordinator, directory):
    """The service checks the role itself."""
    with pytest.raises(PermissionDenied):
        services.change_holder(
            coordinator,
            board("330100-secretary"),
            holder_name="x",
            started_on=date(2026, 1, 1),
            now=T0,
        )
    assert db.session.scalar(select(BoardTerm.id)) is None


def test_holder_form_needs_a_date(client, admin):
    """No date: 422, nothing stored."""
    login(client, admin)
    response = client.post(
        "/admin/boards/330100-secretary", data={"holder_name": "张三", "started_on": ""}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(BoardTerm.id)) is None
    with pytest.raises(ValidationFailed):
        services.change_holder(
            db.session.merge(admin),
            board("330100-secretary"),
            holder_name="张三",
            started_on=None,
            now=T0,
        )
