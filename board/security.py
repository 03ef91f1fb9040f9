"""Sessions, the user loader and the strict headers every response carries."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db, login_manager
from .models import User

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
    return user


def init_app(app: Flask) -> None:
    """Configure login and add security headers to every response."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

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
