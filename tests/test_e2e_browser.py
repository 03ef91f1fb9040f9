"""The whole loop in a real browser against gunicorn + the search worker, as people use it."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from e2e_server import CHROMIUM, headless_chromium, running_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


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


def sign_in(browser, site: str, email: str):
    """A fresh browser context signed in as `email` through the login form."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit], form.form input[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]
    return context, page


def test_citizen_to_reply_to_rating_to_search_in_the_browser(site, browser):
    """Write → approve → assign → reply → sign-off → public page → rate → search, in Chromium."""
    errors: list[str] = []

    # The citizen writes to 杭州市委书记, previews (ID number masked) and submits.
    ctx, page = sign_in(browser, site, "citizen@e2e.example.org")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site}/write?board=330100-secretary")
    page.select_option("select[name=track]", "board")
    page.select_option("select[name=kind]", "complaint")
    page.select_option("select[name=domain]", "urban")
    page.select_option("select[name=region]", "330106")
    page.fill("input[name=title]", "文三路路灯不亮已经两周")
    page.fill(
        "textarea[name=body]",
        "文三路西段的路灯从本月初开始一直不亮，晚上行人很危险。我的身份证号11010519491231002X，"
        "电话一三八 一二三四 五六七八。",
    )
    page.fill("textarea[name=private_note]", "联系人王小明")
    page.click("[name=preview]")
    preview = page.inner_text("body")
    assert "110105********002X" in preview and "一三八 **** 五六七八" in preview
    assert "11010519491231002X" in page.input_value("textarea[name=body]")  # kept for editing
    page.locator("[name=submit]").first.click()
    page.wait_for_load_state()
    code = re.search(r"MS-\d{4}-[0-9A-Z]{6}", page.inner_text("body")).group(0)
    page.goto(f"{site}/my")
    assert code in page.inner_text("body") and "待审核" in page.inner_text("body")
    ctx.close()

    # The moderator approves it from the queue.
    ctx, page = sign_in(browser, site, "moderator@e2e.example.org")
    page.goto(f"{site}/moderation/")
    assert code in page.inner_text("body")
    page.goto(f"{site}/moderation/{code}")
    page.click("button[value=approve]")
    page.wait_for_load_state()
    ctx.close()

    # The coordinator of the board's office assigns it to the city's housing bureau.
    ctx, page = sign_in(browser, site, "coordinator@e2e.example.org")
    page.goto(f"{site}/desk/m/{code}")
    page.select_option("select[name=unit]", value="330100-zj")
    page.click("form[action$='/assign'] button[type=submit]")
    page.wait_for_load_state()
    ctx.close()

    # The handler sees it in the unit's queue, accepts and replies.
    ctx, page = sign_in(browser, site, "handler@e2e.example.org")
    page.goto(f"{site}/desk/handler")
    assert code in page.inner_text("body")
    page.goto(f"{site}/desk/m/{code}")
    page.click("form[action$='/accept'] button[type=submit]")
    page.wait_for_load_state()
    page.fill(
        "form[action$='/reply'] textarea[name=body]",
        "经现场核查，文三路西段路灯线路老化，已于本周更换完毕，恢复照明。",
    )
    page.click("form[action$='/reply'] button[type=submit]")
    page.wait_for_load_state()
    assert "答复已送交办员签发" in page.inner_text("body")
    ctx.close()

    # The board's office reads the draft and signs it off (领导签发): only then is it public.
    ctx, page = sign_in(browser, site, "coordinator@e2e.example.org")
    page.goto(f"{site}/desk/coordinator")
    assert "恢复照明" in page.content()
    page.click(f"#signoff-{code} form[action$='/sign-off'] button[type=submit]")
    page.wait_for_load_state()
    assert "答复已签发" in page.inner_text("body")
    ctx.close()

    # The public reads the reply and the timeline; the ID number and the note are masked/absent.
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{site}/m/{code}")
    text = page.inner_text("body")
    assert "已回复" in text and "杭州市住房和城乡建设局" in text and "恢复照明" in text
    assert "11010519491231002X" not in text and "王小明" not in text
    assert "一二三四" not in text  # the phone written in Chinese numerals, masked

    # Search finds it through the indexer process (polling: the worker applies the outbox).
    for _ in range(50):
        page.goto(f"{site}/search?q=路灯+不亮")
        if code in page.content():
            break
        page.wait_for_timeout(200)
    assert code in page.content()
    assert page.locator("mark").count() > 0
    # Written in traditional characters, the same words find it (路燈 is 路灯).
    page.goto(f"{site}/search?q=路燈+不亮")
    assert code in page.content()
    ctx.close()

    # The author rates the reply; the message closes.
    ctx, page = sign_in(browser, site, "citizen@e2e.example.org")
    page.goto(f"{site}/m/{code}")
    # No score is chosen for the author: sent untouched, each missing score is named.
    assert page.input_value("select[name=resolution]") == ""
    page.click("form[action$='/rate'] [type=submit]")
    page.wait_for_load_state()
    refused = page.inner_text("body")
    assert (
        "请为“解决程度”选择 1 到 5 星。" in refused and "请为“办理速度”选择 1 到 5 星。" in refused
    )
    page.select_option("select[name=resolution]", "5")
    page.select_option("select[name=attitude]", "4")
    page.select_option("select[name=speed]", "4")
    page.fill("textarea[name=comment]", "处理及时")
    page.click("form[action$='/rate'] [type=submit]")
    page.wait_for_load_state()
    assert "已办结" in page.inner_text("body")
    ctx.close()
    assert errors == []


def test_withdrawal_is_confirmed_on_its_own_page_in_the_browser(site, browser):
    """The withdraw button opens a confirmation; unticked it withdraws nothing, ticked it does."""
    ctx, page = sign_in(browser, site, "citizen@e2e.example.org")
    page.goto(f"{site}/write?board=330100-secretary")
    page.select_option("select[name=kind]", "help")
    page.select_option("select[name=domain]", "urban")
    page.select_option("select[name=region]", "330106")
    page.fill("input[name=title]", "小区门口井盖松动")
    page.fill("textarea[name=body]", "小区门口的井盖松动好几天了，车一压就响，担心有人踩空。")
    page.locator("[name=submit]").first.click()
    page.wait_for_load_state()
    code = re.search(r"MS-\d{4}-[0-9A-Z]{6}", page.inner_text("body")).group(0)

    page.click("a:has-text('撤回留言')")
    page.wait_for_load_state()
    assert page.url.endswith(f"/m/{code}/withdraw")
    page.click("input[type=submit][value='确认撤回']")
    page.wait_for_load_state()
    assert "请勾选确认后再撤回。" in page.inner_text("body")
    page.goto(f"{site}/m/{code}")
    assert "待审核" in page.inner_text("body")

    page.click("a:has-text('撤回留言')")
    page.wait_for_load_state()
    page.check("input[name=confirm]")
    page.click("input[type=submit][value='确认撤回']")
    page.wait_for_load_state()
    assert page.url.endswith(f"/m/{code}") and "已撤回" in page.inner_text("body")
    ctx.close()
