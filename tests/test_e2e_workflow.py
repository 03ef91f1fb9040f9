"""The complete workflow clicked in Chromium against gunicorn: a petition through review and
re-review, and a board message through extension, sign-off, a dissatisfied rating and 重办.

At each step the page's deadlines are read back: they change as the workflow moves, and each
one carries the explanation of how it was counted.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import PASSWORD
from e2e_server import CHROMIUM, headless_chromium, running_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
CODE = re.compile(r"MS-\d{4}-[0-9A-Z]{6}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A running site on a fresh SQLite database, shared by this module's journeys."""
    with running_site(tmp_path_factory.mktemp("site")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    with headless_chromium() as chromium:
        yield chromium


class Person:
    """One signed-in browser context (a phone-sized window) that records console errors."""

    def __init__(self, browser, site: str, email: str):
        self.site = site
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._console)
        self.page.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        self.page.goto(f"{site}/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form.form button[type=submit], form.form input[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.content()[:2000]

    def _console(self, message) -> None:
        """Record console errors (the browser's own favicon probe is not the page's)."""
        if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico"):
            self.errors.append(f"{message.text} {message.location.get('url', '')}")

    def go(self, path: str) -> str:
        """Open a page; return its visible text."""
        self.page.goto(f"{self.site}{path}")
        return self.text()

    def text(self) -> str:
        """The current page's visible text."""
        return self.page.inner_text("body")

    def submit(self, form: str, **fields: str) -> str:
        """Fill the named fields of the form whose action ends with `form`, submit it."""
        selector = f"form[action$='{form}']"
        for name, value in fields.items():
            target = self.page.locator(f"{selector} [name={name}]")
            if target.evaluate("e => e.tagName") == "SELECT":
                target.select_option(value)
            else:
                target.fill(value)
        self.page.locator(f"{selector} [type=submit]").first.click()
        self.page.wait_for_load_state()
        text = self.text()
        assert "提交的内容有误" not in text, text[:3000]
        return text

    def close(self) -> list[str]:
        """Close the context; return the console errors seen."""
        self.context.close()
        return self.errors


def clock_line(text: str, label: str) -> str:
    """The deadline line of a clock on a page, by its label."""
    for line in text.splitlines():
        if line.strip().startswith(label) and "24:00" in line:
            return line
    raise AssertionError(f"no deadline {label!r} on the page:\n{text[:4000]}")


def due_date(line: str) -> date:
    """The due date in a deadline line."""
    return date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", line).group(0))


def write_and_route(browser, site, *, track: str, kind: str, title: str, body: str) -> str:
    """The citizen writes, the moderator approves, the office assigns to 住建局; returns the code."""
    citizen = Person(browser, site, "citizen@e2e.example.org")
    citizen.go("/write?board=330100-secretary")
    page = citizen.page
    page.select_option("select[name=track]", track)
    page.select_option("select[name=kind]", kind)
    page.select_option("select[name=domain]", "urban")
    page.select_option("select[name=region]", "330106")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=body]", body)
    if track == "petition":
        page.fill("input[name=real_name]", "陈明亮")
        page.fill("input[name=phone]", "13912345678")
        page.fill("input[name=address]", "杭州市西湖区文三路 1 号")
        # A petition stays private unless its author publishes it; this one is published.
        assert not page.is_checked("input[name=petition_public]")
        page.check("input[name=petition_public]")
    page.locator("[name=submit]").first.click()
    page.wait_for_load_state()
    code = CODE.search(citizen.text()).group(0)
    errors = citizen.close()

    moderator = Person(browser, site, "moderator@e2e.example.org")
    moderator.go(f"/moderation/{code}")
    moderator.page.click("button[value=approve]")
    moderator.page.wait_for_load_state()
    errors += moderator.close()

    office = Person(browser, site, "coordinator@e2e.example.org")
    assert code in office.go("/desk/coordinator")
    office.go(f"/desk/m/{code}")
    office.submit("/assign", unit="330100-zj")
    errors += office.close()
    assert errors == []
    return code


