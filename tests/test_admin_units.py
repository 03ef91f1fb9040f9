"""Units' published contact phones: the admin list and form, the unit page, and the masking.

The form's CSRF protection is checked with every other form in `test_security.py`.
"""

from __future__ import annotations

import logging

import flask_babel
import pytest
from conftest import login, unit

from board.privacy import public_text


@pytest.mark.parametrize("path", ["/admin/units", "/admin/units/330100-zj"])
def test_unit_pages_are_for_admins_only(client, coordinator, handler, admin, path):
    """Anonymous → login; staff who are not admins → 403; admins → 200."""
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for user in (coordinator, handler):
        other = client.application.test_client()
        login(other, user)
        assert other.get(path).status_code == 403
        if path != "/admin/units":
            assert other.post(path, data={"contact_phone": "0571-1"}).status_code == 403
    login(client, admin)
    assert client.get(path).status_code == 200
    assert unit("330100-zj").contact_phone is None


def test_admin_sets_a_phone_shown_on_the_unit_page_and_kept_in_replies(
    client, admin, make_message, caplog
):
    """The saved number is on the unit page, logged for audit, and readable in public text."""
    m = make_message("replied", body="物业多收停车费，我的手机13812345678，请联系。")
    login(client, admin)
    assert "0571-87654321" not in client.get("/units/330100-zj").get_data(as_text=True)
    assert public_text(m, "李先生0571-87654321") == "李先生0571-****4321"
    with caplog.at_level(logging.INFO):
        response = client.post("/admin/units/330100-zj", data={"contact_phone": "0571-87654321"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/units")
    assert unit("330100-zj").contact_phone == "0571-87654321"
    assert any(
        "330100-zj" in r.getMessage() and "0571-87654321" in r.getMessage() for r in caplog.records
    )
    assert "0571-87654321" in client.get("/admin/units").get_data(as_text=True)
    page = client.get("/units/330100-zj").get_data(as_text=True)
    assert "data-contact-phone>0571-87654321<" in page
    # Readable at once in public text (the cache forgets on change); a citizen's mobile is not.
    assert public_text(m, "李先生0571-87654321") == "李先生0571-87654321"
    assert public_text(m, "家里（0571）8765 4321") == "家里（0571）8765 4321"
    assert public_text(m, "已回电13812345678") == "已回电138****5678"
    # Clearing it masks the number again.
    client.post("/admin/units/330100-zj", data={"contact_phone": ""})
    assert unit("330100-zj").contact_phone is None
    assert public_text(m, "李先生0571-87654321") == "李先生0571-****4321"


@pytest.mark.parametrize("phone", ["abc123", "0571-8765432a", "=1+2", "12", "1" * 41])
def test_invalid_phones_are_refused_in_both_languages(client, admin, phone):
    login(client, admin)
    response = client.post("/admin/units/330100-zj", data={"contact_phone": phone})
    assert response.status_code == 422
    assert "请填写有效的电话号码" in response.get_data(as_text=True) or len(phone) > 40
    assert unit("330100-zj").contact_phone is None
    client.get("/lang/en?next=/")
    flask_babel.refresh()  # the test's app context outlives requests; so would the locale
    english = client.post("/admin/units/330100-zj", data={"contact_phone": phone})
    assert english.status_code == 422
    assert "Enter a valid phone number" in english.get_data(as_text=True) or len(phone) > 40


@pytest.mark.parametrize(
    "phone", ["12345", "0571-87654321 转 802", "(0571)87654321", "400-820-8820"]
)
def test_usual_forms_are_accepted(client, admin, make_message, phone):
    """Hotlines, extensions, brackets, service numbers; the number stays readable as written."""
    m = make_message("approved")
    login(client, admin)
    assert client.post("/admin/units/330100-zj", data={"contact_phone": phone}).status_code == 302
    assert unit("330100-zj").contact_phone == phone
    quoted = f"张先生 {phone.split(' 转')[0]}"
    assert public_text(m, quoted) == quoted
