"""Hostile input to every admin form of issue 18 (accounts, invitations, units, boards, reason
codes, the change log's filters, the invitation page): never a 500, and refused input stores
nothing — no row and no change-log entry."""

from __future__ import annotations

import pytest
from conftest import login
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_hostile_input import HEAVY, HYPOTHESIS, RAW, TEXT, not_5xx

from board.admin import services
from board.admin.models import AdminChange, Invitation
from board.clock import utcnow
from board.extensions import db
from board.models import Board, ReasonCode, Unit, User


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (AdminChange, Invitation, Unit, Board, ReasonCode, User)
    )


@pytest.fixture
def admin_client(app, admin):
    """A client with the admin signed in."""
    client = app.test_client()
    login(client, admin)
    return client


def _posted(client, url: str, data: dict) -> None:
    """Post hostile data; a refusal (anything but a redirect) must leave every table as it was."""
    before = _counts()
    response = client.post(url, data=data)
    not_5xx(response)
    if response.status_code != 302:
        assert response.status_code in (200, 400, 404, 422), response.status_code
        assert _counts() == before


@HEAVY
@given(email=TEXT, role=TEXT, unit=TEXT)
def test_invite_form_never_500(admin_client, email, role, unit):
    """Hostile invitations: a form again, or (valid by chance) an invitation."""
    _posted(admin_client, "/admin/users/invite", {"email": email, "role": role, "unit": unit})


@HEAVY
@given(role=st.one_of(TEXT, st.sampled_from(["admin", "handler", "coordinator"])), unit=TEXT)
def test_role_form_never_500(admin_client, handler, role, unit):
    """Role escalation or junk on another account's page: only valid roles with units stick."""
    _posted(admin_client, f"/admin/users/{handler.id}", {"role": role, "unit": unit})
    db.session.refresh(handler)
    assert handler.role in ("handler", "coordinator", "admin", "citizen", "moderator")
    assert handler.role not in ("handler", "coordinator") or handler.unit is not None


@HEAVY
@given(values=st.fixed_dictionaries({k: TEXT for k in ("name", "region", "parent", "email",
                                                        "contact_phone")}))  # fmt: skip
def test_unit_forms_never_500(admin_client, values):
    """Hostile unit edits and new units."""
    _posted(admin_client, "/admin/units/330100-zj", values)
    _posted(admin_client, "/admin/units/new", {**values, "code": values["name"]})


@HEAVY
@given(values=st.fixed_dictionaries({k: TEXT for k in ("code", "region", "post", "title",
                                                        "office", "holder_name", "started_on")}))  # fmt: skip
def test_board_forms_never_500(admin_client, values):
    """Hostile boards and holders."""
    _posted(admin_client, "/admin/boards", values)
    _posted(admin_client, "/admin/boards/330100-secretary", values)


@HEAVY
@given(values=st.fixed_dictionaries({k: TEXT for k in ("use", "slug", "label", "label_en",
                                                        "description", "sort")}))  # fmt: skip
def test_reason_code_forms_never_500(admin_client, values):
    """Hostile reasons, new and edited."""
    _posted(admin_client, "/admin/reason-codes", values)
    _posted(admin_client, "/admin/reason-codes/hide:privacy_leak", values)


@HYPOTHESIS
@given(kind=TEXT, actor=TEXT, target=TEXT, q=TEXT, page=TEXT)
def test_admin_lists_filters_never_500(admin_client, kind, actor, target, q, page):
    """The change log's and the account list's filters take anything."""
    query = {"kind": kind, "actor": actor, "target": target, "page": page}
    not_5xx(admin_client.get("/admin/audit", query_string=query))
    not_5xx(admin_client.get("/admin/users", query_string={"q": q, "role": kind, "page": page}))
    not_5xx(admin_client.get("/admin/boards", query_string={"region": q}))


@HEAVY
@given(token=TEXT, pen_name=TEXT, password=TEXT)
def test_invitation_page_never_500(app, admin, token, pen_name, password):
    """Made-up tokens and hostile names and passwords on a real link: no junk account."""
    client = app.test_client()
    not_5xx(client.get("/invite/" + (token.replace("/", "") or "x")))
    invitation, real = services.invite_staff(
        admin, email=f"h{_counts()[1]}@example.org", role="moderator", now=utcnow()
    )
    data = {"pen_name": pen_name, "password": password, "confirm": password}
    before = db.session.scalar(select(func.count(User.id)))
    response = client.post(f"/invite/{real}", data=data)
    not_5xx(response)
    if response.status_code != 302:
        assert db.session.scalar(select(func.count(User.id))) == before


@HYPOTHESIS
@given(raw=RAW)
def test_admin_forms_with_invalid_utf8_bytes(admin_client, raw):
    """Bytes that are not UTF-8 in an admin form body are a 4xx, never a 500, never stored."""
    for url in ("/admin/users/invite", "/admin/units/new", "/admin/boards", "/admin/reason-codes"):
        before = _counts()
        response = admin_client.post(
            url,
            data=b"email=" + raw + b"&name=" + raw + b"&code=" + raw + b"&label=" + raw,
            content_type="application/x-www-form-urlencoded",
        )
        not_5xx(response)
        assert _counts() == before


def test_huge_page_numbers_are_clamped_not_500(admin_client):
    """`?page=` past a 64-bit OFFSET is clamped (board/paging.py), never an OverflowError."""
    from board.paging import MAX_PAGE, page_arg

    huge = "9" * 20
    for url in ("/admin/audit", "/admin/access-log", "/admin/users", "/admin/regions"):
        response = admin_client.get(url, query_string={"page": huge})
        assert response.status_code == 200, url
    for raw, want in [(huge, MAX_PAGE), ("-5", 1), ("x", 1), ("3", 3), ("", 1)]:
        with admin_client.application.test_request_context(f"/?page={raw}"):
            assert page_arg() == want
