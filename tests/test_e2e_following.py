"""Following in a real browser (Chromium at 390 px, gunicorn on a throwaway database): a citizen
saves a search, a matching message is published, the digest mail from the file sink links to
the search and unsubscribes in one click (then /account/notifications shows it off); the saved
search's Atom feed is valid XML listing the message; and a handler's /desk/search finds a
private case of their unit by its internal note, which another unit's handler cannot."""

from __future__ import annotations

import email
import email.policy
import re
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser_pass import check_page
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

CITIZEN = "citizen@e2e.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
WORDS = "人行道"
NOTE = "请于周五前答复督办事项"  # the coordinator's urge note: an internal record

# A second unit on the same city boards with its own handler, and a private case of the housing
# bureau (330100-zj) carrying an urge note; its code is written next to the database.
SEED = (
    SEED_SCRIPT
    + """
db.session.add(Unit(code="330100-jt", name="杭州市交通运输局", region_code="330100"))
db.session.commit()
create_user("other.handler@e2e.example.org", "handler", password=conftest.PASSWORD,
            pen_name="交通局承办人", unit_code="330100-jt", now=utcnow())
author = create_user("private.author@e2e.example.org", "citizen",
                     password=conftest.PASSWORD, pen_name="陈女士", now=utcnow())
m = submit(author, "工地夜间施工噪音扰民",
           "西溪路旁工地每晚十一点后仍在施工，噪音很大，影响休息，请住建局查处。",
           wants_public=False)
msg.approve_message(m, who("moderator@e2e.example.org"), now=utcnow())
msg.assign_message(m, db.session.scalar(select(Unit).where(Unit.code == "330100-zj")),
                   who("coordinator@e2e.example.org"), now=utcnow())
msg.urge_message(m, who("coordinator@e2e.example.org"), note="NOTE", now=utcnow())
leave("private-code.txt", m.code)
""".replace('"NOTE"', repr(NOTE))
)

# A public message matching the saved search, published after the search was saved (as the
# moderator approves it): the setup the journey waits on. Prints its code.
PUBLISH_SCRIPT = """
m = submit(who("private.author@e2e.example.org"), "文三路人行道被电动车占用",
           "文三路人行道长期被电动车占用，行人只能走机动车道，请有关部门处理。")
msg.approve_message(m, who("moderator@e2e.example.org"), now=utcnow())
print(m.code)
"""


def _digests(tmp_path: Path) -> list[email.message.EmailMessage]:
    """The saved-search digests to CITIZEN in the file sink (instance/mail), oldest first."""
    return sink_mail(tmp_path, CITIZEN, "saved_search_digest")


def _desk_search(page, site: str, words: str) -> str:
    """Search the cases from /desk/search's form; the results' text."""
    page.goto(f"{site}/desk/search")
    page.fill("#q", words)
    submit(page, "form[role=search]")
    return page.inner_text("main")


def test_saved_search_digest_feed_and_staff_search(tmp_path):
    with running_site(tmp_path, seed=SEED) as site, headless_chromium() as browser:
        private_code = (tmp_path / "private-code.txt").read_text()
        citizen = new_page(browser)
        sign_in(citizen, site, CITIZEN)

        # Save the search from the search page.
        citizen.goto(f"{site}/search?q={WORDS}")
        citizen.click("details.save-search summary")
        citizen.fill("#save-search-name", "人行道占用")
        submit(citizen, "form[action$='/account/searches']")
        assert citizen.url.endswith("/account/searches")
        assert "已保存搜索“人行道占用”" in citizen.inner_text("main")
        feed_path = citizen.get_attribute("a[href*='/feeds/saved/']", "href")

        # A matching message is published; wait until the public index has it.
        code = run_script(tmp_path, PUBLISH_SCRIPT)
        deadline = time.monotonic() + 30
        while code not in citizen.content():
            assert time.monotonic() < deadline, "the published message never reached the index"
            time.sleep(0.5)
            citizen.goto(f"{site}/search?q={WORDS}")

        # The daily digest is queued and sent to the file sink.
        assert "· 1 digest mail(s) queued" in flask(tmp_path, "alerts", "digest")
        flask(tmp_path, "deadlines", "tick")
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
        submit(citizen, "form[action*='/unsubscribe/']")
        assert citizen.locator("main").count() == 1
        citizen.goto(f"{site}/account/notifications")
        assert not citizen.is_checked("input[name=following]")
        assert citizen.is_checked("input[name=progress]")  # only that kind of mail
        assert check_page(citizen, english=False) == []

        # A new match on another day would not be mailed: the digest is off for this address.
        run_script(tmp_path, PUBLISH_SCRIPT)
        tomorrow = "2099-01-02T09:00"
        assert "· 0 digest mail(s) queued" in flask(tmp_path, "alerts", "digest", "--now", tomorrow)
        flask(tmp_path, "deadlines", "tick")
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
        handler = new_page(browser)
        sign_in(handler, site, "handler@e2e.example.org")
        found = _desk_search(handler, site, "督办事项")
        assert "不公开" in found, found
        assert "共 1 条" in found
        handler.click(f"a[href='/desk/m/{private_code}']")
        handler.wait_for_load_state()
        assert NOTE in handler.inner_text("main")
        # ... and another unit's handler finds nothing, not even by the case's code.
        other = new_page(browser)
        sign_in(other, site, "other.handler@e2e.example.org")
        for words in ("督办事项", "夜间施工噪音", private_code):
            found = _desk_search(other, site, words)
            assert "共 0 条" in found, (words, found)
            assert other.locator(f"a[href='/desk/m/{private_code}']").count() == 0
        assert check_page(other, english=False) == []