def sign_off_from_desk(browser, site, code: str, draft: str) -> None:
    """The office reads the draft on its desk and signs it off there."""
    office = Person(browser, site, "coordinator@e2e.example.org")
    text = office.go("/desk/coordinator")
    assert code in text
    office.page.locator(f"#signoff-{code} summary").click()
    assert draft in office.page.inner_text(f"#signoff-{code}")
    office.page.locator(f"#signoff-{code} form[action$='/sign-off'] [type=submit]").click()
    office.page.wait_for_load_state()
    assert "答复已签发" in office.text()
    assert office.close() == []


def test_petition_from_receipt_to_rereview_in_the_browser(site, browser):
    """Receipt → acceptance notice → reply → sign-off → review → decision → re-review →
    hearing → final decision; the deadlines move and explain themselves at each step."""
    code = write_and_route(
        browser,
        site,
        track="petition",
        kind="claim",
        title="公司拖欠工资三个月未发",
        body="我在西湖区某公司工作，公司已经连续三个月拖欠工资，多次讨要无果，请求帮助解决。",
    )

    # The unit sees the 15-day acceptance clock, accepts with a notice; the 60-day clock starts.
    unit = Person(browser, site, "handler@e2e.example.org")
    assert code in unit.go("/desk/handler")
    text = unit.go(f"/desk/m/{code}")
    acceptance = clock_line(text, "受理告知")
    assert "15 日（自然日）" in text and "还剩" in acceptance
    notice = "您反映的拖欠工资问题已受理，我们将在 60 日内调查处理并书面答复。"
    text = unit.submit("/accept", note=notice)
    handling = clock_line(text, "信访事项办理")
    assert "60 日（自然日）" in text and due_date(handling) > due_date(acceptance)
    reply = "经调查核实，该公司确实拖欠工资，劳动监察大队已责令其于本月底前足额支付。"
    text = unit.submit("/reply", body=reply, outcome="supported")
    assert "答复已送交办员签发" in text
    assert unit.close() == []

    sign_off_from_desk(browser, site, code, reply)

    # The author reads the reply and asks for review inside its window (its due date shown).
    citizen = Person(browser, site, "citizen@e2e.example.org")
    text = citizen.go(f"/m/{code}")
    assert reply in text and notice in text and "予以支持" in text
    window = citizen.page.inner_text("#review-request")
    assert "申请期限" in window and re.search(r"\d{4}-\d{2}-\d{2} 24:00", window)
    citizen.page.locator("#review-request summary").click()
    assert "30 日（自然日）" in citizen.page.inner_text("#review-request")
    reasons = "用人单位至今没有支付工资，处理意见没有落实，请求上一级机关复查。"
    text = citizen.submit("/review-request", body=reasons)
    assert "复查中" in text
    assert citizen.close() == []

    # The province office (one level up) decides the review.
    province = Person(browser, site, "province@e2e.example.org")
    assert code in province.go("/desk/coordinator")
    text = province.go(f"/desk/m/{code}")
    review_clock = clock_line(text, "复查意见")
    assert "还剩" in review_clock
    decision = "经复查，原处理意见事实清楚、依据充分，予以维持，并督促用人单位限期支付。"
    text = province.submit("/decide", body=decision, outcome="supported")
    assert "复查意见已发布" in text
    assert province.close() == []

    citizen = Person(browser, site, "citizen@e2e.example.org")
    text = citizen.go(f"/m/{code}")
    assert decision in text and "申请复核" in text
    text = citizen.submit("/review-request", body=reasons + "对复查意见仍然不服。")
    assert "复核中" in text
    assert citizen.close() == []

    # The re-review body holds a hearing: its clock grows by the hearing days, and says so.
    reviewer = Person(browser, site, "province@e2e.example.org")
    text = reviewer.go(f"/desk/m/{code}")
    before = due_date(clock_line(text, "复核意见"))
    text = reviewer.submit("/hearing", days="10", note="定于下周三举行听证")
    after = due_date(clock_line(text, "复核意见"))
    assert (after - before).days >= 10
    assert "听证" in text
    final = "经复核，维持复查意见。本复核意见为终结意见。"
    text = reviewer.submit("/decide", body=final, outcome="supported")
    assert "复核意见已发布" in text
    assert reviewer.close() == []

    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{site}/m/{code}")
    text = visitor.inner_text("body")
    assert final in text and decision in text and "已复核" in text
    assert "陈明亮" not in text and "13912345678" not in text
    visitor.context.close()


