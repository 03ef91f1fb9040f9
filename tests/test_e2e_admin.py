"""The platform office's day in a real browser (Chromium at 390 px, gunicorn on a throwaway
database): an admin creates a unit, moves a handler into it, opens a department board with that
unit, changes a leader board's holder, publishes and retires a reason code, renames one region
and merges another, finds each change in /admin/audit with who and before/after, and disables
an account, whose open session ends at once."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from browser_pass import check_page
from conftest import PASSWORD
from e2e_server import (
    CHROMIUM,
    SEED_SCRIPT,
    headless_chromium,
    new_page,
    running_site,
    sign_in,
    submit,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

ADMIN = "admin@e2e.example.org"
HANDLER = "handler@e2e.example.org"

SEED = (
    SEED_SCRIPT
    + """
create_user("admin@e2e.example.org", "admin", password=conftest.PASSWORD, pen_name="admin",
            now=utcnow())
"""
)


def _flash(page) -> str:
    """The text of the page's main content (flash messages and errors included)."""
    return page.inner_text("main")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 (urllib's signature)
        return None


def _status_and_location(url: str) -> tuple[int, str]:
    """The status and Location of a GET, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url) as response:  # noqa: S310 (loopback)
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _audit_row(page, site: str, target: str, kind: str) -> str:
    """The text of the /admin/audit row of `kind` about `target` (the filter form is used)."""
    page.goto(f"{site}/admin/audit")
    page.fill("input[name=target]", target)
    submit(page, "form[role=search]")
    rows = page.locator("tbody tr", has=page.locator("code", has_text=kind))
    assert rows.count() >= 1, f"no {kind} about {target} in /admin/audit: {page.inner_text('main')}"
    return rows.first.inner_text()


def test_an_admin_runs_the_directory_and_every_change_is_audited(tmp_path):
    with running_site(tmp_path, seed=SEED) as site, headless_chromium() as browser:
        admin = new_page(browser)
        sign_in(admin, site, ADMIN)
        # The handler is at work in a browser of their own the whole time.
        handler = new_page(browser)
        sign_in(handler, site, HANDLER)
        assert handler.goto(f"{site}/desk/handler").status == 200
        assert "/login" not in handler.url

        # A new unit.
        admin.goto(f"{site}/admin/units/new")
        admin.fill("#code", "330100-wj")
        admin.fill("#name", "杭州市物价局")
        admin.fill("#region", "330100")
        admin.fill("#contact_phone", "0571-87654321")
        submit(admin, "form.form")
        assert "单位“杭州市物价局”已添加。" in _flash(admin)

        # The handler moves from the housing bureau into it.
        admin.goto(f"{site}/admin/units/330100-zj")
        row = admin.locator("tbody tr", has_text=HANDLER)
        row.locator("input[name=unit]").fill("330100-wj")
        row.locator("button[type=submit]").click()
        admin.wait_for_load_state()
        assert f"{HANDLER} 已调往 杭州市物价局。" in _flash(admin)
        admin.goto(f"{site}/admin/units/330100-wj")
        assert HANDLER in admin.locator("tbody").inner_text()

        # A department board with that unit as its office.
        admin.goto(f"{site}/admin/boards")
        admin.fill("#region", "330100")
        admin.select_option("#post", "department")
        admin.fill("#code", "330100-price")
        admin.fill("#title", "杭州市物价局")
        admin.fill("#office", "330100-wj")
        admin.fill("#holder_name", "钱局长")
        admin.fill("#started_on", "2024-03-01")
        submit(admin, "form[method=post][action$='/admin/boards']")
        assert "留言板“杭州市物价局”已开通。" in _flash(admin)
        assert admin.url.endswith("/admin/boards/330100-price")
        admin.goto(f"{site}/boards/330100-price")
        assert "杭州市物价局" in admin.locator("h1").first.inner_text()
        assert "钱局长" in admin.inner_text("main")

        # The secretary's post changes hands twice: the public page shows the current and the
        # past holder with their terms.
        for name, started in [("张明", "2023-01-10"), ("李华", "2025-06-01")]:
            admin.goto(f"{site}/admin/boards/330100-secretary")
            admin.fill("#holder_name", name)
            admin.fill("#started_on", started)
            submit(admin, "form[action$='/admin/boards/330100-secretary']")
            assert "任职记录已保存" in _flash(admin), _flash(admin)
        admin.goto(f"{site}/boards/330100-secretary")
        holders = admin.locator("section.holders li")
        assert holders.count() == 2
        current = holders.filter(has_text="李华").inner_text()
        past = holders.filter(has_text="张明").inner_text()
        assert "现任" in current and "2025-06-01" in current and "至今" in current
        assert "现任" not in past and "2023-01-10" in past and "2025-06-01" in past

        # A reason code published, then retired.
        admin.goto(f"{site}/admin/reason-codes")
        admin.select_option("#use", "reject")
        admin.fill("#slug", "e2e_duplicate")
        admin.fill("#label", "与已有留言重复")
        admin.fill("#label_en", "Duplicates an existing message")
        admin.fill("#sort", "90")
        submit(admin, "form[action$='/admin/reason-codes']")
        assert "理由“与已有留言重复”已发布。" in _flash(admin)
        row = admin.locator("tbody tr", has=admin.locator("code", has_text="e2e_duplicate"))
        assert "已停用" not in row.inner_text()
        row.locator("form[action$='/retire'] button").click()
        admin.wait_for_load_state()
        assert "理由“与已有留言重复”已停用。" in _flash(admin)
        row = admin.locator("tbody tr", has=admin.locator("code", has_text="e2e_duplicate"))
        assert "已停用" in row.inner_text()

        # A region renamed: its earlier name stays listed on the public page.
        admin.goto(f"{site}/admin/regions/330203")
        admin.fill("#name", "海曙新区")
        admin.fill("#changed_on", "2026-01-01")
        submit(admin, "form[action$='/admin/regions/330203']")
        assert "行政区划已改名为“海曙新区”。" in _flash(admin)
        admin.goto(f"{site}/regions/330203")
        assert "海曙新区" in admin.locator("h1").inner_text()
        former = admin.locator(".former-names").inner_text()
        assert "海曙区" in former and "2026-01-01" in former

        # A county merged into its neighbour: the old address answers 301 to the survivor.
        admin.goto(f"{site}/admin/regions/330127")
        admin.fill("#into", "330106")
        admin.fill("#merged_on", "2026-02-01")
        submit(admin, "form[action$='/admin/regions/330127/merge']")
        assert "330127 已并入" in _flash(admin)
        assert admin.url.endswith("/admin/regions/330106")
        status, location = _status_and_location(f"{site}/regions/330127")
        assert status == 301 and location.endswith("/regions/330106"), (status, location)
        admin.goto(f"{site}/regions/330106")
        assert "330127" in admin.locator(".former-codes").inner_text()

        # The handler is disabled: their open session ends with the next page they ask for.
        admin.goto(f"{site}/admin/users?q={HANDLER}")
        admin.click(f"tbody a:has-text('{HANDLER}')")
        admin.wait_for_load_state()
        submit(admin, "form[action$='/disable']")
        assert f"{HANDLER} 已停用，所有会话已结束。" in _flash(admin)
        handler.goto(f"{site}/desk/handler")
        assert "/login" in handler.url, handler.inner_text("body")[:800]
        handler.fill("input[name=email]", HANDLER)
        handler.fill("input[name=password]", PASSWORD)
        submit(handler, "form.form")
        handler.goto(f"{site}/desk/handler")
        assert "/login" in handler.url  # and a disabled account cannot sign in again

        # /admin/audit: each change, by the admin, with its before and after values.
        checks = [
            ("330100-wj", "unit.create", ["杭州市物价局", "0571-87654321"]),
            (HANDLER, "user.unit", ["330100-zj", "330100-wj"]),
            ("330100-price", "board.create", ["department", "330100-wj", "钱局长"]),
            ("330100-secretary", "board.holder", ["张明", "李华", "2025-06-01"]),
            ("e2e_duplicate", "reason_code.create", ["与已有留言重复"]),
            ("e2e_duplicate", "reason_code.retire", ["retired"]),
            ("330203", "region.rename", ["海曙区", "海曙新区", "2026-01-01"]),
            ("330127", "region.merge", ["淳安县", "330106", "2026-02-01"]),
            (HANDLER, "user.disable", ["active", "true", "false"]),
        ]
        for target, kind, values in checks:
            text = _audit_row(admin, site, target, kind)
            assert ADMIN in text, (kind, text)
            for value in values:
                assert value in text, (kind, value, text)
        # Before → after is shown for the changes of an existing record.
        admin.goto(f"{site}/admin/audit?target=330203")
        assert admin.locator("tbody tr del").count() >= 1
        assert admin.locator("tbody tr ins").count() >= 1
        # The log reads well on a phone (no overflow, labels, contrast: the phone pass).
        admin.goto(f"{site}/admin/audit")
        assert check_page(admin, english=False) == []
