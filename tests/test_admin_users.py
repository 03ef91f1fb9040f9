"""/admin/users: list and search accounts, invite staff by mail, change roles and units, disable,
sign out everywhere; every change in the admin change log; the invitee's link page."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from conftest import PASSWORD, T0, login
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange, Invitation
from board.clock import utcnow
from board.errors import NotFound, PermissionDenied
from board.extensions import db
from board.models import Role, User
from board.notify import services as notify
from board.notify.models import OutgoingMail

NEW_PASSWORD = "staff-password-horse-7"


def _changes(kind: str) -> list[AdminChange]:
    return list(
        db.session.scalars(
            select(AdminChange).where(AdminChange.kind == kind).order_by(AdminChange.id)
        )
    )


def _link_from_mail_file(app) -> str:
    """Deliver the queue to the file sink and read the invitation link out of the .eml."""
    notify.deliver(now=utcnow() + timedelta(minutes=1))  # the page queued it on the real clock
    files = sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    assert len(files) == 1, files
    mail = email.message_from_bytes(files[0].read_bytes())
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "邀请您开通工作人员账户" in str(make_header(decode_header(mail["Subject"])))
    found = re.search(r"https?://\S+/invite/(\S+)", body)
    assert found, body
    return found.group(0), found.group(1), mail["To"]


# ---------------------------------------------------------------------------------------------
# The list


def test_admin_lists_and_searches_accounts_masking_citizens(client, admin, handler, citizen):
    """Staff e-mails in full; citizens' e-mail and pen name masked; search finds by part or full."""
    login(client, admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert handler.email in page
    assert citizen.email not in page and "citizen" in page  # c***@example.org
    assert "陈明" not in page  # the pen name is masked for citizens as everywhere else
    found = client.get("/admin/users", query_string={"q": citizen.email}).get_data(as_text=True)
    assert f"/admin/users/{citizen.id}" in found and f"/admin/users/{handler.id}" not in found
    by_role = client.get("/admin/users", query_string={"role": "handler"}).get_data(as_text=True)
    assert f"/admin/users/{handler.id}" in by_role and f"/admin/users/{citizen.id}" not in by_role
    wild = client.get("/admin/users", query_string={"q": "%"}).get_data(as_text=True)
    assert "没有符合条件的账户" in wild  # LIKE wildcards are searched literally


@pytest.mark.parametrize("who", ["citizen", "handler", "coordinator", "moderator"])
def test_non_admins_cannot_use_the_account_pages(client, request, admin, who):
    """403 for every page and action, and nothing changes."""
    actor = request.getfixturevalue(who)
    login(client, actor)
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{admin.id}").status_code == 403
    # A role escalation attempt: making oneself admin.
    assert client.post(f"/admin/users/{actor.id}", data={"role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{admin.id}/disable").status_code == 403
    assert (
        client.post(
            "/admin/users/invite", data={"email": "x@example.org", "role": "admin"}
        ).status_code
        == 403
    )
    db.session.refresh(actor)
    assert actor.role == who
    assert db.session.scalar(select(AdminChange.id)) is None
    assert db.session.scalar(select(Invitation.id)) is None


# ---------------------------------------------------------------------------------------------
# Invitations


def test_invited_handler_sets_a_password_from_the_mailed_link_and_is_signed_in(app, client, admin):
    """Invite → the mail in the file sink → the link's page → password → signed in as handler."""
    login(client, admin)
    response = client.post(
        "/admin/users/invite",
        data={"email": "New.Handler@Example.org", "role": "handler", "unit": "330100-zj"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "new.handler@example.org" and invitation.unit.code == "330100-zj"
    assert invitation.expires_at == invitation.created_at + timedelta(days=7)
    assert "new.handler@example.org" in client.get("/admin/users").get_data(as_text=True)
    url, token, to = _link_from_mail_file(app)
    assert to == "new.handler@example.org"
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    [change] = _changes("invitation.create")
    assert change.actor_id == admin.id and token not in str(change.after)

    invitee = app.test_client()
    page = invitee.get(f"/invite/{token}")
    assert page.status_code == 200 and "new.handler@example.org" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # A role smuggled into the form is ignored: the invitation decides.
    done = invitee.post(
        f"/invite/{token}",
        data={
            "pen_name": "王工",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "role": "admin",
        },
    )
    assert done.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.handler@example.org"))
    assert user.role == Role.HANDLER and user.unit.code == "330100-zj" and user.pen_name == "王工"
    assert invitee.get("/desk/handler").status_code == 200  # signed in as a handler
    assert _changes("invitation.accept")[0].actor_id == user.id
    # Single use: the link is dead now, for the GET and the POST alike.
    again = app.test_client()
    assert again.get(f"/invite/{token}").status_code == 404
    reuse = again.post(
        f"/invite/{token}",
        data={"pen_name": "冒名", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert reuse.status_code == 404 and "邀请链接无效" in reuse.get_data(as_text=True)
    # And they can sign in with the password they chose.
    fresh = app.test_client()
    login(fresh, user, password=NEW_PASSWORD)


def test_expired_revoked_and_made_up_tokens_are_refused(app, client, admin):
    """After seven days, after a revocation, or a token never issued: 404, no account."""
    invitation, token = services.invite_staff(
        admin, email="late@example.org", role="moderator", now=T0
    )
    data = {"pen_name": "迟到", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    with pytest.raises(NotFound):
        services.accept_invitation(
            token, password=NEW_PASSWORD, pen_name="迟到", now=T0 + timedelta(days=7, seconds=1)
        )
    # The web page uses the real clock, years after T0: the link has expired there too.
    assert client.post(f"/invite/{token}", data=data).status_code == 404
    for made_up in ("x", "A" * 43, "长" * 300):
        assert client.get(f"/invite/{made_up}").status_code == 404
    assert client.get("/invite/%00").status_code == 400  # control characters never get that far
    _revoked, token2 = services.invite_staff(
        admin, email="gone@example.org", role="moderator", now=T0
    )
    services.revoke_invitation(admin, _revoked.id, now=T0 + timedelta(hours=1))
    with pytest.raises(NotFound):
        services.accept_invitation(token2, password=NEW_PASSWORD, pen_name="x", now=T0)
    assert (
        db.session.scalar(
            select(User).where(User.email.in_(["late@example.org", "gone@example.org"]))
        )
        is None
    )
    assert [c.kind for c in _changes("invitation.revoke")] == ["invitation.revoke"]


def test_a_new_invitation_revokes_the_earlier_one(admin):
    """Inviting the same address twice leaves only the newest link working."""
    first, token1 = services.invite_staff(
        admin, email="twice@example.org", role="moderator", now=T0
    )
    _second, token2 = services.invite_staff(
        admin, email="twice@example.org", role="moderator", now=T0 + timedelta(minutes=5)
    )
    with pytest.raises(NotFound):
        services.open_invitation(token1, now=T0 + timedelta(minutes=6))
    assert (
        services.open_invitation(token2, now=T0 + timedelta(minutes=6)).email == "twice@example.org"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "h@example.org", "role": "handler", "unit": ""}, "unit"),
        ({"email": "h@example.org", "role": "coordinator", "unit": "no-such"}, "unit"),
        ({"email": "h@example.org", "role": "citizen", "unit": ""}, "role"),
        ({"email": "not-an-address", "role": "moderator", "unit": ""}, "email"),
        ({"email": "x" * 300 + "@example.org", "role": "moderator", "unit": ""}, "email"),
        ({"email": "a\x00b@example.org", "role": "moderator", "unit": ""}, "email"),
        ({"email": "h@example.org", "role": "superuser", "unit": ""}, "role"),
    ],
)
def test_bad_invitations_store_nothing(client, admin, data, field):
    """A handler without a unit, a citizen 'invitation', a bad address: 4xx, no row, no mail."""
    login(client, admin)
    response = client.post("/admin/users/invite", data=data)
    assert response.status_code in (400, 422)
    assert db.session.scalar(select(Invitation.id)) is None
    assert db.session.scalar(select(OutgoingMail.id)) is None


def test_inviting_an_existing_account_is_refused(client, admin, citizen):
    """Existing accounts get a new role on their page instead."""
    login(client, admin)
    response = client.post(
        "/admin/users/invite", data={"email": citizen.email.upper(), "role": "moderator"}
    )
    assert response.status_code == 422 and "该邮箱已有账户" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        {"pen_name": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"pen_name": "名" * 41, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"pen_name": "王\u202e工", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        {"pen_name": "王工", "password": "short", "confirm": "short"},
        {"pen_name": "王工", "password": "password123", "confirm": "password123"},
        {"pen_name": "王工", "password": NEW_PASSWORD, "confirm": "different"},
    ],
)
def test_a_bad_password_or_name_keeps_the_link_open(client, admin, data):
    """422 with the form again; the invitation stays usable."""
    invitation, token = services.invite_staff(
        admin, email="again@example.org", role="moderator", now=T0
    )
    invitation.expires_at = T0 + timedelta(days=36500)  # the page reads the real clock
    db.session.commit()
    response = client.post(f"/invite/{token}", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.email == "again@example.org")) is None
    assert client.get(f"/invite/{token}").status_code == 200


# ---------------------------------------------------------------------------------------------
# Roles, units, disabling, signing out


def test_admin_makes_a_citizen_a_coordinator_only_with_a_unit(client, admin, citizen):
    """Without a unit the change is refused; with one it is saved and logged with before/after."""
    login(client, admin)
    refused = client.post(f"/admin/users/{citizen.id}", data={"role": "coordinator", "unit": ""})
    assert refused.status_code == 422 and "必须属于一个单位" in refused.get_data(as_text=True)
    db.session.refresh(citizen)
    assert citizen.role == Role.CITIZEN
    ok = client.post(
        f"/admin/users/{citizen.id}", data={"role": "coordinator", "unit": "330100-jt"}
    )
    assert ok.status_code == 302
    db.session.refresh(citizen)
    assert citizen.role == Role.COORDINATOR and citizen.unit.code == "330100-jt"
    [change] = _changes("user.role")
    assert change.before == {"role": "citizen", "unit": None}
    assert change.after == {"role": "coordinator", "unit": "330100-jt"}
    # Back to moderator: the unit goes with the role.
    client.post(f"/admin/users/{citizen.id}", data={"role": "moderator", "unit": "330100-jt"})
    db.session.refresh(citizen)
    assert citizen.role == Role.MODERATOR and citizen.unit is None


def test_admins_cannot_change_or_disable_themselves(admin, handler):
    """Self-demotion and self-disabling are refused, so an admin always remains."""
    with pytest.raises(PermissionDenied):
        services.change_role(admin, admin, role="citizen", now=T0)
    with pytest.raises(PermissionDenied):
        services.set_active(admin, admin, active=False, now=T0)
    second = db.session.get(User, handler.id)
    services.change_role(admin, second, role="admin", now=T0)
    services.change_role(second, admin, role="moderator", now=T0)  # two admins: allowed
    with pytest.raises(PermissionDenied):
        services.change_role(admin, second, role="citizen", now=T0)  # no longer an admin
    with pytest.raises(PermissionDenied):
        services.change_role(second, second, role="citizen", now=T0)


def test_disable_signs_out_and_blocks_sign_in_until_enabled(app, client, admin, handler):
    """A disabled account's open session ends and its password stops working; enabling restores it."""
    theirs = app.test_client()
    login(theirs, handler)
    assert theirs.get("/desk/handler").status_code == 200
    login(client, admin)
    assert client.post(f"/admin/users/{handler.id}/disable").status_code == 302
    assert theirs.get("/desk/handler").status_code == 302  # session over
    refused = app.test_client().post("/login", data={"email": handler.email, "password": PASSWORD})
    assert refused.status_code != 302
    assert client.post(f"/admin/users/{handler.id}/enable").status_code == 302
    login(app.test_client(), handler)
    assert [c.kind for c in db.session.scalars(select(AdminChange).order_by(AdminChange.id))] == [
        "user.disable",
        "user.enable",
    ]


def test_sign_out_everywhere_ends_every_session_but_not_the_password(app, client, admin, handler):
    """Two browsers signed in; after the admin's action both are signed out; a new sign-in works."""
    phone, laptop = app.test_client(), app.test_client()
    login(phone, handler)
    login(laptop, handler)
    login(client, admin)
    assert client.post(f"/admin/users/{handler.id}/sign-out").status_code == 302
    assert phone.get("/desk/handler").status_code == 302
    assert laptop.get("/desk/handler").status_code == 302
    login(app.test_client(), handler)
    [change] = _changes("user.sign_out")
    assert change.after["session_version"] == change.before["session_version"] + 1


def test_user_page_shows_the_changes_and_refuses_unknown_ids(client, admin, handler):
    """The account page lists its log entries; an unknown id is 404."""
    login(client, admin)
    client.post(f"/admin/users/{handler.id}/sign-out")
    page = client.get(f"/admin/users/{handler.id}").get_data(as_text=True)
    assert "user.sign_out" in page
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get(f"/admin/users/{admin.id}").status_code == 200  # own page: no forms


def test_another_admins_csrf_token_is_refused(app, client, admin, make_user, handler):
    """With CSRF on, a token taken from a second admin's session does not work in this one."""
    other_admin = make_user(Role.ADMIN)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        theirs = app.test_client()
        login_with_csrf(theirs, other_admin)
        page = theirs.get(f"/admin/users/{handler.id}").get_data(as_text=True)
        stolen = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        login_with_csrf(client, admin)
        response = client.post(f"/admin/users/{handler.id}/disable", data={"csrf_token": stolen})
        db.session.refresh(handler)
        assert handler.is_active_account
        assert response.status_code in (302, 400)
        # The right token works (the control case).
        mine = client.get(f"/admin/users/{handler.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', mine).group(1)
        client.post(f"/admin/users/{handler.id}/disable", data={"csrf_token": token})
        db.session.refresh(handler)
        assert not handler.is_active_account
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def login_with_csrf(client, user) -> None:
    """Sign in through the login form, carrying its CSRF token."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_the_database_refuses_a_handler_without_a_unit(app, handler):
    """The backstop under the services: a handler row without a unit does not commit."""
    from sqlalchemy.exc import IntegrityError

    handler.unit_id = None
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(User, handler.id).unit_id is not None
