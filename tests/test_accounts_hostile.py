"""Hostile input to the account routes: mailed-link tokens, reset requests, password and e-mail
changes never give a 500 and never change the account."""

from __future__ import annotations

from urllib.parse import quote

from conftest import login
from hypothesis import given
from sqlalchemy import func, select
from test_hostile_input import HEAVY, HYPOTHESIS, TEXT, not_5xx

from board.extensions import db
from board.models import User
from board.models.accounts import AccountToken, UserSession
from board.notify.models import OutgoingMail


@HYPOTHESIS
@given(token=TEXT)
def test_mailed_link_tokens_never_500_and_use_nothing(app, citizen, token):
    """Any token in a verification or reset link is refused without side effects."""
    client = app.test_client()
    path = quote(token, safe="") or "x"
    for url in (f"/verify-email/{path}", f"/reset-password/{path}"):
        not_5xx(client.get(url))
        answer = client.post(url, data={"password": token, "confirm": token})
        not_5xx(answer)
        assert answer.status_code != 303  # 303 would mean the link was used
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0


@HYPOTHESIS
@given(address=TEXT)
def test_reset_requests_with_hostile_addresses_never_500(app, citizen, address):
    """Whatever is typed as the address, the answer is a page and no stranger gets mail."""
    client = app.test_client()
    not_5xx(client.post("/reset-password", data={"email": address}))
    recipients = set(db.session.scalars(select(OutgoingMail.recipient)))
    assert recipients <= {citizen.email}


@HEAVY
@given(current=TEXT, new=TEXT, address=TEXT)
def test_password_and_email_changes_with_hostile_values_change_nothing(
    app, citizen, current, new, address
):
    """Without the right current password nothing about the account changes."""
    client = app.test_client()
    login(client, citizen)
    db.session.expire_all()
    before = (citizen.password_hash, citizen.email, citizen.session_version)
    not_5xx(
        client.post(
            "/account/password",
            data={"current_password": current, "password": new, "confirm": new},
        )
    )
    not_5xx(client.post("/account/email", data={"email": address, "current_password": current}))
    not_5xx(client.post(f"/account/sessions/{quote(address, safe='') or '0'}/end"))
    db.session.expire_all()
    user = db.session.get(User, citizen.id)
    assert (user.password_hash, user.email, user.session_version) == before
    assert (
        db.session.scalar(select(func.count(UserSession.id)).where(UserSession.ended_at.is_(None)))
        >= 1
    )


@HYPOTHESIS
@given(pen_name=TEXT, real_name=TEXT, phone=TEXT, address=TEXT, locale=TEXT)
def test_profile_with_hostile_values_never_500(
    app, citizen, pen_name, real_name, phone, address, locale
):
    """The profile form answers hostile values with the form again; a save keeps only what
    passed (a valid phone, a known language)."""
    client = app.test_client()
    login(client, citizen)
    data = {"pen_name": pen_name, "real_name": real_name, "phone": phone, "address": address,
            "locale": locale}  # fmt: skip
    response = client.post("/account", data=data)
    not_5xx(response)
    db.session.expire_all()
    user = db.session.get(User, citizen.id)
    assert user.locale in ("zh_CN", "en")
    if response.status_code != 303:
        assert (user.pen_name, user.phone) == ("陈明", "13912345678")


ROW_ID_ROUTES = (
    "/account/sessions/{}/end",
    "/account/tokens/{}/revoke",
    "/account/searches/{}/delete",
)


def test_row_ids_beyond_any_integer_column_are_404_not_500(app, citizen, admin):
    """An id no integer column can hold (0, 2**31, 10**26) matches no route: 404, never a
    database error (PostgreSQL refuses it with "integer out of range"), and the next request
    on the same connection still works."""
    client = app.test_client()
    login(client, citizen)
    for route in ROW_ID_ROUTES:
        for row_id in (0, 2**31, 10**26):
            assert client.post(route.format(row_id)).status_code == 404, (route, row_id)
    assert client.get("/account/sessions").status_code == 200
    staff = app.test_client()
    login(staff, admin)
    assert staff.get(f"/admin/users/{10**26}").status_code == 404
    assert staff.get(f"/admin/users/{admin.id}").status_code == 200


def test_every_row_id_in_a_route_is_bounded(app):
    """Every URL argument naming a row (`…_id`) goes through the bounded `id` converter."""
    from board import RowIdConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith("_id"):
                assert isinstance(converter, RowIdConverter), (rule.rule, name)
