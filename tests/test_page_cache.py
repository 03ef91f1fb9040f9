"""The page cache: fresh after every change, never personal, in each worker's memory or Redis."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import redis
from conftest import T0, login, make_test_app, prepare_database
from sqlalchemy import text

from board import cache
from board.cache.store import MemoryStore, RedisStore
from board.config import DefaultConfig
from board.extensions import db
from board.messages import services as msg

REDIS_URL = "redis://127.0.0.1:6379/0"
BOARD_PAGE = "/boards/330100-secretary"


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip("no Redis server reachable at 127.0.0.1:6379")


@pytest.fixture(params=["memory", "redis"])
def backend(request) -> str:
    """The page cache setting: the embedded default, or Redis."""
    if request.param == "redis":
        _redis_or_skip()
        return REDIS_URL
    return request.param


@pytest.fixture
def app(database, tmp_path, backend, request):
    """The conftest app with the page cache on in the backend under test (emptied first)."""
    app = make_test_app(database, tmp_path, PAGE_CACHE=backend)
    with app.app_context():
        prepare_database(app, database, request)
        app.extensions["page_cache"].clear()
        yield app
        app.extensions["page_cache"].clear()
        db.session.remove()
        db.engine.dispose()


def _get(client, url: str, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _reply_and_sign_off(m, handler, coordinator, body: str):
    msg.reply_message(m, handler, body=body, now=T0 + timedelta(days=3))
    msg.sign_off_reply(m, coordinator, now=T0 + timedelta(days=3, hours=1))


def test_the_embedded_default_is_each_workers_memory_and_needs_no_service(database, tmp_path):
    """Out of the box pages are kept in the worker's own memory: no Redis, no other service."""
    assert DefaultConfig.PAGE_CACHE == "memory"
    app = make_test_app(database, tmp_path)
    assert isinstance(app.extensions["page_cache"], MemoryStore)
    assert isinstance(
        make_test_app(database, tmp_path, PAGE_CACHE=REDIS_URL).extensions["page_cache"],
        RedisStore,
    )
    assert make_test_app(database, tmp_path, PAGE_CACHE="off").extensions["page_cache"] is None


def test_a_visitors_second_request_is_served_from_the_cache(client, make_message):
    """Public pages are stored for visitors: the second request does not render again."""
    m = make_message("replied")
    for url in ("/", BOARD_PAGE, f"/m/{m.code}", "/regions/330100", "/feeds/replies.atom"):
        first = _get(client, url)
        again = _get(client, url)
        assert first.headers["X-Page-Cache"] == "miss"
        assert again.headers["X-Page-Cache"] == "hit"
        assert again.data == first.data
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert "Set-Cookie" not in again.headers
        assert again.headers["Content-Security-Policy"]  # security headers on hits too


def test_a_new_reply_appears_on_its_message_and_board_page_at_once(
    client, make_message, handler, coordinator
):
    """No staleness for workflow changes: the commit that publishes a reply changes the key."""
    m = make_message("in_progress")
    answer = "经现场核查，路灯线路老化，已于本周更换全部灯具。"
    for url in (f"/m/{m.code}", BOARD_PAGE):
        _get(client, url)
        assert _get(client, url).headers["X-Page-Cache"] == "hit"
        assert answer not in _get(client, url).get_data(as_text=True)
    _reply_and_sign_off(m, handler, coordinator, answer)
    for url in (f"/m/{m.code}", BOARD_PAGE):
        page = _get(client, url)
        assert page.headers["X-Page-Cache"] == "miss"
        assert answer in page.get_data(as_text=True)


def test_a_hidden_message_leaves_every_cached_page_at_once(client, make_message, moderator):
    """Moderation takes effect on the next request, not when a cached copy expires."""
    m = make_message("received", title="楼道堆放杂物无人清理")
    for url in ("/", BOARD_PAGE):
        assert "楼道堆放杂物" in _get(client, url).get_data(as_text=True)
        assert _get(client, url).headers["X-Page-Cache"] == "hit"
    msg.hide_message(m, moderator, reason="hide:privacy_leak", now=T0 + timedelta(days=1))
    for url in ("/", BOARD_PAGE):
        assert "楼道堆放杂物" not in _get(client, url).get_data(as_text=True)
    assert client.get(f"/m/{m.code}").status_code == 410


