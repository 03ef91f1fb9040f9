"""/admin/reason-codes: publish, reword and retire reasons; never delete; retired ones are not
offered but old decisions keep their label."""

from __future__ import annotations

import pytest
from conftest import T0, login
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange
from board.errors import PermissionDenied, ValidationFailed
from board.extensions import db
from board.messages import services as msg
from board.models import ReasonCode, ReasonUse

NEW = {
    "use": "hide",
    "slug": "Fake_News",
    "label": "散布不实信息",
    "label_en": "Spreads false information",
    "description": "经核实与事实不符的内容。",
    "sort": "40",
}


def test_admin_publishes_a_reason_the_moderator_can_then_give(client, admin, moderator):
    """A new hide reason appears in the moderator's choices; logged."""
    login(client, admin)
    response = client.post("/admin/reason-codes", data=NEW)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    reason = db.session.get(ReasonCode, "hide:fake_news")
    assert reason.label == "散布不实信息" and reason.sort == 40 and reason.retired_at is None
    assert "hide:fake_news" in [r.code for r in msg.reason_codes(ReasonUse.HIDE)]
    [change] = db.session.scalars(
        select(AdminChange).where(AdminChange.kind == "reason_code.create")
    )
    assert (
        change.target == "hide:fake_news"
        and change.after["label_en"] == "Spreads false information"
    )
    # Rejection reasons carry no prefix, as the seeded ones.
    client.post("/admin/reason-codes", data={**NEW, "use": "reject", "slug": "spam_ad"})
    assert db.session.get(ReasonCode, "spam_ad").use == "reject"


def test_retired_reason_is_not_offered_nor_accepted_but_old_decisions_keep_it(
    client, admin, moderator, make_message
):
    """Retire → gone from the choices and refused for new decisions; restore brings it back."""
    first = make_message("approved")
    msg.hide_message(first, moderator, reason="hide:privacy_leak", now=T0)
    login(client, admin)
    assert client.post("/admin/reason-codes/hide:privacy_leak/retire").status_code == 302
    assert "hide:privacy_leak" not in [r.code for r in msg.reason_codes(ReasonUse.HIDE)]
    second = make_message("approved", title="另一条留言")
    with pytest.raises(ValidationFailed):
        msg.hide_message(second, moderator, reason="hide:privacy_leak", now=T0)
    db.session.rollback()
    assert db.session.get(ReasonCode, "hide:privacy_leak") is not None  # never deleted
    page = client.get("/admin/reason-codes").get_data(as_text=True)
    assert "已停用" in page
    client.post("/admin/reason-codes/hide:privacy_leak/restore")
    assert "hide:privacy_leak" in [r.code for r in msg.reason_codes(ReasonUse.HIDE)]
    kinds = list(db.session.scalars(select(AdminChange.kind).order_by(AdminChange.id)))
    assert kinds == ["reason_code.retire", "reason_code.restore"]


def test_admin_rewords_a_reason(client, admin):
    """Labels and order change; the code and its use do not."""
    login(client, admin)
    assert client.get("/admin/reason-codes/hide:privacy_leak").status_code == 200
    response = client.post(
        "/admin/reason-codes/hide:privacy_leak",
        data={"use": "reject", "label": "涉及个人隐私", "label_en": "Private data", "sort": "2"},
    )
    assert response.status_code == 302
    reason = db.session.get(ReasonCode, "hide:privacy_leak")
    assert reason.label == "涉及个人隐私" and reason.use == "hide" and reason.sort == 2
    [change] = db.session.scalars(
        select(AdminChange).where(AdminChange.kind == "reason_code.update")
    )
    assert (
        change.before["label"] == "公开内容涉及个人隐私" and change.after["label"] == "涉及个人隐私"
    )
    assert client.get("/admin/reason-codes/hide:nope").status_code == 404


@pytest.mark.parametrize(
    "changes",
    [
        {"slug": "privacy_leak"},  # taken
        {"slug": "a"},
        {"slug": "Bad Slug!"},
        {"slug": "x" * 40},
        {"use": "ban"},
        {"label": ""},
        {"label": "隐\x00私"},
        {"label_en": "x" * 161},
        {"description": "长" * 501},
        {"sort": "-1"},
        {"sort": "abc"},
    ],
)
def test_bad_reasons_store_nothing(client, admin, changes):
    """4xx and no new row, no log entry."""
    login(client, admin)
    before = db.session.scalar(select(db.func.count()).select_from(ReasonCode))
    response = client.post("/admin/reason-codes", data={**NEW, **changes})
    assert response.status_code in (400, 422)
    assert db.session.scalar(select(db.func.count()).select_from(ReasonCode)) == before
    assert db.session.scalar(select(AdminChange.id)) is None


def test_only_admins_touch_reason_codes(app, moderator, coordinator):
    """The services check the role."""
    for actor in (moderator, coordinator):
        with pytest.raises(PermissionDenied):
            services.set_reason_retired(actor, "hide:privacy_leak", retired=True, now=T0)
        with pytest.raises(PermissionDenied):
            services.create_reason_code(
                actor, use="hide", slug="x_y", label="x", label_en="x", now=T0
            )
    assert db.session.get(ReasonCode, "hide:privacy_leak").retired_at is None
