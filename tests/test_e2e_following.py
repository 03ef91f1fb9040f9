"""Following in a real browser (Chromium at 390 px, gunicorn on a throwaway database): a citizen
saves a search, a matching message is published, the digest mail from the file sink links to
the search and unsubscribes in one click (then /account/notifications shows it off); the saved
search's Atom feed is valid XML listing the message; and a handler's /desk/search finds a
private case of their unit by its internal note, which another unit's handler cannot."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser_pass import check_page
from conftest import PASSWORD
from e2e_server import CHROMIUM, ROOT, SEED_SCRIPT, VENV_BIN, headless_chromium, running_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

CITIZEN = "citizen@e2e.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
WORDS = "人行道"
NOTE = "请于周五前答复督办事项"  # the coordinator's urge note: an internal record

# A second unit on the same city boards with its own handler, and a private case of the housing
# bureau (330100-zj) carrying an urge note; its code is written next to the database.
SEED = (
    SEED_SCRIPT
    + """
from pathlib import Path
from sqlalchemy import select
from board.messages import services as msg
from board.models import Board, Region, User

with app.app_context():
    db.session.add(Unit(code="330100-jt", name="杭州市交通运输局", region_code="330100"))
    db.session.commit()
    create_user("other.handler@e2e.example.org", "handler", password=conftest.PASSWORD,
                pen_name="交通局承办人", unit_code="330100-jt", now=utcnow())

    def who(address):
        return db.session.scalar(select(User).where(User.email == address))

    author = create_user("private.author@e2e.example.org", "citizen",
                         password=conftest.PASSWORD, pen_name="陈女士", now=utcnow())
    m = msg.submit_message(
        author, board=db.session.scalar(select(Board).where(Board.code == "330100-secretary")),
        region=db.session.get(Region, "330106"), track="board", kind="complaint",
        domain="urban", title="工地夜间施工噪音扰民", wants_public=False, now=utcnow(),
        body="西溪路旁工地每晚十一点后仍在施工，噪音很大，影响休息，请住建局查处。",
    )
    msg.approve_message(m, who("moderator@e2e.example.org"), now=utcnow())
    msg.assign_message(m, db.session.scalar(select(Unit).where(Unit.code == "330100-zj")),
                       who("coordinator@e2e.example.org"), now=utcnow())
    msg.urge_message(m, who("coordinator@e2e.example.org"), note="NOTE", now=utcnow())
    Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).with_name(
        "private-code.txt").write_text(m.code)
""".replace('"NOTE"', repr(NOTE))
)

# A public message matching the saved search, published after the search was saved (as the
# moderator approves it): the setup the journey waits on. Prints its code.
PUBLISH_SCRIPT = """
from sqlalchemy import select
from board import create_app
from board.clock import utcnow
from board.extensions import db
from board.messages import services as msg
from board.models import Board, Region, User

app = create_app()
with app.app_context():
    def who(address):
        return db.session.scalar(select(User).where(User.email == address))

    m = msg.submit_message(
        who("private.author@e2e.example.org"),
        board=db.session.scalar(select(Board).where(Board.code == "330100-secretary")),
        region=db.session.get(Region, "330106"), track="board", kind="complaint",
        domain="urban", title="文三路人行道被电动车占用", wants_public=True, now=utcnow(),
        body="文三路人行道长期被电动车占用，行人只能走机动车道，请有关部门处理。",
    )
    msg.approve_message(m, who("moderator@e2e.example.org"), now=utcnow())
    print(m.code)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment of the site under test (as e2e_server.running_site sets it)."""
    return dict(
        os.environ,
        FLASK_APP="wsgi",
        BOARD_INSTANCE_PATH=str(tmp_path / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'site.sqlite'}",
        BOARD_SEARCH_INDEX_DIR=str(tmp_path / "index"),
        BOARD_SECRET_KEY="e2e-secret",
        BOARD_SEARCH_APPLY_INLINE="false",
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}",
    )


def _flask(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "flask"), *args], cwd=ROOT, env=_env(tmp_path), check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def _digests(tmp_path: Path) -> list[email.message.EmailMessage]:
    """The saved-search digests to CITIZEN in the file sink (instance/mail), oldest first."""
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((tmp_path / "instance" / "mail").glob("*.eml"))
    ]
    return [
        m
        for m in mails
        if str(m["To"]) == CITIZEN and str(m["X-Minsheng-Kind"]) == "saved_search_digest"
    ]


def _new_page(browser):
    """A phone-sized page (390 px wide) in Chinese, with its own cookies."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _submit(page, form: str) -> None:
    """Press the submit button of the form matching the CSS selector and wait for the answer."""
    page.click(f"{form} button[type=submit], {form} input[type=submit]")
    page.wait_for_load_state()


def _sign_in(page, site: str, address: str) -> None:
    page.goto(f"{site}/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", PASSWORD)
    _submit(page, "form.form")
    assert "/login" not in page.url, page.inner_text("main")


