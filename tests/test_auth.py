"""Registration, sign-in and sign-out through the web forms."""

from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, login
from sqlalchemy import func, select

from board.extensions import db
from board.models import Role, User

GOOD = {
    "email": "wang.fang@example.org",
    "password": "long-enough-secret",
    "confirm": "long-enough-secret",
    "pen_name": "王芳",
    "phone": "13700001111",
}


def _local_path(response) -> str:
    """The redirect target's path, after checking it stays on this site."""
    location = urlsplit(response.headers["Location"])
    assert location.scheme in ("", "http") and location.netloc in ("", "localhost")
    return location.path + (f"?{location.query}" if location.query else "")


def test_register_creates_citizen_and_signs_in(client, directory):
    """A good registration opens a citizen account and signs the new user in."""
    response = client.post("/register", data=GOOD)

    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "wang.fang@example.org"))
    assert user.role == Role.CITIZEN and user.pen_name == "王芳" and user.phone == "13700001111"
    assert "注册成功" in client.get("/").get_data(as_text=True)
    assert client.get("/my").status_code == 200


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"password": "short", "confirm": "short"}, "密码至少 8 位"),
        ({"email": "not-an-address"}, "邮箱地址无效"),
        ({"confirm": "something-else"}, "两次输入的密码不一致"),
        ({"pen_name": ""}, "请填写网名"),
    ],
)
def test_register_errors_are_shown_and_values_kept(client, directory, changes, error):
    """A failed registration explains the problem next to the field and keeps what was typed."""
    response = client.post("/register", data={**GOOD, **changes})
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert error in page
    if changes.get("pen_name", "x"):
        assert 'value="王芳"' in page
    assert 'value="13700001111"' in page
    assert "long-enough-secret" not in page
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_register_duplicate_email_refused(client, citizen):
    """An address that already has an account (in any case) cannot register again."""
    response = client.post("/register", data={**GOOD, "email": citizen.email.upper()})
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "该邮箱已注册" in page
    assert 'value="王芳"' in page
    assert "long-enough-secret" not in page


def test_login_with_good_password_signs_in(client, citizen):
    """Right e-mail and password sign in and go home."""
    response = login(client, citizen)

    assert _local_path(response) == "/"
    assert "已登录" in client.get("/").get_data(as_text=True)
    assert client.get("/my").status_code == 200


def test_login_with_bad_password_is_refused_and_email_kept(client, citizen):
    """A wrong password shows an error, keeps the e-mail and never echoes the password."""
    response = client.post("/login", data={"email": citizen.email, "password": "wrong-guess-123"})
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "邮箱或密码不正确" in page
    assert f'value="{citizen.email}"' in page
    assert "wrong-guess-123" not in page
    assert client.get("/my").status_code == 302


def test_login_honours_local_next(client, citizen):
    """A `next` path on this site is where sign-in leads."""
    response = client.post(
        "/login?next=/m/MS-2026-ABCDEF", data={"email": citizen.email, "password": PASSWORD}
    )

    assert _local_path(response) == "/m/MS-2026-ABCDEF"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:evil"]
)
def test_login_refuses_open_redirect(client, citizen, target):
    """A `next` pointing off the site is ignored: sign-in leads home."""
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": citizen.email, "password": PASSWORD},
    )

    assert _local_path(response) == "/"


def test_login_form_carries_next_through_hidden_field(client, citizen):
    """The login page keeps a local `next` in the form and drops an offsite one."""
    local = client.get("/login?next=/my").get_data(as_text=True)
    offsite = client.get("/login?next=https://evil.example/").get_data(as_text=True)

    assert 'name="next" type="hidden" value="/my"' in local
    assert 'name="next" type="hidden" value=""' in offsite


def test_login_starts_a_fresh_session(client, citizen):
    """Signing in clears whatever the session held before (no session fixation)."""
    with client.session_transaction() as session:
        session["planted"] = "by-someone-else"

    login(client, citizen)

    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id") == citizen.get_id()


def test_logout_needs_post(client, citizen):
    """GET cannot sign anyone out; POST does."""
    login(client, citizen)

    assert client.get("/logout").status_code == 405
    assert client.get("/my").status_code == 200

    response = client.post("/logout")
    assert _local_path(response) == "/"
    assert client.get("/my").status_code == 302


def test_disabled_account_cannot_sign_in(client, citizen):
    """An account switched off by an admin is refused like a wrong password."""
    citizen.is_active_account = False
    db.session.commit()

    response = client.post("/login", data={"email": citizen.email, "password": PASSWORD})

    assert response.status_code == 422
    assert "邮箱或密码不正确" in response.get_data(as_text=True)
