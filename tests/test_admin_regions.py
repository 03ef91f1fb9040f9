"""/admin/regions: rename a region after a GB/T 2260 change; the code, links and messages stay,
the full names below it and its leader boards follow, and the old name is kept as history."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import T0, board, login
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange
from board.errors import PermissionDenied
from board.extensions import db
from board.models import Region, RegionName, SearchOutbox


def test_admin_renames_a_city_and_everything_below_follows(client, admin, make_message):
    """杭州市 → 临安市 (for the test): names, boards, offices, history, search outbox, log."""
    m = make_message("approved", region_code="330106")
    login(client, admin)
    queued = db.session.scalar(select(db.func.count(SearchOutbox.id)))
    response = client.post(
        "/admin/regions/330100", data={"name": "临安市", "changed_on": "2026-09-01"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    city = db.session.get(Region, "330100")
    assert city.name == "临安市" and city.full_name == "浙江省临安市"
    assert db.session.get(Region, "330106").full_name == "浙江省临安市西湖区"
    assert db.session.get(Region, "330200").full_name == "浙江省宁波市"  # a sibling is untouched
    assert board("330100-secretary").title.startswith("临安市")
    assert board("330100-secretary").office_unit.name.startswith("临安市")
    [history] = db.session.scalars(select(RegionName))
    assert (history.old_name, history.new_name, history.changed_on) == (
        "杭州市",
        "临安市",
        date(2026, 9, 1),
    )
    assert db.session.scalar(select(db.func.count(SearchOutbox.id))) >= queued  # re-indexed
    [change] = db.session.scalars(select(AdminChange).where(AdminChange.kind == "region.rename"))
    assert change.before["name"] == "杭州市" and change.after["full_name"] == "浙江省临安市"
    # The code and its links stay; the public page shows the former name.
    page = client.get("/regions/330100").get_data(as_text=True)
    assert "浙江省临安市" in page and "杭州市" in page
    assert client.get(f"/m/{m.code}").status_code == 200
    assert "杭州市" in client.get("/admin/regions?q=3301").get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "changed_on": "2026-09-01"},
        {"name": "杭州市", "changed_on": "2026-09-01"},  # unchanged
        {"name": "名" * 65, "changed_on": "2026-09-01"},
        {"name": "杭\x1b州", "changed_on": "2026-09-01"},
        {"name": "钱塘区", "changed_on": "2026-02-30"},
    ],
)
def test_bad_renames_change_nothing(client, admin, data):
    """422, and no history or log row."""
    login(client, admin)
    response = client.post("/admin/regions/330100", data=data)
    assert response.status_code in (400, 422)
    assert db.session.get(Region, "330100").name == "杭州市"
    assert db.session.scalar(select(RegionName.id)) is None
    assert db.session.scalar(select(AdminChange.id)) is None


def test_only_admins_rename(app, moderator, directory):
    """The service checks the role; an unknown code is 404 for admins."""
    with pytest.raises(PermissionDenied):
        services.rename_region(moderator, "330100", name="x市", changed_on=date(2026, 1, 1), now=T0)
    assert db.session.get(Region, "330100").name == "杭州市"
