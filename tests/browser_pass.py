"""The phone pass and the English pass: every page of every role, checked in Chromium.

Used by tests/test_e2e_passes.py (a few pages per role, in `make test`) and by
bench/browser_pass.py (every page of a running demo site, `make passes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# The demo accounts (board/seed/demo.py) a pass signs in with, one per role.
DEMO_LOGINS = {
    "visitor": None,
    "citizen": ("citizen1@demo.minsheng.example", "demo-citizen-2026"),
    "moderator": ("moderator@demo.minsheng.example", "demo-moderator-2026"),
    "coordinator": (
        "coordinator.330100-secretary@demo.minsheng.example",
        "demo-coordinator-2026",
    ),
    "handler": ("handler.330106-zj@demo.minsheng.example", "demo-handler-2026"),
    "admin": ("admin@demo.minsheng.example", "demo-admin-2026"),
}

# Seeds a site for the passes: Zhejiang's regions, boards and demo units, `messages` demo messages
# in every state, then writes the logins to use (the demo handler and coordinator with the most
# open work, a citizen with a message not yet assigned) as JSON to `logins`.
DEMO_SEED = """
import json
from sqlalchemy import func, select
from board import create_app
from board.clock import utcnow
from board.extensions import db
from board.models import Board, Message, User
from board.seed.directory import ensure_boards, load_regions
from board.seed.regions import region_rows, subset
from board.seed import demo

app = create_app()
with app.app_context():
    load_regions(subset(region_rows(), {"330000"}))
    ensure_boards()
    demo.seed_demo(%(messages)d, now=utcnow())
    # The topic tree `make run` loads (the whole of labels.xlsx), or a few branches of it and a
    # topic an admin added in Chinese, which English pages must mark as Chinese.
    from board.intel.classifier import data_dir
    from board.intel.taxonomy import load_taxonomy, read_label_rows
    labels = data_dir() / "tipdm2020c" / "labels.xlsx"
    if %(whole_tree)s and labels.exists():
        load_taxonomy(read_label_rows(labels))
    else:
        load_taxonomy([("城乡建设", "住房保障与房地产", "物业服务"), ("城乡建设", "城乡规划"),
                       ("环境保护", "环境污染", "噪音污染"), ("交通运输",), ("自定义主题",)])
    def busiest(role, unit_of_message, states):
        return db.session.scalar(
            select(User.email).join(Message, unit_of_message == User.unit_id)
            .where(User.role == role, Message.state.in_(states))
            .group_by(User.email).order_by(func.count().desc(), User.email).limit(1))
    office = select(Board.office_unit_id).where(Board.id == Message.board_id).scalar_subquery()
    chosen = {
        "handler": busiest("handler", Message.unit_id, ["assigned", "in_progress", "reopened"]),
        "coordinator": busiest("coordinator", office, ["received", "assigned", "in_progress"]),
        "citizen": db.session.scalar(  # one with a message it may still withdraw
            select(User.email).join(Message, Message.author_id == User.id)
            .where(User.role == "citizen", Message.state.in_(["submitted", "received"]))
            .group_by(User.email).order_by(func.count().desc(), User.email).limit(1)),
    }
    with open(%(logins)r, "w") as f:
        json.dump(chosen, f)
