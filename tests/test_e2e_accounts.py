"""Account journeys in a real browser against gunicorn, with the mail the cron job sends:
register → the verification link from the file sink → sign in → forgot password → the reset link
→ sign in with the new password → delete the account; and follow a message → its author gets a
reply → the follower's mail reaches a real SMTP server.

The journeys share one site and one browser (each with accounts of its own): starting gunicorn,
the indexer and the seed costs ~15 s of CPU a site."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from browser_pass import check_page
from conftest import PASSWORD
from e2e_server import (
    CHROMIUM,
    SEED_SCRIPT,
    flask,
    headless_chromium,
    new_page,
    run_script,
    running_site,
    sign_in,
    sink_mail,
    submit,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

ADDRESS = "li.na@e2e.example.org"
FIRST_PASSWORD = "first-password-lotus-4"
NEW_PASSWORD = "second-password-heron-9"
LINK = re.compile(r"https?://[^/\s]+(/(?:verify-email|reset-password)/[\w-]+)")

# A public message on the 杭州市委书记 board, accepted by the handler's unit: the follow journey
# starts from it. Its code is written next to the database.
MESSAGE_SEED = (
    SEED_SCRIPT
    + """
author = create_user("author@e2e.example.org", "citizen", password=conftest.PASSWORD,
                     pen_name="周先生", now=utcnow())
m = submit(author, "文三路人行道被占用",
           "文三路人行道长期被电动车占用，行人只能走机动车道，请有关部门处理。")
msg.approve_message(m, who("moderator@e2e.example.org"), now=utcnow())
msg.assign_message(m, db.session.scalar(select(Unit).where(Unit.code == "330100-zj")),
                   who("coordinator@e2e.example.org"), now=utcnow())
msg.accept_message(m, who("handler@e2e.example.org"), now=utcnow())
leave("message-code.txt", m.code)
# The profile journey's own citizen (it changes the password and ends every session).
create_user("profile@e2e.example.org", "citizen", password=conftest.PASSWORD, pen_name="profile",
            now=utcnow())
"""
)

# The handler replies and the coordinator signs it off (the desk's own journeys are in
# test_e2e_browser.py): run as a script against the site's database.
REPLY_SCRIPT = """
m = db.session.scalar(select(Message).where(Message.code == sys.argv[1]))
msg.reply_message(m, who("handler@e2e.example.org"), now=utcnow(),
                  body="已安排城管部门清理文三路人行道，并增设非机动车停放区。")
