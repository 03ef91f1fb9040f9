"""/admin/regions/<code>/merge: a GB/T 2260 merge retires one code into another of the same
level; the regions below it, its messages, units and boards move, statistics and the index
follow, the old code stays as history and its links redirect, and the change is logged."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import T0, board, login
from sqlalchemy import func, select

from board.admin.models import AdminChange
from board.admin.services import region_merge as regions_merge
from board.errors import PermissionDenied, ValidationFailed
from board.extensions import db
from board.messages import services as msg
from board.models import Board, Message, Region, SearchOutbox, Unit
from board.stats import facts, tally
from board.stats.models import StatsCase

MERGE = {"into": "330106", "merged_on": "2026-09-01"}


@pytest.fixture
def chun_an(directory):
    """淳安县 with a unit of its own (the region to be retired)."""
    db.session.add(Unit(code="330127-zj", name="淳安县住房和城乡建设局", region_code="330127"))
    db.session.commit()
    return db.session.get(Region, "330127")


def _consistent() -> None:
    """The statistics rows and their running sums are what the messages say."""
    connection = db.session.connection()
    assert facts.stored_rows(connection) == facts.computed_rows(connection)
    assert tally.stored_rows(connection) == tally.computed_rows(connection)


def test_merging_moves_everything_and_keeps_the_old_code_as_history(
    client, admin, chun_an, make_message
):
    """淳安县 into 西湖区 (for the test): messages (region and path), the county's leader
    boards' messages, its unit; statistics, search outbox and log follow; old links redirect."""
    on_city_board = make_message("replied", region_code="330127")
    on_county_board = make_message("approved", board_code="330127-secretary", region_code="330127")
    elsewhere = make_message("approved", region_code="330106")
    _consistent()
    queued = db.session.scalar(select(func.count(SearchOutbox.id)))

    login(client, admin)
    response = client.post("/admin/regions/330127/merge", data=MERGE)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith("/admin/regions/330106")

    db.session.expire_all()
    retired = db.session.get(Region, "330127")
    assert (retired.merged_into_code, retired.merged_on) == ("330106", date(2026, 9, 1))
    assert retired.parent_code is None and retired.name == "淳安县"  # history, out of the tree
    for m in (on_city_board, on_county_board, elsewhere):
        moved = db.session.get(Message, m.id)
        assert (moved.region_code, moved.region_path) == ("330106", "330000/330100/330106")
    assert db.session.get(Message, on_city_board.id).board.code == "330100-secretary"
    assert db.session.get(Message, on_county_board.id).board.code == "330106-secretary"
    assert db.session.scalar(select(Unit).where(Unit.code == "330127-zj")).region_code == "330106"
    assert board("330127-secretary").region_code == "330127"  # kept as history
    case = db.session.get(StatsCase, on_city_board.id)
    assert case.region_path == "330000/330100/330106"
    _consistent()
    assert db.session.scalar(select(func.count(SearchOutbox.id))) > queued

    [change] = db.session.scalars(select(AdminChange).where(AdminChange.kind == "region.merge"))
    assert change.target == "330127" and change.before["name"] == "淳安县"
    assert change.after["merged_into"] == "330106" and change.after["messages"] == 2
    assert "330127-zj" in change.after["units_moved"]
    assert change.after["boards_merged"]["330127-secretary"] == "330106-secretary"

    # Old links go where the region lives now; its page names the former code.
    old = client.get("/regions/330127")
    assert old.status_code == 301 and old.headers["Location"].endswith("/regions/330106")
    old_board = client.get("/boards/330127-secretary")
    assert old_board.status_code == 301
    assert old_board.headers["Location"].endswith("/boards/330106-secretary")
    browse = client.get("/leaders?region=330127")
    assert browse.status_code == 301 and browse.headers["Location"].endswith("region=330106")
    page = client.get("/regions/330106").get_data(as_text=True)
    assert "曾用代码" in page and "330127" in page and "淳安县" in page
    assert "淳安县" not in client.get("/regions/330100").get_data(as_text=True)
    assert client.get(f"/m/{on_county_board.code}").status_code == 200


