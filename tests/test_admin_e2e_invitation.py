"""The invitation journey in a real browser against gunicorn: the admin invites a handler, the
mail lands in the file sink, the invitee opens its link, sets a password and is signed in.

Both journeys share one site (each invites an address of its own): starting gunicorn, the
indexer and the seed costs ~15 s of CPU a site."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import PASSWORD
from e2e_server import CHROMIUM, SEED_SCRIPT, flask, headless_chromium, running_site, sink_mail

pytestmark = pytest.mark.slow
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

SEED = (
    SEED_SCRIPT
    + """
with app.app_context():
    create_user("admin@e2e.example.org", "admin", password=conftest.PASSWORD, pen_name="admin",
                now=utcnow())
"""
)


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory):
    """The site both journeys use, and the folder it keeps its database and mail in."""
    folder = tmp_path_factory.mktemp("site")
    with running_site(folder, seed=SEED) as url:
        yield url, folder


def _tick_and_read_link(folder: Path, address: str) -> str:
    """Run the cron job (mail to .eml files in instance/mail); the path of the link mailed to
    `address`, which got exactly one invitation."""
    flask(folder, "deadlines", "tick")
    [mail] = sink_mail(folder, address, "invitation")
    return re.search(r"https?://[^/\s]+(/invite/\S+)", mail.get_content()).group(1)


class _Browserless:
    """A cookie-keeping HTTP client that posts forms with their CSRF token, as a browser would."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        """GET a page: (status, html)."""
        try:
            with self.opener.open(self.site + path) as response:  # noqa: S310 (loopback)
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def submit(self, page: str, form_action: str, fields: dict) -> tuple[int, str]:
        """POST `fields` to `form_action` with the CSRF token of that form on `page`."""
        _status, html = self.get(page)
        form = re.search(rf'action="{re.escape(form_action)}".*?</form>', html, re.S).group(0)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.site + form_action, data) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_invitation_journey_against_gunicorn_without_a_browser(shared_site):
    """The same journey over HTTP (CSRF on, real sessions), where no Chromium is installed."""
    site, folder = shared_site
    address = "http.handler@e2e.example.org"
    admin = _Browserless(site)
    admin.submit("/login", "/login", {"email": "admin@e2e.example.org", "password": PASSWORD})
    status, html = admin.submit(
        "/admin/users",
        "/admin/users/invite",
        {"email": address, "role": "handler", "unit": "330100-zj"},
    )
    assert status == 200 and address in html
    path = _tick_and_read_link(folder, address)
    invitee = _Browserless(site)
    password = "staff-password-horse-7"
    fields = {"pen_name": "王工", "password": password, "confirm": password}
    status, _html = invitee.submit(path, path, fields)
    assert status == 200
    status, html = invitee.get("/desk/handler")
    assert status == 200 and 'name="password"' not in html  # the desk, not the login form
    assert invitee.get(path)[0] == 404  # spent
    assert 'name="password"' in _Browserless(site).get("/desk/handler")[1]  # a stranger


@needs_chromium
def test_invite_then_open_the_mailed_link_and_sign_in_as_handler(shared_site):
    """Invite → `flask deadlines tick` writes the .eml → open its link → password → handler desk."""
    site, folder = shared_site
    with headless_chromium() as browser:
        admin = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = admin.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{site}/login")
        page.fill("input[name=email]", "admin@e2e.example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.form button[type=submit], form.form input[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{site}/admin/users")
        page.fill("#email", "new.handler@e2e.example.org")
        page.select_option("#role", "handler")
        page.fill("#unit", "330100-zj")
        page.click("form[action$='/admin/users/invite'] button[type=submit]")
        page.wait_for_load_state()
        assert "new.handler@e2e.example.org" in page.content()

        path = _tick_and_read_link(folder, "new.handler@e2e.example.org")

        invitee = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = invitee.new_page()
        page.set_default_timeout(20_000)
        page.goto(site + path)
        assert "new.handler@e2e.example.org" in page.content()
        page.fill("#pen_name", "王工")
        page.fill("#password", "staff-password-horse-7")
        page.fill("#confirm", "staff-password-horse-7")
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{site}/desk/handler")
        assert "/login" not in page.url and page.url.endswith("/desk/handler")
        # The link is spent.
        again = invitee.new_page()
        assert again.goto(site + path).status == 404