def _desk_search(page, site: str, words: str) -> str:
    """Search the cases from /desk/search's form; the results' text."""
    page.goto(f"{site}/desk/search")
    page.fill("#q", words)
    _submit(page, "form[role=search]")
    return page.inner_text("main")


def test_saved_search_digest_feed_and_staff_search(tmp_path):
    with running_site(tmp_path, seed=SEED) as site, headless_chromium() as browser:
        private_code = (tmp_path / "private-code.txt").read_text()
        citizen = _new_page(browser)
        _sign_in(citizen, site, CITIZEN)

        # Save the search from the search page.
        citizen.goto(f"{site}/search?q={WORDS}")
        citizen.click("details.save-search summary")
        citizen.fill("#save-search-name", "人行道占用")
        _submit(citizen, "form[action$='/account/searches']")
        assert citizen.url.endswith("/account/searches")
        assert "已保存搜索“人行道占用”" in citizen.inner_text("main")
        feed_path = citizen.get_attribute("a[href*='/feeds/saved/']", "href")

        # A matching message is published; wait until the public index has it.
        code = subprocess.run(
            [sys.executable, "-c", PUBLISH_SCRIPT], cwd=ROOT, env=_env(tmp_path), check=True,
            capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        deadline = time.monotonic() + 30
        while code not in citizen.content():
            assert time.monotonic() < deadline, "the published message never reached the index"
            time.sleep(0.5)
            citizen.goto(f"{site}/search?q={WORDS}")

        # The daily digest is queued and sent to the file sink.
        assert "· 1 digest mail(s) queued" in _flask(tmp_path, "alerts", "digest")
        _flask(tmp_path, "deadlines", "tick")
        (mail,) = _digests(tmp_path)
        assert mail["List-Unsubscribe"]
        body = mail.get_content()
        assert code in body and "文三路人行道被电动车占用" in body
        search_link = re.search(r"https?://[^/\s]+(/search\?\S+)", body).group(1)
        unsubscribe_link = re.search(r"https?://[^/\s]+(/unsubscribe/\S+)", body).group(1)

        # The mail's search link opens the search, listing the message.
        citizen.goto(site + search_link)
        assert citizen.locator(f"a[href='/m/{code}']").count() >= 1

        # One click (and a confirming button: link scanners change nothing) turns it off.
        citizen.goto(site + unsubscribe_link)
        _submit(citizen, "form[action*='/unsubscribe/']")
        assert citizen.locator("main").count() == 1
        citizen.goto(f"{site}/account/notifications")
        assert not citizen.is_checked("input[name=following]")
        assert citizen.is_checked("input[name=progress]")  # only that kind of mail
        assert check_page(citizen, english=False) == []

        # A new match on another day would not be mailed: the digest is off for this address.
        subprocess.run(
            [sys.executable, "-c", PUBLISH_SCRIPT], cwd=ROOT, env=_env(tmp_path), check=True,
            capture_output=True,
        )  # fmt: skip
        tomorrow = "2099-01-02T09:00"
        assert "· 0 digest mail(s) queued" in _flask(
            tmp_path, "alerts", "digest", "--now", tomorrow
        )
        _flask(tmp_path, "deadlines", "tick")
        assert len(_digests(tmp_path)) == 1

        # The Atom feed: valid XML, listing the message with its link.
        with urllib.request.urlopen(site + feed_path) as response:  # noqa: S310 (loopback)
            assert response.headers["Content-Type"].startswith("application/atom+xml")
            feed = ET.fromstring(response.read())  # noqa: S314 (our own feed)
        assert feed.tag == f"{ATOM}feed"
        entries = feed.findall(f"{ATOM}entry")
        titles = [entry.findtext(f"{ATOM}title") for entry in entries]
        links = [link.get("href") for entry in entries for link in entry.findall(f"{ATOM}link")]
        assert "文三路人行道被电动车占用" in titles, titles
        assert any(href.endswith(f"/m/{code}") for href in links), links

        # Staff search: the unit's handler finds the private case by its internal note...
        handler = _new_page(browser)
        _sign_in(handler, site, "handler@e2e.example.org")
        found = _desk_search(handler, site, "督办事项")
        assert "不公开" in found, found
        assert "共 1 条" in found
        handler.click(f"a[href='/desk/m/{private_code}']")
        handler.wait_for_load_state()
        assert NOTE in handler.inner_text("main")
        # ... and another unit's handler finds nothing, not even by the case's code.
        other = _new_page(browser)
        _sign_in(other, site, "other.handler@e2e.example.org")
        for words in ("督办事项", "夜间施工噪音", private_code):
            found = _desk_search(other, site, words)
            assert "共 0 条" in found, (words, found)
            assert other.locator(f"a[href='/desk/m/{private_code}']").count() == 0
        assert check_page(other, english=False) == []