def test_the_regions_below_move_under_the_survivor(client, admin, directory, make_message):
    """宁波市 into 杭州市 (for the test): 海曙区 is now below 杭州市, with its path and full
    name; its messages' paths follow; statistics stay exact."""
    m = make_message("approved", board_code="330200-secretary", region_code="330203")
    regions_merge.merge_region(admin, "330200", into="330100", merged_on=date(2026, 9, 1), now=T0)
    db.session.expire_all()
    haishu = db.session.get(Region, "330203")
    assert (haishu.parent_code, haishu.path) == ("330100", "330000/330100/330203")
    assert haishu.full_name == "浙江省杭州市海曙区"
    moved = db.session.get(Message, m.id)
    assert (moved.region_code, moved.region_path) == ("330203", "330000/330100/330203")
    assert moved.board.code == "330100-secretary"
    _consistent()
    page = client.get("/regions/330100").get_data(as_text=True)
    assert "海曙区" in page and "330200" in page
    assert db.session.get(Region, "330100").contains(haishu)


def test_no_new_message_goes_to_the_retired_region(client, admin, chun_an, citizen):
    """After the merge the retired code is no place for a message, on any board."""
    regions_merge.merge_region(admin, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0)
    for board_code in ("330100-secretary", "330127-secretary"):
        with pytest.raises(ValidationFailed):
            msg.submit_message(
                citizen, board=board(board_code), region=db.session.get(Region, "330127"),
                track="board", kind="complaint", domain="urban", title="千岛湖码头收费",
                body="千岛湖码头停车收费标准不清楚，请有关部门说明收费依据。", now=T0,
            )  # fmt: skip
    db.session.rollback()


def test_a_board_without_a_twin_moves_whole(client, admin, chun_an):
    """A department board (and a leader post the survivor lacks) moves with its code."""
    db.session.add(
        Board(code="330127-wenlv", region_code="330127", post="department", title="淳安县文旅局",
              office_unit=db.session.scalar(select(Unit).where(Unit.code == "330127-zj")))
    )  # fmt: skip
    db.session.commit()
    regions_merge.merge_region(admin, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0)
    db.session.expire_all()
    assert board("330127-wenlv").region_code == "330106"
    assert client.get("/boards/330127-wenlv").status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {"into": "", "merged_on": "2026-09-01"},
        {"into": "330127", "merged_on": "2026-09-01"},  # itself
        {"into": "999999", "merged_on": "2026-09-01"},
        {"into": "330100", "merged_on": "2026-09-01"},  # a city: another level
        {"into": "3301061", "merged_on": "2026-09-01"},
        {"into": "<script>alert(1)</script>", "merged_on": "2026-09-01"},
        {"into": "330106", "merged_on": "2026-02-30"},
        {"into": "330106", "merged_on": ""},
    ],
)
def test_bad_merges_change_nothing(client, admin, chun_an, data):
    """422 with the reason next to the field; no region moves and nothing is logged."""
    login(client, admin)
    response = client.post("/admin/regions/330127/merge", data=data)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Region, "330127").merged_into_code is None
    assert db.session.get(Region, "330127").parent_code == "330100"
    assert db.session.scalar(select(AdminChange.id)) is None


def test_a_retired_code_cannot_merge_again_or_absorb(client, admin, chun_an):
    """Once retired, the code takes no further merge and cannot be the survivor."""
    regions_merge.merge_region(admin, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0)
    login(client, admin)
    assert client.post("/admin/regions/330127/merge", data=MERGE).status_code == 422
    again = client.post(
        "/admin/regions/330203/merge", data={"into": "330127", "merged_on": "2026-09-01"}
    )
    assert again.status_code == 422
    assert "不能再更名或合并" in client.get("/admin/regions/330127").get_data(as_text=True)
    assert client.post("/admin/regions/000000/merge", data=MERGE).status_code == 404


def test_only_admins_merge(app, moderator, chun_an):
    """The service checks the role."""
    with pytest.raises(PermissionDenied):
        regions_merge.merge_region(
            moderator, "330127", into="330106", merged_on=date(2026, 9, 1), now=T0
        )
    assert db.session.get(Region, "330127").merged_into_code is None
