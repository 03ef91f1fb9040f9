"""Bearer tokens for the API: `Authorization: Bearer TOKEN` names the caller, or nobody."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.services import user_for_token
from ..clock import utcnow
from ..errors import BoardError
from ..models import User


class Unauthorized(
    BoardError,
    status=401,
    code="unauthorized",
    default=_l("需要有效的 API 令牌（Authorization: Bearer TOKEN）。"),
):
    """No token where one is needed, or a token that is unknown or revoked."""


class InvalidToken(Unauthorized, code="invalid_token", default=_l("API 令牌无效或已被吊销。")):
    """A token was sent but it is unknown, revoked, or its account is disabled."""


def authenticate_request() -> None:
    """Resolve the bearer token of this request once; a bad token is a 401 for every route."""
    g.api_user = None
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken(_("Authorization 头应为 “Bearer TOKEN”。"))
    user = user_for_token(token, now=utcnow())
    if user is None:
        raise InvalidToken()
    g.api_user = user


def api_user() -> User | None:
    """The caller named by this request's bearer token, or None without one."""
    return g.get("api_user")


def require_user() -> User:
    """The caller, who must have sent a valid token (every write needs one)."""
    user = api_user()
    if user is None:
        raise Unauthorized()
    return user
