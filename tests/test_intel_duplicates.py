"""Likely duplicates joined in one step from the desk: the same person on the same matter is
merged (the later one closes into the earlier, co-signs move over), many people on one matter
are linked (both stay open); role checks, hostile input and the public pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import login
from sqlalchemy import select

from board.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from board.extensions import db
from board.intel import duplicates
from board.intel.models import LinkKind, MessageLink
from board.messages import services as msg
from board.models import Cosign, Event, Message, Role


def _later(make_message, state="received", **kwargs) -> tuple[Message, Message]:
    earlier = make_message("assigned", title="小区门口垃圾站臭味严重")
    later = make_message(state, title="小区门口垃圾站还是很臭", **kwargs)
    return earlier, later


def _when(*messages) -> object:
    latest = max(
        db.session.scalar(
            select(Event.created_at)
            .where(Event.message_id == m.id)
            .order_by(Event.created_at.desc())
            .limit(1)
        )
        for m in messages
    )
    return latest + timedelta(hours=1)


def test_merge_closes_the_later_and_moves_its_cosigns(
    app, client, make_message, make_user, coordinator
):
    earlier, later = _later(make_message)
    a, b = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    now = _when(earlier, later)
    msg.cosign_message(later, a, now=now)
    msg.cosign_message(later, b, now=now)
    msg.cosign_message(earlier, b, now=now)
    kept = duplicates.merge_duplicate(earlier, later, coordinator, now=now + timedelta(minutes=1))
    assert kept.id == earlier.id
    db.session.refresh(later)
    db.session.refresh(earlier)
    assert later.state == "closed" and later.cosign_count == 0
    assert earlier.cosign_count == 2
    assert set(
        db.session.scalars(select(Cosign.user_id).where(Cosign.message_id == earlier.id))
    ) == {a.id, b.id}
    link = db.session.scalar(select(MessageLink))
    assert (link.message_id, link.other_id, link.kind, link.actor_id) == (
        later.id,
        earlier.id,
        LinkKind.MERGE,
        coordinator.id,
    )
    merge_event = db.session.scalar(
        select(Event).where(Event.message_id == later.id, Event.action == "merge")
    )
    assert merge_event.actor_id == coordinator.id and earlier.code in merge_event.note
    # The public pages point at each other.
    page = client.get(f"/m/{later.code}").get_data(as_text=True)
    assert "本留言已合并到" in page and earlier.code in page
    page = client.get(f"/m/{earlier.code}").get_data(as_text=True)
    assert "已合并到本留言" in page and later.code in page


def test_merge_refuses_other_authors_assigned_ones_and_outsiders(
    app, make_message, make_user, coordinator, citizen, handler
):
    earlier, later = _later(make_message)
    other_author = make_message("received", author=make_user(Role.CITIZEN))
    now = _when(earlier, later, other_author)
    with pytest.raises(ValidationFailed):
        duplicates.merge_duplicate(other_author, earlier, coordinator, now=now)
    with pytest.raises(ValidationFailed):
        duplicates.merge_duplicate(later, later, coordinator, now=now)
    for outsider in (citizen, handler):
        with pytest.raises((PermissionDenied, NotFound)):
            duplicates.merge_duplicate(later, earlier, outsider, now=now)
    assigned_twin = make_message("assigned")
    with pytest.raises(InvalidTransition):  # the later one is already with a unit
        duplicates.merge_duplicate(assigned_twin, earlier, coordinator, now=_when(assigned_twin))
    assert db.session.scalar(select(MessageLink)) is None
    assert later.state == "received"


def test_link_keeps_both_open_and_shows_on_both_pages(
    app, client, make_message, make_user, coordinator
):
    mine = make_message("assigned", title="地铁站出口电梯长期停运")
    theirs = make_message("received", title="地铁站电梯坏了没人修", author=make_user(Role.CITIZEN))
    now = _when(mine, theirs)
    duplicates.link_duplicate(theirs, mine, coordinator, now=now)
    assert (mine.state, theirs.state) == ("assigned", "received")
    for one, two in ((mine, theirs), (theirs, mine)):
        page = client.get(f"/m/{one.code}").get_data(as_text=True)
        assert "反映同一事项" in page and two.code in page
    with pytest.raises(ValidationFailed):  # once is enough
        duplicates.link_duplicate(mine, theirs, coordinator, now=now)


def test_desk_panel_offers_merge_and_link_in_one_step(app, client, make_message, coordinator):
    earlier, later = _later(make_message)
    login(client, coordinator)
    page = client.get(f"/m/{later.code}").get_data(as_text=True)
    assert f'action="/m/{later.code}/duplicates"' in page
    assert 'name="kind" value="merge"' in page and 'name="kind" value="link"' in page
    response = client.post(
        f"/m/{later.code}/duplicates", data={"other": earlier.code, "kind": "merge"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Message, later.id).state == "closed"


@pytest.mark.parametrize(
    "data",
    [
        {"other": "MS-0000-XXXXXX", "kind": "link"},
        {"other": "<script>alert(1)</script>", "kind": "link"},
        {"other": "x" * 5000, "kind": "merge"},
        {"other": "", "kind": "merge"},
        {"kind": "link"},
    ],
)
def test_hostile_duplicate_forms_change_nothing(app, client, make_message, coordinator, data):
    earlier, later = _later(make_message)
    login(client, coordinator)
    response = client.post(f"/m/{later.code}/duplicates", data=data)
    assert response.status_code == 302
    assert db.session.scalar(select(MessageLink)) is None
    assert "<script>alert(1)</script>" not in client.get(f"/m/{later.code}").get_data(as_text=True)


def test_bad_kind_and_other_users_are_refused(
    app, client, make_message, citizen, troll, coordinator
):
    earlier, later = _later(make_message)
    login(client, coordinator)
    client.post(f"/m/{later.code}/duplicates", data={"other": earlier.code, "kind": "delete"})
    assert db.session.scalar(select(MessageLink)) is None
    client = app.test_client()
    login(client, citizen)  # the author may not merge their own messages
    assert (
        client.post(
            f"/m/{later.code}/duplicates", data={"other": earlier.code, "kind": "merge"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/m/MS-0000-NOPE00/duplicates", data={"other": earlier.code, "kind": "merge"}
        ).status_code
        == 404
    )
    assert db.session.scalar(select(MessageLink)) is None
