"""The workflow registry as the pages and the services use it: what a page offers is what the
service accepts, and a message is filed with its attachments in one transaction."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from conftest import T0, login
from PIL import Image
from sqlalchemy import func, select

from board import workflow
from board.attachments import services as attachments
from board.attachments.models import Attachment
from board.errors import BoardError
from board.extensions import db
from board.messages import services as msg
from board.models import Message, Role
from board.workflow import STEPS, Action

PETITION = {
    "track": "petition",
    "kind": "claim",
    "real_name": "陈明亮",
    "phone": "13912345678",
    "address": "杭州市西湖区文三路 1 号",
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("state", "extra"),
    [
        ("submitted", {}),
        ("received", {}),
        ("assigned", {}),
        ("in_progress", {}),
        ("replied", {}),
        ("closed", {}),
        ("assigned", PETITION),
        ("replied", PETITION),
        ("rereview_requested", PETITION),
    ],
)
def test_available_is_exactly_what_check_allows(
    app,
    make_message,
    make_user,
    citizen,
    troll,
    handler,
    coordinator,
    moderator,
    admin,
    state,
    extra,
):
    """For every role, `available` offers a step iff `check` lets it through (one answer for the
    page that shows a button and the service that enforces it)."""
    app.config["SEARCH_APPLY_INLINE"] = False
    m = make_message(state, **extra)
    reviewer = make_user(Role.COORDINATOR, unit_code="330000-secretary-office")
    now = T0 + timedelta(days=1)
    for actor in (citizen, troll, handler, coordinator, moderator, admin, reviewer):
        offered = workflow.available(actor, m, now=now)
        for action, step in STEPS.items():
            if step.is_event_only:
                assert action not in offered
                continue
            try:
                workflow.check(action, actor, m, now=now)
            except BoardError:
                assert action not in offered, (action, actor.role)
            else:
                assert action in offered, (action, actor.role)


def test_a_lapsed_window_is_neither_offered_nor_accepted(app, make_message, citizen):
    """The rating window (30 days) closes the rating form and the service alike."""
    app.config["SEARCH_APPLY_INLINE"] = False
    m = make_message("replied")
    inside, outside = m.replied_at + timedelta(days=3), m.replied_at + timedelta(days=45)
    assert Action.RATE in workflow.available(citizen, m, now=inside)
    assert Action.RATE not in workflow.available(citizen, m, now=outside)
    with pytest.raises(BoardError, match="评价期已过"):
        msg.rate_message(m, citizen, resolution=5, attitude=5, speed=5, now=outside)


def test_limits_come_from_the_registry(app, make_message, handler):
    """The extension reason's 5–2000 characters: the service refuses outside the bounds."""
    app.config["SEARCH_APPLY_INLINE"] = False
    m = make_message("in_progress")
    now = T0 + timedelta(days=1)
    bounds = workflow.limit(Action.EXTEND, "reason")
    assert (bounds.low, bounds.high) == (5, 2000)
    for reason in ("太短", "长" * (bounds.high + 1)):
        with pytest.raises(BoardError) as refused:
            msg.request_extension(m, handler, reason=reason, now=now)
        assert "reason" in refused.value.fields
        db.session.rollback()
    msg.request_extension(m, handler, reason="需要" * 3, now=now)


def test_timeline_labels_are_the_registry_labels(app, make_message, client, coordinator):
    """The desk timeline shows the registry's desk wording for each event."""
    m = make_message("assigned")
    login(client, coordinator)
    page = client.get(f"/desk/m/{m.code}").get_data(as_text=True)
    assert str(workflow.label(Action.ASSIGN, desk=True)) in page
    assert str(workflow.label(Action.APPROVE, desk=True)) in page


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_message_and_its_attachments_are_one_transaction(app, client, citizen, monkeypatch):
    """If storing an attachment fails, the message is not filed either (and nothing is left)."""
    login(client, citizen)
    data = {
        "track": "board",
        "kind": "complaint",
        "domain": "urban",
        "region": "330106",
        "title": "小区门口路灯坏了",
        "body": "小区门口的三盏路灯坏了一个多月，晚上行人很不安全，请尽快维修。",
        "submit": "提交",
    }

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(attachments, "random_name", broken)
    with pytest.raises(OSError):
        client.post(
            "/write?board=330100-secretary",
            data={**data, "attachments": [(io.BytesIO(_png()), "a.png")]},
            content_type="multipart/form-data",
        )
    db.session.rollback()
    assert (_count(Message), _count(Attachment)) == (0, 0)

    monkeypatch.undo()
    response = client.post(
        "/write?board=330100-secretary",
        data={**data, "attachments": [(io.BytesIO(_png()), "a.png")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    message = db.session.scalars(select(Message)).one()
    row = db.session.scalars(select(Attachment)).one()
    assert row.message_id == message.id and row.created_at == message.created_at
