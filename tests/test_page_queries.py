"""SQL statements per public page: a fixed number, whatever the page lists (no N+1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, unit
from sqlalchemy import event

from board.extensions import db
from board.messages import services as msg
from board.models import Role

# The most statements each page may issue when rendered (cache off). Raising a number needs a
# reason in the commit: each statement is paid on every cache miss, on every node.
BUDGET = {
    # +1 on the home, region and board pages: the hot issues' messages of the last 90 days (one
    # statement, reused for STATS_REUSE_SECONDS in production; 0 here, so counted each time).
    # The home counters are one read of the counts per day (board/stats/daily.py), not six
    # counts over the message and reply tables.
    "/": 15,
    "/leaders": 2,
    "/leaders?region=330000": 4,
    "/regions/330000": 15,
    "/regions/330100": 16,
    "/boards/330100-secretary": 13,
    "/units/330100-zj": 12,
    # +1 on the message page: the messages linked to or merged with it (one statement); +1 on
    # the search page: the first-level topics' names for its filter and facet (one statement).
    "/m/{code}": 12,
    "/search?q=%E5%81%9C%E8%BD%A6": 7,
    "/rankings": 2,
    "/reports": 1,
    "/feeds/replies.atom": 5,
    "/feeds/messages.atom": 9,
}


def _statements(app, client, url: str) -> int:
    """How many SQL statements one anonymous request for `url` sends (page cache off)."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    app.extensions["page_cache"] = None
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen)


@pytest.fixture
def answered(make_message, make_user, coordinator):
    """Factory: a public message by its own author, answered by a handler of `unit_code`."""
    made = iter(range(1000))

    def make(unit_code: str):
        n = next(made)
        author = make_user(Role.CITIZEN, pen_name=f"居民{n}", real_name=f"居民真名{n}")
        m = make_message("received", author=author, title=f"第{n}个小区停车难的问题")
        handler = make_user(Role.HANDLER, unit_code=unit_code)
        later = T0 + timedelta(hours=2 + n)
        msg.assign_message(m, unit(unit_code), coordinator, now=later)
        msg.accept_message(m, handler, now=later + timedelta(minutes=10))
        msg.reply_message(
            m,
            handler,
            body=f"已协调第{n}个小区增设停车位，本月完成。",
            now=later + timedelta(hours=1),
        )
        msg.sign_off_reply(m, coordinator, now=later + timedelta(hours=2))
        return m

    return make


@pytest.mark.inline_index
def test_public_pages_send_as_many_statements_with_many_rows_as_with_few(
    app, client, answered, make_message
):
    """Each public page sends the same number of statements whether its lists hold one message
    or many with different authors, units and replies, and no more than its budget."""
    first = answered("330100-zj")
    make_message("received")
    few = {url: _statements(app, client, url.format(code=first.code)) for url in BUDGET}
    for unit_code in ("330100-jt", "330100-zj", "330100-jt", "330100-zj", "330100-jt"):
        answered(unit_code)
    busy = answered("330100-zj")
    many = {url: _statements(app, client, url.format(code=busy.code)) for url in BUDGET}
    grew = {url: (few[url], many[url]) for url in BUDGET if many[url] != few[url]}
    assert not grew, f"statements grow with the rows listed (N+1): {grew}"
    over = {url: (many[url], BUDGET[url]) for url in BUDGET if many[url] > BUDGET[url]}
    assert not over, f"more statements than budgeted: {over}"