"""


def demo_seed(messages: int, logins: str, *, whole_tree: bool = False) -> str:
    """The seed script for `running_site`: demo data, the accounts to use written to `logins`;
    the whole topic tree of the data folder when `whole_tree` (the full passes; the short ones
    check the same pages without its 650 options on every filter form, a quarter faster)."""
    return DEMO_SEED % {"messages": messages, "logins": logins, "whole_tree": whole_tree}


def demo_logins(path: str) -> dict:
    """DEMO_LOGINS with the handler, coordinator and citizen the seed script chose."""
    import json

    with open(path) as f:
        chosen = json.load(f)
    logins = dict(DEMO_LOGINS)
    logins["handler"] = (chosen["handler"], DEMO_LOGINS["handler"][1])
    logins["coordinator"] = (chosen["coordinator"], DEMO_LOGINS["coordinator"][1])
    if chosen.get("citizen"):
        logins["citizen"] = (chosen["citizen"], DEMO_LOGINS["citizen"][1])
    return logins


# (path, or a list page and the link on it to follow) per role; `short` marks the pages the
# suite's short form visits, the full form visits them all.
MESSAGE_LINK = "a[href^='/m/MS-']"
DESK_LINK = "a[href^='/desk/m/MS-']"


@dataclass(frozen=True)
class Visit:
    """A page to check: a path, or the first `link` found on the page at `path` (and then the
    first `then` link on that page, for pages two steps away)."""

    path: str
    link: str | None = None
    short: bool = False
    then: str | None = None


PAGES: dict[str, list[Visit]] = {
    "visitor": [
        Visit("/", short=True),
        Visit("/leaders"),
        Visit("/boards/330100-secretary", short=True),
        Visit("/regions/330100"),
        Visit("/boards/330100-secretary", MESSAGE_LINK, short=True),
        Visit("/search?q=%E9%81%93%E8%B7%AF", short=True),
        Visit("/search?q=%E9%81%93%E8%B7%AF&show=filters"),
        Visit("/rankings"),
        Visit("/reports"),
        Visit("/reports?region=330100", short=True),
        Visit("/deadlines"),
        Visit("/login"),
        Visit("/register"),
        Visit("/reset-password"),
        Visit("/no-such-page"),
    ],
    "citizen": [
        Visit("/my", short=True),
        Visit("/my", MESSAGE_LINK),
        Visit(  # a message nobody has been assigned yet: its author may withdraw it
            "/my",
            f"tr:has(.state-submitted, .state-received) {MESSAGE_LINK}",
            then="a[href$='/withdraw']",
        ),
        Visit("/write"),
        Visit("/write?board=330100-secretary", short=True),
        Visit("/account/follows"),
        Visit("/account/searches"),
        Visit("/account"),
        Visit("/account/sessions"),
        Visit("/account/notifications"),
        Visit("/account/delete"),
    ],
    "moderator": [
        Visit("/moderation/", short=True),
        Visit("/moderation/", "a[href^='/moderation/MS-']", short=True),
        Visit("/moderation/words"),
    ],
    "coordinator": [
        Visit("/desk/coordinator", short=True),
        Visit("/desk/coordinator", DESK_LINK, short=True),
    ],
    "handler": [
        Visit("/desk/handler", short=True),
        Visit("/desk/handler", DESK_LINK, short=True),
        Visit("/account/tokens"),
        Visit("/desk/search?q=%E9%81%93%E8%B7%AF"),
    ],
    "admin": [
        Visit("/admin/deadlines", short=True),
        Visit("/admin/deadlines", "a[href^='/admin/deadlines/']"),
        Visit("/admin/calendar"),
        Visit("/admin/calendar", "a[href^='/admin/calendar/']"),
        Visit("/admin/mail", short=True),
        Visit("/admin/access-log"),
        Visit("/admin/users"),
        Visit("/admin/users", "a[href^='/admin/users/']"),
        Visit("/admin/units"),
        Visit("/admin/units", "a[href^='/admin/units/']:not([href$='/new'])"),
        Visit("/admin/boards"),
        Visit("/admin/boards", "a[href^='/admin/boards/']"),
        Visit("/admin/reason-codes"),
        Visit("/admin/reason-codes", "a[href^='/admin/reason-codes/']"),
        Visit("/admin/regions"),
        Visit("/admin/regions", "a[href^='/admin/regions/']"),
        Visit("/admin/audit"),
        Visit("/admin/topics"),
        Visit("/admin/topics", "a[href^='/admin/topics/']"),
        Visit("/admin/units/new"),
        Visit("/admin/units", "a[href^='/units/']"),  # a unit's public page
        Visit("/desk/coordinator"),
        Visit("/moderation/"),
    ],
}

# Runs in the page: what a reader at this width and in this language would stumble on.
CHECKS_JS = r"""
(english) => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter(el => !el.closest('.sr-only'))
      .slice(0, 3)
      .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
    problems.push(`horizontal scroll: ${root.scrollWidth}px on a ${window.innerWidth}px screen (${wide.join(', ')})`);
  }
  // A box that scrolls sideways inside the page is a horizontal scroll too.
  for (const el of document.body.querySelectorAll('*')) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`scrolls sideways: ${el.tagName.toLowerCase()}.${String(el.className).split(' ').join('.')} is ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
  }
  for (const table of document.querySelectorAll('table')) {
    const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
    const col = heads.findIndex(t => /^(标题|title)$/i.test(t));
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, i) => {
        const holdsTitle = i === col || cell.querySelector("a[href*='/m/MS-']");
        const width = cell.getBoundingClientRect().width;
        if (holdsTitle && width > 0 && width < 120) {
          problems.push(`a title squeezed into ${Math.round(width)}px: ${cell.textContent.trim().slice(0, 30)}`);
        }
      });
    }
  }
  for (const code of document.querySelectorAll('.code, code.tracking')) {
    if (code.getClientRects().length > 1) problems.push(`tracking code broken over lines: ${code.textContent}`);
  }
  if (english) {
    const han = /[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]/;
    const userContent = el => { const l = el.closest('[lang]'); return l && l.lang.toLowerCase().startsWith('zh'); };
    const seen = new Set();
    // Chinese quoted in English (“物业费”, an example search) is a mention, not interface text.
    const unquoted = text => text.replace(/[“"][^”"]*[”"]/g, '');
    const report = (el, text) => {
      const t = text.trim().slice(0, 40);
      if (!seen.has(t)) { seen.add(t); problems.push(`Chinese interface text in <${el.tagName.toLowerCase()}>: ${t}`); }
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode, el = node.parentElement;
      if (!han.test(unquoted(node.nodeValue)) || el.closest('script,style,noscript,template')) continue;
      if (!userContent(el)) report(el, node.nodeValue);
    }
    for (const el of document.body.querySelectorAll('[title],[aria-label],[placeholder],[alt],input[type=submit][value]')) {
      for (const name of ['title', 'aria-label', 'placeholder', 'alt', 'value']) {
        const value = el.getAttribute(name);
        if (value && han.test(unquoted(value)) && !userContent(el) && (name !== 'value' || el.type === 'submit')) report(el, `${name}="${value}"`);
      }
    }
  }
  return problems;
}
"""

_axe = Axe()


@dataclass
class PageReport:
    """What one page showed in one viewport and language."""

    role: str
    url: str
    problems: list[str] = field(default_factory=list)


def check_page(page, *, english: bool, axe: bool = True) -> list[str]:
    """The problems on the loaded page: layout, language and axe's serious/critical findings."""
    problems = list(page.evaluate(CHECKS_JS, english))
    if axe:
        results = _axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = ", ".join(str(n["target"]) for n in violation["nodes"][:3])
                problems.append(f"axe {violation['impact']}: {violation['id']} ({targets})")
    return problems


def sign_in(browser, site: str, role: str, *, viewport: dict, english: bool, logins=None):
    """A browser context for `role` (signed in through the form unless a visitor)."""
    locale = "en-GB" if english else "zh-CN"
    context = browser.new_context(viewport=viewport, locale=locale)
    if english:
        host = re.sub(r"^https?://", "", site).split(":")[0]
        context.add_cookies([{"name": "lang", "value": "en", "domain": host, "path": "/"}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    login = (logins or DEMO_LOGINS)[role]
    if login:
        page.goto(f"{site}/login")
        page.fill("input[name=email]", login[0])
        page.fill("input[name=password]", login[1])
        page.click("form.form [type=submit]")
        page.wait_for_load_state()
        if "/login" in page.url:
            raise AssertionError(f"{role} could not sign in: {page.inner_text('main')[:300]}")
    return context, page


def visit_urls(page, site: str, visits: Iterable[Visit]) -> Iterable[str]:
    """Load each visit's page (following its link when it has one); yield the URL loaded."""
    for visit in visits:
        page.goto(site + visit.path)
        for selector in filter(None, (visit.link, visit.then)):
            link = page.locator(selector).first
            if link.count() == 0:
                raise AssertionError(f"no {selector} on {page.url.removeprefix(site)}")
            page.goto(site + link.get_attribute("href"))
        page.wait_for_load_state()
        yield page.url


def run_pass(
    browser,
    site: str,
    *,
    viewport: dict,
    english: bool,
    short: bool,
    axe: bool = True,
    roles: Iterable[str] = PAGES,
    logins: dict | None = None,
    progress: Callable[[PageReport], None] | None = None,
) -> list[PageReport]:
    """Every page (or the short list) of every role at `viewport`; a report per page."""
    reports = []
    for role in roles:
        visits = [v for v in PAGES[role] if v.short or not short]
        context, page = sign_in(
            browser, site, role, viewport=viewport, english=english, logins=logins
        )
        try:
            for url in visit_urls(page, site, visits):
                report = PageReport(role, url.removeprefix(site))
                report.problems = check_page(page, english=english, axe=axe)
                reports.append(report)
                if progress:
                    progress(report)
        finally:
            context.close()
    return reports
