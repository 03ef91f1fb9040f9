"""Sessions, the user loader, rate limits and the strict headers every response carries."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from flask import Flask, g, make_response, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import select

from .clock import local_text, utcnow
from .errors import BoardError
from .extensions import db, limiter, login_manager
from .models import User

# Rate limits (DESIGN §7), applied by decorators on the views. Counters live in
# RATELIMIT_STORAGE_URI (memory:// by default, redis://… so several workers share them).
POST_PER_USER = "10 per hour"  # new messages per account, web and API together
POST_PER_IP = "30 per hour"  # new messages per address, web and API together
COSIGN_PER_USER = "60 per hour"
COSIGN_PER_IP = "60 per hour"
LOGIN_PER_IP = "10 per minute"
REGISTER_PER_IP = "5 per hour"
SEARCH_PER_IP = "60 per minute"
API_WRITE_PER_ACCOUNT = "120 per hour"  # other API writes, per account behind the token

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'; frame-ancestors 'none'"
)


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Load the session's user; a stale session version (password changed) signs them out."""
    try:
        user_id, version = (int(part) for part in identity.split(":", 1))
    except ValueError:
        return None
    user = db.session.scalar(select(User).where(User.id == user_id))
    if user is None or user.session_version != version or not user.is_active:
        return None
    # Each signed-in browser has a session row (board/auth): one signed out from the sessions
    # list, or a cookie from before rows existed, is no longer signed in.
    from .auth import services as accounts

    row = accounts.live_session(user, session.get("sid"))
    if row is None:
        return None
    accounts.touch_session(row, now=utcnow())
    return user


def ip_key() -> str:
    """Rate-limit key: the client's address."""
    return f"ip:{get_remote_address()}"


def account_key() -> str:
    """Rate-limit key: the signed-in account (session or API token), else the address."""
    api_user = g.get("api_user")
    if api_user is not None:
        return f"user:{api_user.id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return ip_key()


def created_something(response) -> bool:
    """Posting limits count only requests that created something (a redirect or a 201)."""
    return response.status_code in (201, 302, 303)


def _not_api_cosign() -> bool:
    """Exempts every API workflow action but `cosign` from the co-signing limits."""
    return (request.view_args or {}).get("action") != "cosign"


def _both(*decorators):
    """One decorator applying several limits (each counted separately)."""

    def apply(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return apply


def _per_account_and_ip(scope: str, per_account: str, per_ip: str, **options):
    """Two shared limits on `scope`: one counter per account (`scope:account`) and one per
    address (`scope:ip`); `options` (methods, deduct_when, exempt_when) apply to both."""
    return (
        limiter.shared_limit(
            per_account, scope=f"{scope}:account", key_func=account_key, **options
        ),
        limiter.shared_limit(per_ip, scope=f"{scope}:ip", key_func=ip_key, **options),
    )


# Shared limits: one counter for the web form and the API, so neither is a way around the other.
limit_posting = _both(
    *_per_account_and_ip(
        "post-message",
        POST_PER_USER,
        POST_PER_IP,
        methods=["POST"],
        deduct_when=created_something,
    )
)
limit_cosigning = _both(*_per_account_and_ip("cosign", COSIGN_PER_USER, COSIGN_PER_IP))
# Every API write of one account (token) draws on one counter.
limit_api_writes = limiter.shared_limit(
    API_WRITE_PER_ACCOUNT, scope="api-write", key_func=account_key, methods=["POST"]
)
limit_api_actions = _both(
    *_per_account_and_ip("cosign", COSIGN_PER_USER, COSIGN_PER_IP, exempt_when=_not_api_cosign),
    limit_api_writes,
)
limit_search = limiter.limit(SEARCH_PER_IP, key_func=ip_key)
# The search page is served from the page cache (board/cache) before any view runs, so its
# limit cannot be a view decorator: it is checked in a before_request registered ahead of the
# cache lookup, on one counter (a shared scope) whichever way the page is then answered.
limit_search_page = limiter.shared_limit(SEARCH_PER_IP, scope="search-page", key_func=ip_key)


def check_search_page_limit() -> None:
    """Before the page cache: count a search page request against its address's limit."""
    if request.endpoint == "search.search":
        with limit_search_page:
            pass


def retry_after_seconds(retry_at: datetime | float, *, now: datetime | None = None) -> int:
    """Whole seconds until `retry_at` (naive UTC datetime or a Unix timestamp), at least 1."""
    if isinstance(retry_at, datetime):
        seconds = (retry_at - now).total_seconds() if now else 0.0
    else:
        seconds = retry_at - time.time()
    return max(1, math.ceil(seconds))


def rate_limited(error: RateLimitExceeded):
    """The 429 page or JSON error, with Retry-After and the time to try again."""
    from .errors import error_response

    current = limiter.current_limit
    reset_at = current.reset_at if current is not None else time.time() + 60
    seconds = retry_after_seconds(reset_at)
    retry_at = datetime.fromtimestamp(time.time() + seconds, UTC).replace(tzinfo=None)
    message = _(
        "操作过于频繁，请在 %(seconds)d 秒后（北京时间 %(time)s 之后）再试。",
        seconds=seconds,
        time=local_text(retry_at, "%H:%M:%S"),
    )
    response = make_response(*error_response(429, "rate_limited", message))
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    """Configure login, rate-limit answers, cookies and security headers on every response."""
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))
    app.register_error_handler(RateLimitExceeded, rate_limited)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    app.before_request(refuse_nul_characters)
    app.before_request(check_search_page_limit)  # before board.cache's lookup (create_app order)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=()")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


class ControlCharacters(
    BoardError,
    code="control_characters",
    default=_l("提交的内容含有不允许的控制字符（NUL），请删除后重试。"),
):
    """The request carries NUL characters, which no form field may hold (PostgreSQL cannot)."""


def refuse_nul_characters() -> None:
    """Refuse NUL in the path, the query string and form fields with a 400 before any view runs.

    No keyboard types it; it only comes from hostile clients, and PostgreSQL text cannot hold it.
    (The API checks its arguments and JSON bodies field by field instead.)
    """
    if request.path.startswith("/api/"):
        return  # the API checks every value itself (`storable`): 422 with fields, or 404
    values = [request.path]
    values += [part for item in request.args.items(multi=True) for part in item]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [part for item in request.form.items(multi=True) for part in item]
    if any("\x00" in value for value in values):
        raise ControlCharacters()