msg.sign_off_reply(m, who("coordinator@e2e.example.org"), now=utcnow())
"""


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory):
    """The site every journey here uses, and the folder it keeps its database and mail in."""
    folder = tmp_path_factory.mktemp("site")
    with running_site(folder, seed=MESSAGE_SEED) as url:
        yield url, folder


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


def _tick(folder: Path, **extra: str) -> None:
    """Run the cron job: it sends the queued mail (to .eml files, or to BOARD_MAIL_URL)."""
    flask(folder, "deadlines", "tick", **extra)


def _mailed_link(folder: Path, kind: str) -> str:
    """Tick, then the path of the link in the newest mail of `kind` to ADDRESS."""
    _tick(folder)
    mails = sink_mail(folder, ADDRESS, kind)
    assert mails, f"no {kind} mail to {ADDRESS}"
    return LINK.search(mails[-1].get_content()).group(1)


def _signed_in(page, site: str) -> bool:
    """The account page answers (not the login form)."""
    page.goto(f"{site}/account")
    return "/login" not in page.url


def test_register_verify_reset_password_and_delete_the_account(shared_site, browser):
    """The whole life of a citizen account, every link taken from the mail the tick wrote."""
    site, folder = shared_site
    page = new_page(browser)
    page.goto(f"{site}/register")
    page.fill("#email", ADDRESS)
    page.fill("#password", FIRST_PASSWORD)
    page.fill("#confirm", FIRST_PASSWORD)
    page.fill("#pen_name", "李娜")
    submit(page, "form.form")
    page.goto(f"{site}/account")
    assert "重新发送验证邮件" in page.content()  # not verified yet

    page.goto(site + _mailed_link(folder, "account_verify"))
    submit(page, "form.form")
    assert "已验证" in page.content()
    page.goto(f"{site}/account")
    assert "重新发送验证邮件" not in page.content()

    submit(page, "form[action$='/logout']")
    assert not _signed_in(page, site)
    sign_in(page, site, ADDRESS, FIRST_PASSWORD)
    assert _signed_in(page, site)
    submit(page, "form[action$='/logout']")

    page.goto(f"{site}/reset-password")
    page.fill("#email", ADDRESS)
    submit(page, "form.form")
    page.goto(site + _mailed_link(folder, "account_reset"))
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page, "form.form")
    assert page.url.endswith("/login")

    sign_in(page, site, ADDRESS, FIRST_PASSWORD, check=False)
    assert not _signed_in(page, site)  # the old password is gone
    sign_in(page, site, ADDRESS, NEW_PASSWORD)
    assert _signed_in(page, site)

    page.goto(f"{site}/account/delete")
    assert "注销后不能恢复" in page.content()
    # The warning page reads well on a phone, in Chinese and in English (the pass checks).
    assert check_page(page, english=False) == []
    page.goto(f"{site}/lang/en?next=/account/delete")
    assert "Deletion cannot be undone" in page.content()
    assert check_page(page, english=True) == []
    page.goto(f"{site}/lang/zh_CN?next=/account/delete")
    page.fill("#current_password", NEW_PASSWORD)
    submit(page, "form[action$='/account/delete']")
    assert "您的账户已注销" in page.content()
    assert not _signed_in(page, site)
    sign_in(page, site, ADDRESS, NEW_PASSWORD, check=False)
    assert not _signed_in(page, site)

    _tick(folder)
    (confirmation,) = sink_mail(folder, ADDRESS, "account_deleted")
    assert "已注销" in str(confirmation["Subject"])


@pytest.fixture
def smtp_sink():
    """A real SMTP server on a free port, keeping every message it accepts."""
    received: list[email.message.EmailMessage] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(
                email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            )
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield f"smtp://127.0.0.1:{port}", received
    controller.stop()


def test_a_follower_gets_mail_when_the_message_is_answered(shared_site, browser, smtp_sink):
    """Follow a public message in the browser → the handler's reply is signed off → the tick
    sends the follower's mail through SMTP, with a link to the message."""
    site, folder = shared_site
    mail_url, received = smtp_sink
    code = (folder / "message-code.txt").read_text()
    page = new_page(browser)
    sign_in(page, site, "citizen@e2e.example.org")
    page.goto(f"{site}/m/{code}")
    submit(page, f"form[action$='/m/{code}/follow']")
    page.goto(f"{site}/account/follows")
    assert code in page.content()

    run_script(folder, REPLY_SCRIPT, code)
    _tick(folder, BOARD_MAIL_URL=mail_url)

    kinds = {(str(m["To"]), str(m["X-Minsheng-Kind"]).partition(":")[2]) for m in received}
    assert ("citizen@e2e.example.org", "follower") in kinds, kinds
    assert ("author@e2e.example.org", "author") in kinds, kinds
    (mail,) = [m for m in received if str(m["To"]) == "citizen@e2e.example.org"]
    assert f"/m/{code}" in mail.get_content() and mail["List-Unsubscribe"]


def test_profile_sessions_password_and_export_in_the_browser(shared_site, browser):
    """Two devices of one citizen: the private profile is kept and exported, a password change
    ends the other device's session, and "sign out everywhere" ends them all."""
    site, _folder = shared_site
    citizen, new_password = "profile@e2e.example.org", "third-password-crane-7"
    profile = "form[action$='/account']"
    phone, laptop = new_page(browser), new_page(browser)
    for page in (phone, laptop):
        sign_in(page, site, citizen)
        assert _signed_in(page, site)

    phone.goto(f"{site}/account")
    phone.fill(f"{profile} [name=pen_name]", "钱塘居民")
    phone.fill(f"{profile} [name=real_name]", "王小明")
    phone.fill(f"{profile} [name=phone]", "138 0013 8000")
    submit(phone, profile)
    phone.goto(f"{site}/account")
    assert phone.input_value(f"{profile} [name=pen_name]") == "钱塘居民"
    assert phone.input_value(f"{profile} [name=real_name]") == "王小明"

    exported = phone.request.get(f"{site}/account/export")
    assert exported.ok
    text = json.dumps(exported.json(), ensure_ascii=False)
    assert "钱塘居民" in text and "王小明" in text and citizen in text

    # Both devices are listed; only the other one has its own sign-out button.
    phone.goto(f"{site}/account/sessions")
    assert phone.locator("form[action$='/end']").count() == 1
    assert check_page(phone, english=False) == []

    phone.goto(f"{site}/account")
    form = "form[action$='/account/password']"
    phone.fill(f"{form} [name=current_password]", PASSWORD)
    phone.fill(f"{form} [name=password]", new_password)
    phone.fill(f"{form} [name=confirm]", new_password)
    submit(phone, form)
    assert _signed_in(phone, site)  # this device stays signed in
    assert not _signed_in(laptop, site)  # the other one is signed out

    sign_in(laptop, site, citizen, new_password)
    assert _signed_in(laptop, site)
    phone.goto(f"{site}/account/sessions")
    submit(phone, "form[action$='/account/sessions/end-all']")
    assert not _signed_in(phone, site)
    assert not _signed_in(laptop, site)
