"""The page cache: public pages as a visitor sees them, served again until the data changes.

A GET of a public page (PUBLIC_ENDPOINTS) by a visitor who is not signed in and has no pending
flash message is looked up under (data version, language, full URL). The data version
(`versions.current()`, one cheap query) changes in the same transaction as any public change, so
a stored page is never served once the data it shows has changed; pages also expire after
PAGE_CACHE_SECONDS, the bound on what depends on the clock alone (deadlines passing, "this
month") and on the search index catching up. A page is stored only when rendering it touched
nothing personal: status 200, no Set-Cookie, the session unchanged, no CSRF token generated.

Every public page answers with an ETag and `Cache-Control: no-cache` (browsers revalidate and
get 304 Not Modified), `Vary: Cookie, Accept-Language`. Static files carry a version argument
computed from their content (`url_for('static', …)` adds it) and are then cacheable for a year.

PAGE_CACHE: "memory" (default: a byte-bounded LRU in each worker, no extra service), a
redis:// URL (shared by every worker and node), or "off".
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from ..extensions import db
from . import versions
from .store import MemoryStore, Page, Recent, RedisStore

PUBLIC_ENDPOINTS = frozenset(
    {
        "directory.home",
        "directory.leaders",
        "directory.region",
        "directory.board",
        "directory.unit",
        "messages.show",
        "search.search",
        "opendata.rankings",
        "opendata.report",
        "opendata.replies_feed",
        "opendata.messages_feed",
    }
)
STATIC_MAX_AGE = 365 * 24 * 3600


def _store():
    return current_app.extensions.get("page_cache")


def recent(key: tuple, compute):
    """`compute()`, or its value from at most STATS_REUSE_SECONDS ago in this worker, for the
    aggregates of a page (figures, counters, a listing's total) whose cost grows with the data:
    they may lag by that bound, while the messages and replies listed are always current."""
    return current_app.extensions["recent"].get(
        (*key, str(get_locale())), current_app.config["STATS_REUSE_SECONDS"], compute
    )


def _eligible() -> bool:
    """A visitor's plain GET of a public page: nothing in the answer can be personal."""
    return (
        request.method == "GET"
        and request.endpoint in PUBLIC_ENDPOINTS
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def _key(version: str) -> str:
    """The page's identity: data version, language and the full URL (host and query too)."""
    raw = f"{version}|{get_locale()}|{request.url}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _mark_public(response) -> None:
    """Headers of every cacheable public answer: revalidate, and vary by who is asking."""
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Cookie", "Accept-Language"))


def serve_cached():
    """Before a view: answer from the cache when the page is stored for the current version."""
    store = _store()
    if store is None or not _eligible():
        return None
    key = _key(versions.current())
    try:
        page = store.get(key)
    except Exception:  # a cache outage costs speed, never the page
        current_app.logger.warning("page cache: lookup failed", exc_info=True)
        page = None
    if page is None:
        g.page_cache_key = key
        return None
    response = current_app.response_class(page.body, status=page.status, headers=page.headers)
    response.headers["X-Page-Cache"] = "hit"
    return response.make_conditional(request)


def store_page(response):
    """After a view: keep a visitor's public page when nothing personal went into it."""
    key = g.pop("page_cache_key", None)
    if key is None:
        return response
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "csrf_token" in g
        or session.modified
        or "Set-Cookie" in response.headers
        or current_user.is_authenticated
    ):
        return response
    body = response.get_data()
    _mark_public(response)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    headers = [
        (name, value)
        for name, value in response.headers.items()
        if name.lower() not in ("set-cookie", "content-length")
    ]
    page = Page(200, headers, body, response.get_etag()[0])
    try:
        _store().set(key, page, current_app.config["PAGE_CACHE_SECONDS"])
    except Exception:  # a cache outage costs speed, never the page
        current_app.logger.warning("page cache: store failed", exc_info=True)
    response.headers["X-Page-Cache"] = "miss"
    return response.make_conditional(request)


@lru_cache(maxsize=512)
def _file_version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _static_version(app: Flask, filename: str) -> str | None:
    path = Path(app.static_folder) / filename
    try:
        return _file_version(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


def init_app(app: Flask) -> None:
    """Choose the store, keep the content version, register the lookup and static headers."""
    setting = str(app.config["PAGE_CACHE"] or "off")
    if setting == "off":
        store = None
    elif setting == "memory":
        store = MemoryStore(int(app.config["PAGE_CACHE_MEMORY_MB"]) * 2**20)
    elif setting.startswith(("redis://", "rediss://", "unix://")):
        # One namespace per database: two sites (or test databases) sharing a Redis never mix.
        site = hashlib.sha256(app.config["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
        store = RedisStore(setting, prefix=f"minsheng:page:{site}:")
    else:
        raise ValueError(f"PAGE_CACHE must be memory, off or a redis:// URL, not {setting!r}")
    app.extensions["page_cache"] = store
    app.extensions["recent"] = Recent()
    versions.install(db.session.session_factory.class_)
    app.before_request(serve_cached)
    app.after_request(store_page)

    @app.url_defaults
    def _version_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = _static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _static_headers(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            version = request.args.get("v")
            if version and version == _static_version(app, request.view_args["filename"]):
                response.cache_control.public = True
                response.cache_control.max_age = STATIC_MAX_AGE
                response.cache_control.immutable = True
        return response