def test_board_message_extension_reopen_in_the_browser(site, browser):
    """Assign → accept → extension asked and approved (the due date moves) → reply → sign-off →
    dissatisfied rating → 重办 (a new clock) → second reply → sign-off → rating again."""
    code = write_and_route(
        browser,
        site,
        track="board",
        kind="complaint",
        title="小区物业乱收停车费",
        body="我们小区物业今年起每月多收停车管理费两百元，没有任何公示，业主多次反映无果。",
    )

    unit = Person(browser, site, "handler@e2e.example.org")
    unit.go(f"/desk/m/{code}")
    text = unit.submit("/accept")
    first = clock_line(text, "答复（投诉、求助）")
    assert "20 个工作日" in text
    reason = "需要会同市场监管部门核查收费备案情况，无法在期限内办结。"
    text = unit.submit("/extend", reason=reason)
    assert "等待交办员审批" in text
    assert unit.close() == []

    office = Person(browser, site, "coordinator@e2e.example.org")
    text = office.go("/desk/coordinator")
    assert reason in text
    office.page.locator(
        f"#request-{code} form[action$='/approve-request'] [type=submit]"
    ).first.click()
    office.page.wait_for_load_state()
    assert "已同意延期" in office.text()
    assert office.close() == []

    unit = Person(browser, site, "handler@e2e.example.org")
    text = unit.go(f"/desk/m/{code}")
    extended = clock_line(text, "答复（投诉、求助）")
    assert due_date(extended) > due_date(first)
    assert "延期" in text and "15 个工作日" in text  # the explanation names the extension
    assert unit.page.locator("form[action$='/extend']").count() == 0  # once per round
    reply = "经核查，物业公司停车收费标准未备案，已责令其停止收取并退还多收费用。"
    unit.submit("/reply", body=reply)
    assert unit.close() == []

    sign_off_from_desk(browser, site, code, reply)

    citizen = Person(browser, site, "citizen@e2e.example.org")
    text = citizen.go(f"/m/{code}")
    assert reply in text and reason in text  # the extension is public as an interim note
    assert "评价期" in text  # the rating window is a deadline too, explained
    text = citizen.submit("/rate", resolution="1", attitude="2", speed="1", comment="钱没退")
    assert "已办结" in text
    assert citizen.close() == []

    office = Person(browser, site, "coordinator@e2e.example.org")
    office.go("/desk/coordinator")
    office.page.fill(f"#reopen-{code}", "留言人反映费用仍未退还，请重新核查办理。")
    office.page.locator(f"#dissatisfied-{code} [type=submit]").click()
    office.page.wait_for_load_state()
    assert "已交承办单位重新办理" in office.text()
    assert office.close() == []

    unit = Person(browser, site, "handler@e2e.example.org")
    assert code in unit.go("/desk/handler")
    text = unit.go(f"/desk/m/{code}")
    again = clock_line(text, "答复（投诉、求助）")
    assert due_date(again) >= date.today()
    assert unit.page.locator("form[action$='/extend']").count() == 1  # a new round
    second = "经再次核查，物业公司已将多收的停车费全部退还业主，并在小区公告栏公示。"
    unit.submit("/reply", body=second)
    assert unit.close() == []

    sign_off_from_desk(browser, site, code, second)

    citizen = Person(browser, site, "citizen@e2e.example.org")
    text = citizen.go(f"/m/{code}")
    assert second in text and reply in text
    text = citizen.submit("/rate", resolution="5", attitude="5", speed="4", comment="已退还")
    assert "已办结" in text
    assert citizen.close() == []
