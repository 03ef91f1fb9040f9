"""/admin/units: create and edit units, their published contact phone, moving staff; all audited.

The forms' CSRF protection is checked with every other form in `test_security.py`.
"""

from __future__ import annotations

import flask_babel
import pytest
from conftest import T0, login, unit
from sqlalchemy import select

from board.admin import services
from board.admin.models import AdminChange
from board.errors import PermissionDenied, ValidationFailed
from board.extensions import db
from board.models import Role, User
from board.privacy import public_text


def _form(phone: str = "", **changes) -> dict:
    """The edit form of 杭州市住房和城乡建设局 as the page fills it, with `changes`."""
    data = {
        "name": "杭州市住房和城乡建设局",
        "region": "330100",
        "parent": "",
        "email": "",
        "contact_phone": phone,
    }
    data.update(changes)
    return data


def _changes(kind: str) -> list[AdminChange]:
    return list(
        db.session.scalars(
            select(AdminChange).where(AdminChange.kind == kind).order_by(AdminChange.id)
        )
    )


@pytest.mark.parametrize("path", ["/admin/units", "/admin/units/330100-zj", "/admin/units/new"])
def test_unit_pages_are_for_admins_only(client, coordinator, handler, admin, path):
    """Anonymous → login; staff who are not admins → 403; admins → 200."""
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for user in (coordinator, handler):
        other = client.application.test_client()
        login(other, user)
        assert other.get(path).status_code == 403
        if path != "/admin/units":
            assert (
                other.post(path, data=_form("0571-87654321", code="330100-xx")).status_code == 403
            )
    login(client, admin)
    assert client.get(path).status_code == 200
    assert unit("330100-zj").contact_phone is None
    assert db.session.scalar(select(AdminChange.id)) is None


def test_admin_sets_a_phone_shown_on_the_unit_page_and_kept_in_replies(client, admin, make_message):
    """The saved number is on the unit page, in the change log, and readable in public text."""
    m = make_message("replied", body="物业多收停车费，我的手机13812345678，请联系。")
    login(client, admin)
    assert "0571-87654321" not in client.get("/units/330100-zj").get_data(as_text=True)
    assert public_text(m, "李先生0571-87654321") == "李先生0571-****4321"
    response = client.post("/admin/units/330100-zj", data=_form("0571-87654321"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/units")
    assert unit("330100-zj").contact_phone == "0571-87654321"
    [change] = _changes("unit.update")
    assert change.actor_id == admin.id and change.target == "330100-zj"
    assert (
        change.before["contact_phone"] is None and change.after["contact_phone"] == "0571-87654321"
    )
    assert "0571-87654321" in client.get("/admin/units").get_data(as_text=True)
    page = client.get("/units/330100-zj").get_data(as_text=True)
    assert "data-contact-phone>0571-87654321<" in page
    # Readable at once in public text (the cache forgets on change); a citizen's mobile is not.
    assert public_text(m, "李先生0571-87654321") == "李先生0571-87654321"
    assert public_text(m, "家里（0571）8765 4321") == "家里（0571）8765 4321"
    assert public_text(m, "已回电13812345678") == "已回电138****5678"
    # Clearing it masks the number again.
    client.post("/admin/units/330100-zj", data=_form(""))
    assert unit("330100-zj").contact_phone is None
    assert public_text(m, "李先生0571-87654321") == "李先生0571-****4321"
    assert len(_changes("unit.update")) == 2


@pytest.mark.parametrize(
    "phone", ["abc123", "0571-8765432a", "=1+2", "12", "1" * 41, "87654321", "0571\x0087654321"]
)
def test_invalid_phones_are_refused_in_both_languages(client, admin, phone):
    """Letters, formulas, too short, no area code, control characters: refused, nothing stored."""
    login(client, admin)
    response = client.post("/admin/units/330100-zj", data=_form(phone))
    assert response.status_code in (400, 422)
    if response.status_code == 422:
        assert "请填写有效的电话号码" in response.get_data(as_text=True) or len(phone) > 40
    assert unit("330100-zj").contact_phone is None
    client.get("/lang/en?next=/")
    flask_babel.refresh()  # the test's app context outlives requests; so would the locale
    english = client.post("/admin/units/330100-zj", data=_form(phone))
    assert english.status_code in (400, 422)
    if english.status_code == 422:
        assert "Enter a valid phone number" in english.get_data(as_text=True) or len(phone) > 40
    assert db.session.scalar(select(AdminChange.id)) is None


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("12345", "12345"),
        ("95598", "95598"),
        ("0571-87654321 转 802", "0571-87654321转802"),
        ("(0571)87654321", "0571-87654321"),
        ("＋86 139 1234 5678", "13912345678"),
        ("400-820-8820", "400-820-8820"),
    ],
)
def test_usual_forms_are_accepted(client, admin, make_message, phone, stored):
    """Landlines and mobiles are stored as phones.py spells them; hotlines and 400 numbers as
    written; the number stays readable in public text however it is quoted."""
    m = make_message("approved")
    login(client, admin)
    assert client.post("/admin/units/330100-zj", data=_form(phone)).status_code == 302
    assert unit("330100-zj").contact_phone == stored
    quoted = f"张先生 {phone.split(' 转')[0]}"
    assert public_text(m, quoted) == quoted


