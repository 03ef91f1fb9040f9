"""The access log (DESIGN §7): staff opening a private message leave a row; admins read them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, login
from sqlalchemy import select

from board.audit import log_private_view
from board.auth.services import issue_token
from board.extensions import db
from board.models import AccessLog, Message


def _rows() -> list[AccessLog]:
    """Every access-log row, oldest first."""
    return list(db.session.scalars(select(AccessLog).order_by(AccessLog.id)))


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("moderator", "/moderation/{code}"),
        ("coordinator", "/desk/m/{code}"),
        ("moderator", "/m/{code}"),
        ("admin", "/m/{code}"),
    ],
)
def test_staff_opening_a_private_message_is_logged(client, request, make_message, who, path):
    """Each staff page that shows a not-yet-public message writes one row naming who and where."""
    if who == "coordinator":  # received, but its author asked for it to stay private
        message = make_message("approved", wants_public=False)
    else:
        message = make_message("submitted")
    assert not message.is_public
    staff = request.getfixturevalue(who)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    login(client, staff)
    response = client.get(path.format(code=message.code))
    assert response.status_code == 200
    [row] = _rows()
    assert (row.user_id, row.message_id) == (staff.id, message.id)
    assert row.ip == "203.0.113.0"
    assert row.route in ("moderation.review", "desk.message", "messages.show")


def test_handler_opening_a_hidden_message_on_the_desk_is_logged(
    client, make_message, handler, moderator
):
    """A hidden message is private again: the handler's view of it is logged."""
    from board.messages.services import hide_message

    message = make_message("replied")
    hide_message(message, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=5))
    login(client, handler)
    assert client.get(f"/desk/m/{message.code}").status_code == 200
    assert [(r.user_id, r.route) for r in _rows()] == [(handler.id, "desk.message")]


def test_api_read_of_a_private_message_by_staff_is_logged(client, make_message, moderator):
    """GET /api/v1/messages/CODE with a staff token logs the read."""
    message = make_message("submitted")
    token = issue_token(moderator, name="t", now=T0)
    response = client.get(
        f"/api/v1/messages/{message.code}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    [row] = _rows()
    assert (row.user_id, row.route) == (moderator.id, "api.get_message")


def test_public_messages_and_the_authors_own_views_are_not_logged(
    client, make_message, citizen, moderator
):
    """Nothing is logged for a public message, nor for the author reading their own."""
    public = make_message("approved")
    private = make_message("submitted", title="另一条留言")
    assert public.is_public and not private.is_public
    login(client, moderator)
    assert client.get(f"/m/{public.code}").status_code == 200
    client.post("/logout")
    login(client, citizen)
    assert client.get(f"/m/{private.code}").status_code == 200
    assert _rows() == []


def test_log_private_view_ignores_citizens_and_visitors(app, make_message, troll):
    """The helper itself only logs staff."""
    message = make_message("submitted")
    assert log_private_view(None, message, route="t", ip=None, now=T0) is None
    assert log_private_view(troll, message, route="t", ip=None, now=T0) is None
    assert _rows() == []


def _seed_rows(make_message, moderator, admin, app):
    """Three rows: the moderator twice on two messages, the admin once."""
    first = make_message("submitted", title="第一条")
    second = make_message("submitted", title="第二条")
    for viewer, message, minutes in (
        (moderator, first, 0),
        (admin, second, 1),
        (moderator, second, 2),
    ):
        log_private_view(
            viewer,
            message,
            route="moderation.review",
            ip="203.0.113.9",
            now=T0 + timedelta(minutes=minutes),
        )
    db.session.commit()  # the helper adds to the caller's transaction; the caller commits
    return first, second


def test_admin_access_log_lists_newest_first_and_filters(
    client, app, make_message, moderator, admin
):
    """The admin page shows rows newest first and narrows by message code or staff e-mail."""
    first, second = _seed_rows(make_message, moderator, admin, app)
    login(client, admin)
    page = client.get("/admin/access-log").get_data(as_text=True)
    positions = [page.find(e) for e in (moderator.email, admin.email)]
    assert -1 not in positions and positions[0] < positions[1]  # 10:02 before 10:01
    by_code = client.get(f"/admin/access-log?message={first.code.lower()}").get_data(as_text=True)
    assert first.code in by_code and second.code not in by_code
    by_user = client.get(f"/admin/access-log?user={admin.email.upper()}").get_data(as_text=True)
    assert second.code in by_user and first.code not in by_user and moderator.email not in by_user


@pytest.mark.parametrize("who", ["citizen", "moderator", "coordinator", "handler"])
def test_access_log_page_is_for_admins_only(client, request, who):
    """Everyone but admins gets 403."""
    login(client, request.getfixturevalue(who))
    assert client.get("/admin/access-log").status_code == 403


def test_access_log_page_asks_visitors_to_sign_in(client, directory):
    """A visitor is sent to the login page."""
    response = client.get("/admin/access-log")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_access_log_rows_survive_for_every_private_state(client, make_message, moderator):
    """Rejected messages are private too and their views are logged."""
    message = make_message("rejected")
    assert db.session.get(Message, message.id).is_public is False
    login(client, moderator)
    assert client.get(f"/moderation/{message.code}").status_code == 200
    assert len(_rows()) == 1