def test_another_worker_sees_a_change_made_through_a_different_worker(
    app, database, tmp_path, backend, make_message, handler, coordinator
):
    """Two workers (two apps, two caches when in memory) share only the database: a page stored
    by one is not served by it after the other committed a change."""
    m = make_message("in_progress")
    other = make_test_app(database, tmp_path, PAGE_CACHE=backend)
    with other.app_context():
        reader = other.test_client()
        _get(reader, f"/m/{m.code}")
        assert _get(reader, f"/m/{m.code}").headers["X-Page-Cache"] == "hit"
    _reply_and_sign_off(m, handler, coordinator, "已协调供电部门完成线路检修。")
    with other.app_context():
        page = _get(reader, f"/m/{m.code}")
        assert "已协调供电部门完成线路检修" in page.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_raw_statements_and_bulk_updates_change_the_version(app, make_message):
    """Writes that load no objects (update(), text()) count as changes too."""
    from board import cache as page_cache

    make_message("received")
    before = page_cache.versions.current()
    db.session.execute(text("UPDATE message SET cosign_count = cosign_count + 1"))
    db.session.commit()
    assert page_cache.versions.current() != before
    unchanged = page_cache.versions.current()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert page_cache.versions.current() == unchanged


def test_private_rows_leave_the_public_pages_cached(app, make_message, citizen, admin):
    """A follow, a saved search or an admin change-log row shows on no public page: the cached
    pages stay valid (a real change, like a co-sign count, still moves the version)."""
    from board import cache as page_cache
    from board.audit import record_change
    from board.follow import services as follow

    m = make_message("received")
    m.visibility = "public"
    db.session.commit()
    unchanged = page_cache.versions.current()
    follow.follow_message(m, citizen, now=datetime(2026, 3, 2, 9, 0))
    follow.save_search(citizen, {"q": "路灯"}, name="", now=datetime(2026, 3, 2, 9, 0))
    record_change(
        admin,
        "user.role",
        "user:1",
        {"role": "citizen"},
        {"role": "handler"},
        now=datetime(2026, 3, 2, 9, 0),
    )
    db.session.commit()
    assert page_cache.versions.current() == unchanged
    db.session.execute(text("UPDATE message SET cosign_count = cosign_count + 1"))
    db.session.commit()
    assert page_cache.versions.current() != unchanged


def _who(page: str) -> list[str]:
    return re.findall(r'class="who">([^<]*)<', page)


def test_a_signed_in_users_page_is_never_stored_or_served_to_a_visitor(
    app, client, make_message, citizen
):
    """What a signed-in user sees (their name, their links) never reaches anyone else, and a
    visitor's stored page is never served to a signed-in user."""
    m = make_message("replied")
    visitor = app.test_client()
    for url in ("/", f"/m/{m.code}", BOARD_PAGE):
        assert _get(visitor, url).headers["X-Page-Cache"] == "miss"  # stored for visitors
    login(client, citizen)
    for url in ("/", f"/m/{m.code}", BOARD_PAGE):
        mine = _get(client, url)
        assert "X-Page-Cache" not in mine.headers
        assert _who(mine.get_data(as_text=True))[0].startswith("陈明 · ")
        theirs = _get(visitor, url)
        assert theirs.headers["X-Page-Cache"] == "hit"
        assert "陈明 ·" not in theirs.get_data(as_text=True)
        assert _who(theirs.get_data(as_text=True)) == []


def test_a_staff_members_view_of_a_private_message_is_never_served_to_a_visitor(
    app, client, make_message, moderator
):
    """Staff may read a private message; a visitor asking for it afterwards gets 404, not a copy."""
    m = make_message("received", wants_public=False, title="家中老人医保报销遇到困难")
    login(client, moderator)
    staff_page = _get(client, f"/m/{m.code}")
    assert "家中老人医保报销" in staff_page.get_data(as_text=True)
    assert "X-Page-Cache" not in staff_page.headers
    visitor = app.test_client()
    assert visitor.get(f"/m/{m.code}").status_code == 404
    assert "家中老人医保报销" not in _get(visitor, "/").get_data(as_text=True)