def test_admin_creates_a_unit_under_a_parent_and_edits_it(client, admin):
    """A new unit appears on its public page; its parent, region and e-mail are kept; logged."""
    login(client, admin)
    response = client.post(
        "/admin/units/new",
        data=_form(
            "0571-85252345",
            code="330100-WJ",
            name="杭州市物价检查所",
            parent="330100-zj",
            email="WJ@Hangzhou.gov.cn",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    created = unit("330100-wj")
    assert created.name == "杭州市物价检查所" and created.parent.code == "330100-zj"
    assert created.email == "wj@hangzhou.gov.cn" and created.contact_phone == "0571-85252345"
    assert client.get("/units/330100-wj").status_code == 200
    [change] = _changes("unit.create")
    assert change.before is None and change.after["parent"] == "330100-zj"
    # The parent cannot become its own child's child.
    cycle = client.post("/admin/units/330100-zj", data=_form(parent="330100-wj"))
    assert cycle.status_code == 422 and "上级单位不能是本单位或其下级" in cycle.get_data(
        as_text=True
    )
    assert unit("330100-zj").parent is None
    # The code is checked and unique.
    for code in ("330100-wj", "hz-wj", "330100-<b>", "9" * 40):
        again = client.post("/admin/units/new", data=_form(code=code, name="重复"))
        assert again.status_code == 422
    assert len(_changes("unit.create")) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "长" * 121),
        ("name", "单位\u202e名称"),
        ("region", "999999"),
        ("parent", "no-such-unit"),
        ("email", "not an address"),
    ],
)
def test_bad_unit_fields_store_nothing(client, admin, field, value):
    """Each refused field gives 422 with the form again, and nothing changes."""
    login(client, admin)
    response = client.post("/admin/units/330100-zj", data=_form(**{field: value}))
    assert response.status_code == 422
    assert unit("330100-zj").name == "杭州市住房和城乡建设局"
    assert db.session.scalar(select(AdminChange.id)) is None


def test_admin_moves_a_handler_to_another_unit(client, admin, handler):
    """The handler then works for the new unit; the move is logged; citizens cannot be moved."""
    login(client, admin)
    page = client.get("/admin/units/330100-zj").get_data(as_text=True)
    assert handler.email in page
    response = client.post(f"/admin/units/330100-zj/staff/{handler.id}", data={"unit": "330100-jt"})
    assert response.status_code == 302
    db.session.refresh(handler)
    assert handler.unit.code == "330100-jt"
    [change] = _changes("user.unit")
    assert change.before == {"unit": "330100-zj"} and change.after == {"unit": "330100-jt"}
    # Moving them again through the old unit's page: they are not staff of it any more.
    assert (
        client.post(
            f"/admin/units/330100-zj/staff/{handler.id}", data={"unit": "330106-zj"}
        ).status_code
        == 404
    )
    # An unknown target unit is refused with a message.
    client.post(f"/admin/units/330100-jt/staff/{handler.id}", data={"unit": "nope"})
    db.session.refresh(handler)
    assert handler.unit.code == "330100-jt"


def test_only_admins_move_staff_through_the_service(app, handler, coordinator, citizen):
    """The service checks the role itself, and only handlers and coordinators belong to units."""
    with pytest.raises(PermissionDenied):
        services.move_staff(coordinator, handler, "330100-jt", now=T0)
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    assert admin is None
    from board.auth.services import create_user

    boss = create_user("boss@example.org", Role.ADMIN, password="correct-horse-battery-9", now=T0)
    with pytest.raises(ValidationFailed):
        services.move_staff(boss, citizen, "330100-jt", now=T0)
