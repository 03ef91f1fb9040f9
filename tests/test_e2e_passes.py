"""The phone pass and the English pass (short form): a few pages per role in Chromium at 390×844.

Every role's main pages on a demo site: no horizontal scroll, no title squeezed under 120 px, no
tracking code broken over lines, axe-core without serious or critical violations, and in English
no Chinese interface text outside user content. The full form is `make passes`.
"""

from __future__ import annotations

import pytest
from browser_pass import PAGES, PHONE, demo_logins, demo_seed, run_pass
from e2e_server import CHROMIUM, headless_chromium, running_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """A running site with Zhejiang's directory and 40 demo messages; (url, logins)."""
    tmp = tmp_path_factory.mktemp("passes")
    logins = str(tmp / "logins.json")
    with running_site(tmp, seed=demo_seed(40, logins)) as url:
        yield url, demo_logins(logins)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    with headless_chromium() as chromium:
        yield chromium


def _problems(reports) -> list[str]:
    """One line per problem, naming the role and the page."""
    return [f"{r.role} {r.url}: {p}" for r in reports for p in r.problems]


@pytest.mark.parametrize("english", [False, True], ids=["phone", "english"])
def test_every_role_reads_its_pages_on_a_phone(demo_site, browser, english):
    """At 390×844, in Chinese (the phone pass) and in English (the English pass), each role's
    main pages have nothing a reader would stumble on."""
    site, logins = demo_site
    reports = run_pass(browser, site, viewport=PHONE, english=english, short=True, logins=logins)
    assert {r.role for r in reports} == set(PAGES)
    assert len(reports) >= 2 * len(PAGES)
    problems = _problems(reports)
    assert not problems, "\n".join(problems)


def test_the_pass_sees_a_squeezed_title_and_chinese_interface_text(demo_site, browser):
    """The checks themselves: a desktop table forced into a narrow column, and a Chinese button
    in an English page, are reported."""
    from browser_pass import check_page, sign_in

    site, logins = demo_site
    context, page = sign_in(browser, site, "handler", viewport=PHONE, english=True, logins=logins)
    try:
        page.goto(f"{site}/desk/handler")
        page.evaluate(  # the site's CSP allows no inline style tag: set the styles directly
            """() => {
              const set = (sel, display) => document.querySelectorAll(sel).forEach(el => {
                el.style.setProperty('display', display, 'important');
              });
              set('.table', 'table'); set('.table thead', 'table-header-group');
              set('.table tbody', 'table-row-group'); set('.table tr', 'table-row');
              document.querySelectorAll('.table td').forEach(td => {
                td.style.setProperty('display', 'table-cell', 'important');
                td.style.setProperty('width', '60px', 'important');
              });
              document.querySelectorAll('.table').forEach(t => {
                t.style.setProperty('width', '300px', 'important');
                t.style.setProperty('table-layout', 'fixed', 'important');
              });
            }"""
        )
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<button>提交</button>')"
        )
        problems = check_page(page, english=True, axe=False)
    finally:
        context.close()
    assert any(p.startswith("a title squeezed into") for p in problems), problems
    assert any("提交" in p for p in problems), problems