def test_a_page_that_made_a_csrf_token_or_a_cookie_is_not_stored(app, monkeypatch, directory):
    """If a visitor's page ever carries a CSRF token (here: the login form, made cacheable for
    the test) it sets the session cookie, and neither is stored for the next visitor."""
    app.config["WTF_CSRF_ENABLED"] = True
    monkeypatch.setattr(cache, "PUBLIC_ENDPOINTS", cache.PUBLIC_ENDPOINTS | {"auth.login"})
    tokens = []
    for _ in range(2):
        page = _get(app.test_client(), "/login")
        assert "Set-Cookie" in page.headers
        assert page.headers.get("X-Page-Cache") != "hit"
        tokens += re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_a_visitor_with_a_pending_flash_message_gets_a_fresh_page(app, client, directory):
    """A flash message belongs to one visitor's session: their page is rendered, not shared."""
    _get(app.test_client(), "/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "只给这位访客看的提示")]
    page = _get(client, "/")
    assert "只给这位访客看的提示" in page.get_data(as_text=True)
    assert page.headers.get("X-Page-Cache") is None  # not even looked up
    assert "只给这位访客看的提示" not in _get(app.test_client(), "/").get_data(as_text=True)


def test_each_language_is_stored_apart(app, directory):
    """An English visitor never gets the Chinese page stored a moment before, nor the reverse."""
    chinese = _get(app.test_client(), "/").get_data(as_text=True)
    english_client = app.test_client()
    english_client.set_cookie("lang", "en", domain="localhost")
    english = _get(english_client, "/").get_data(as_text=True)
    assert english != chinese
    assert 'lang="en"' in english
    assert _get(app.test_client(), "/").get_data(as_text=True) == chinese


def test_conditional_get_answers_304_until_the_page_changes(
    client, make_message, handler, coordinator
):
    """Browsers revalidate with the ETag: 304 while the page is the same, 200 once it changed."""
    m = make_message("in_progress")
    first = _get(client, f"/m/{m.code}")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in first.headers["Vary"]
    assert client.get(f"/m/{m.code}", headers={"If-None-Match": etag}).status_code == 304
    _reply_and_sign_off(m, handler, coordinator, "已联系物业公司，约定本月内完成整改。")
    again = client.get(f"/m/{m.code}", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag


def test_pages_expire_after_the_documented_seconds(app, client, make_message, monkeypatch):
    """What depends on the clock alone is at most PAGE_CACHE_SECONDS old."""
    import time as real_time

    make_message("received")
    _get(client, "/")
    assert _get(client, "/").headers["X-Page-Cache"] == "hit"
    if isinstance(app.extensions["page_cache"], RedisStore):
        key = next(app.extensions["page_cache"].client.scan_iter("minsheng:page:*"))
        ttl_ms = app.extensions["page_cache"].client.pttl(key)
        assert 0 < ttl_ms <= app.config["PAGE_CACHE_SECONDS"] * 1000
        return
    later = real_time.monotonic() + app.config["PAGE_CACHE_SECONDS"] + 1
    monkeypatch.setattr("board.cache.store.time.monotonic", lambda: later)
    assert _get(client, "/").headers["X-Page-Cache"] == "miss"


def test_static_files_have_versioned_urls_cached_for_a_year(client, directory):
    """Stylesheets are linked with a content version and may be kept by browsers for a year."""
    page = _get(client, "/").get_data(as_text=True)
    href = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page).group(1)
    response = _get(client, href)
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public
    stale = _get(client, "/static/css/site.css?v=000000000000")
    assert stale.cache_control.max_age != 365 * 24 * 3600


def _figure(page: str, name: str) -> int:
    return int(re.search(rf'data-figure="{name}">(\d+)<', page).group(1))


def test_figures_lag_at_most_the_documented_seconds_while_the_list_is_current(
    app, client, make_message, handler, coordinator, monkeypatch
):
    """A board's figures may be STATS_REUSE_SECONDS old when its page is rendered (and that page
    is stored up to PAGE_CACHE_SECONDS more); the messages it lists are never stale."""
    import time as real_time

    app.config["STATS_REUSE_SECONDS"] = 60
    m = make_message("in_progress")
    page = _get(client, BOARD_PAGE).get_data(as_text=True)
    assert _figure(page, "replied") == 0
    _reply_and_sign_off(m, handler, coordinator, "已督促街道在两周内修复破损路面。")
    page = _get(client, BOARD_PAGE).get_data(as_text=True)
    assert "已督促街道在两周内修复破损路面" in page  # the list: at once
    assert _figure(page, "replied") == 0  # the figure: reused, within the bound
    later = real_time.monotonic() + 61
    monkeypatch.setattr("board.cache.store.time.monotonic", lambda: later)
    # The stored page expires by then too (Redis counts its own seconds: drop it by hand).
    app.extensions["page_cache"].clear()
    assert _figure(_get(client, BOARD_PAGE).get_data(as_text=True), "replied") == 1
